# Build dist\multishot\ on Windows: Multishot (windowed, tray app) and multishot-cli (console).
# Needs: Python 3.10+ from python.org (with Tk), then:
#   py -m venv .venv-test; .venv-test\Scripts\pip install -e ".[test]"
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
.venv-test\Scripts\python -m PyInstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\multishot.spec
Compress-Archive -Force -Path dist\multishot -DestinationPath dist\multishot-windows.zip
Write-Output "dist\multishot\multishot.exe (tray), dist\multishot\multishot-cli.exe (terminal), dist\multishot-windows.zip"
