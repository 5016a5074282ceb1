#!/usr/bin/env bash
# Build dist/Multishot.app on macOS (menu-bar app: LSUIElement, ad-hoc signed, .icns icon).
# Needs: Python 3.10+ with Tk (python.org installer), then:
#   python3 -m venv .venv-test && .venv-test/bin/pip install -e '.[test]'
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
.venv-test/bin/python -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/multishot.spec
codesign --force --deep --sign - dist/Multishot.app
codesign --verify --verbose dist/Multishot.app
ditto -c -k --keepParent dist/Multishot.app "dist/Multishot-macos.zip"
echo "dist/Multishot.app and dist/Multishot-macos.zip"
