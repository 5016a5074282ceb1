#!/usr/bin/env bash
# Build the Linux bundle: dist/multishot/ (one folder) and dist/multishot-VERSION-linux-ARCH.tar.gz.
# Needs: the test venv with PyInstaller (./scripts/test installs it in .venv-test), Tk in the Python.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv-test/bin/python}
cd "$root"
"$python" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/multishot.spec
bundle=dist/multishot
version=$("$bundle/multishot" --version | awk '{print $2}')  # from tray/__init__.py
cp packaging/linux/io.github.multishot.desktop packaging/linux/install.sh "$bundle/"
sed "s/@VERSION@/$version/" packaging/linux/io.github.multishot.metainfo.xml \
  > "$bundle/io.github.multishot.metainfo.xml"
mkdir -p "$bundle/icons"
cp assets/multishot-*.png "$bundle/icons/"
archive="dist/multishot-$version-linux-$(uname -m).tar.gz"
tar -C dist -czf "$archive" multishot
echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1)), archive: $archive ($(du -sh "$archive" | cut -f1))"
echo "largest parts:"
du -sh "$bundle"/_internal/* | sort -h | tail -6
