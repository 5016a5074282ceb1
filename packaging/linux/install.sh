#!/usr/bin/env bash
# Install the unpacked bundle for the current user: ~/.local, no root needed.
#   ./install.sh            install (or update)
#   ./install.sh --remove   uninstall (run `multishot logout` first to clear the keychain)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${XDG_DATA_HOME:-$HOME/.local/share}
target="$HOME/.local/opt/multishot"
bin="$HOME/.local/bin"
if [ "${1:-}" = "--remove" ]; then
  rm -rf "$target" "$bin/multishot" "$prefix/applications/io.github.multishot.desktop" \
    "$prefix/metainfo/io.github.multishot.metainfo.xml" \
    "${XDG_CONFIG_HOME:-$HOME/.config}/autostart/io.github.multishot.desktop"
  find "$prefix/icons/hicolor" -name multishot.png -delete 2>/dev/null || true
  echo "Multishot removed. Its run history stays in $prefix/multishot (delete it if you like)."
  exit 0
fi
mkdir -p "$target" "$bin" "$prefix/applications" "$prefix/metainfo"
cp -a "$here/." "$target/"
ln -sf "$target/multishot" "$bin/multishot"
cp "$here/io.github.multishot.desktop" "$prefix/applications/"
cp "$here/io.github.multishot.metainfo.xml" "$prefix/metainfo/"
for png in "$here"/icons/multishot-*.png; do
  size=$(basename "$png" .png); size=${size#multishot-}
  mkdir -p "$prefix/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$prefix/icons/hicolor/${size}x${size}/apps/multishot.png"
done
echo "Installed: run 'multishot' (make sure $bin is on your PATH) or start Multishot from the menu."
