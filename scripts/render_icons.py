"""Render every icon file Multishot ships from the one design in tray/ui/icons.py.

Run: .venv/bin/python scripts/render_icons.py [OUTPUT_DIR]   (default: assets/)
The output is byte-for-byte reproducible; tests/test_assets_autostart.py checks that
the committed files match. It also draws docs/screenshots/tray-icons.png: every state
at the sizes panels use, on a light and a dark panel.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tray.ui.icons import IconState, draw_icon, draw_template

ROOT = Path(__file__).resolve().parent.parent

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
SHEET_SIZES = (16, 22, 24, 32)
PANELS = {"light panel": (240, 240, 240), "dark panel": (43, 43, 43)}
SHEET_STATES = (
    ("setup needed", IconState.SETUP_NEEDED, 0),
    ("idle", IconState.IDLE, 0),
    ("running 3", IconState.RUNNING, 3),
    ("running 12", IconState.RUNNING, 12),
    ("attention", IconState.ATTENTION, 0),
)
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


def contact_sheet(
    zoom: int = 3, draw: Callable[[IconState, int], Image.Image] = draw_icon
) -> Image.Image:
    """Each state (rows) at each panel size on each panel (columns), scaled up ``zoom``
    times without smoothing, so that the pixels a panel shows can be seen."""
    cell, label_width, header = 36, 84, 30
    columns = [(panel, size) for panel in PANELS for size in SHEET_SIZES]
    width = label_width + len(columns) * cell * zoom
    sheet = Image.new("RGB", (width, header + len(SHEET_STATES) * cell * zoom), "white")
    pen = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    for index, (panel, size) in enumerate(columns):
        left = label_width + index * cell * zoom
        caption = f"{size} px" + (f" ({panel})" if size == SHEET_SIZES[0] else "")
        pen.text((left + 4, 8), caption, fill="black", font=font)
    for row, (name, state, shots) in enumerate(SHEET_STATES):
        top = header + row * cell * zoom
        pen.text((4, top + cell * zoom // 2 - 6), name, fill="black", font=font)
        icon = draw(state, shots)
        for index, (panel, size) in enumerate(columns):
            tile = Image.new("RGBA", (cell, cell), (*PANELS[panel], 255))
            scaled = icon.resize((size, size), Image.Resampling.LANCZOS)
            tile.alpha_composite(scaled, ((cell - size) // 2, (cell - size) // 2))
            big = tile.resize((cell * zoom, cell * zoom), Image.Resampling.NEAREST)
            sheet.paste(big.convert("RGB"), (label_width + index * cell * zoom, top))
    return sheet


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "assets"
    for path in render(target):
        print(path)
    if len(sys.argv) == 1:
        sheet_path = ROOT / "docs" / "screenshots" / "tray-icons.png"
        contact_sheet().save(sheet_path, optimize=True)
        print(sheet_path)
