"""Render every icon file Multishot ships from the one design in tray/ui/icons.py.

Run: .venv/bin/python scripts/render_icons.py [OUTPUT_DIR]   (default: assets/)
The output is byte-for-byte reproducible; tests/test_assets.py checks that the
committed files match.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tray.ui.icons import IconState, draw_icon, draw_template

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def render(output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(image: Image.Image, name: str, **options: object) -> None:
        path = output / name
        image.save(path, **options)  # type: ignore[arg-type]
        written.append(path)

    master = draw_icon(IconState.IDLE, size=1024)
    for size in PNG_SIZES:
        save(
            master.resize((size, size), Image.Resampling.LANCZOS),
            f"multishot-{size}.png",
            optimize=True,
        )
    save(master, "multishot.ico", sizes=ICO_SIZES)
    save(master, "multishot.icns")
    for state in IconState:
        name = state.name.lower().replace("_", "-")
        save(
            draw_icon(state, active_shots=3 if state is IconState.RUNNING else 0),
            f"tray-{name}.png",
        )
    save(draw_template(22), "multishotTemplate.png")
    save(draw_template(44), "multishotTemplate@2x.png")
    return written


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parent.parent / "assets"
    )
    for path in render(target):
        print(path)
