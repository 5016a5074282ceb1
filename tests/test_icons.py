"""The tray icon read on its pixels, as panels show it: 16 to 24 px, light and dark panels."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image

from tray.ui.icons import STATE_COLOURS, IconState, draw_icon, draw_template

SIZES = (16, 22, 24)
PANELS = {"light": (240, 240, 240), "dark": (43, 43, 43)}
STATES = [(IconState.SETUP_NEEDED, 0), (IconState.IDLE, 0), (IconState.RUNNING, 3),
          (IconState.ATTENTION, 0)]  # fmt: skip


def luminance(rgb: tuple[int, ...]) -> float:
    """Relative luminance (WCAG 2)."""

    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def as_shown(icon: Image.Image, size: int, panel: tuple[int, int, int]) -> Image.Image:
    """The icon as a panel of that size and colour shows it (scaled as our backends do)."""
    tile = Image.new("RGBA", (size, size), (*panel, 255))
    tile.alpha_composite(icon.resize((size, size), Image.Resampling.LANCZOS))
    return tile.convert("RGB")


def pixels(image: Image.Image) -> list[tuple[int, ...]]:
    """Every pixel, row by row, as a tuple (one value for a one-band image)."""
    found: list[tuple[int, ...]] = []
    for y in range(image.height):
        for x in range(image.width):
            value = image.getpixel((x, y))
            found.append(tuple(value) if isinstance(value, tuple) else (int(value or 0),))
    return found


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize(("state", "shots"), STATES, ids=lambda v: getattr(v, "name", str(v)))
def test_every_state_stands_out_on_light_and_dark_panels(
    state: IconState, shots: int, panel: str, size: int
) -> None:
    icon = draw_icon(state, shots)
    alpha = pixels(icon.resize((size, size), Image.Resampling.LANCZOS).getchannel("A"))
    shown = pixels(as_shown(icon, size, PANELS[panel]))
    shape = [pixel for pixel, a in zip(shown, alpha, strict=True) if a[0] >= 128]
    assert len(shape) >= 0.4 * size * size  # a solid shape, not a few thin lines
    clear = [pixel for pixel in shape if contrast(pixel, PANELS[panel]) >= 3]
    assert len(clear) >= 0.55 * len(shape), f"{len(clear)} of {len(shape)} pixels stand out"


def test_the_glyph_on_each_shape_has_contrast() -> None:
    for fill, _rim, glyph in STATE_COLOURS.values():
        assert contrast(fill, glyph) >= 3.5


@pytest.mark.parametrize("size", SIZES)
def test_the_states_differ_in_shape_and_lightness_not_only_in_hue(size: int) -> None:
    """Seen in grey (as by someone who does not tell red from green), every two states
    still differ clearly."""
    grey = {
        state: as_shown(draw_icon(state, shots), size, PANELS["light"]).convert("L")
        for state, shots in STATES
    }
    for (a, image_a), (b, image_b) in itertools.combinations(grey.items(), 2):
        differing = sum(
            1
            for p, q in zip(pixels(image_a), pixels(image_b), strict=True)
            if abs(p[0] - q[0]) > 60
        )
        assert differing >= 0.12 * size * size, f"{a.name} and {b.name} look alike at {size} px"


def test_a_two_digit_count_reads_at_22_px() -> None:
    """ "12" at 22 px: two separate digits at least 9 px tall, white on the green circle."""
    shown = as_shown(draw_icon(IconState.RUNNING, 12), 22, PANELS["dark"])
    fill = STATE_COLOURS[IconState.RUNNING][0]
    shown_pixels = pixels(shown)
    ink = {
        (x, y)
        for y in range(22)
        for x in range(22)
        if luminance(shown_pixels[y * 22 + x]) > luminance(fill) + 0.3
    }
    rows = sorted({y for _, y in ink})
    assert rows[-1] - rows[0] + 1 >= 9
    columns = sorted({x for x, _ in ink})
    groups = 1 + sum(1 for a, b in itertools.pairwise(columns) if b - a > 1)
    assert groups == 2, f"the digits run together: columns {columns}"


def test_every_count_looks_different_at_22_px() -> None:
    seen = {as_shown(draw_icon(IconState.RUNNING, n), 22, PANELS["light"]).tobytes()
            for n in range(1, 100)}  # fmt: skip
    assert len(seen) == 99
    assert draw_icon(IconState.RUNNING, 250).tobytes() == draw_icon(IconState.RUNNING, 99).tobytes()


def test_the_mark_is_not_three_bars() -> None:
    """The old mark, three stacked bars, read as a menu ("hamburger"). The new one
    fans out: its rows are not a few solid bands separated by blank ones."""
    mark = draw_template(22).getchannel("A").point(lambda a: 255 if a >= 128 else 0)
    row_ink = [sum(1 for x in range(22) if mark.getpixel((x, y))) for y in range(22)]
    bands = [list(g) for inked, g in itertools.groupby(row_ink, key=bool) if inked]
    assert len(bands) == 1  # one connected figure from top to bottom, not bars
    left_ink = sum(1 for y in range(22) for x in range(8) if mark.getpixel((x, y)))
    right_ink = sum(1 for y in range(22) for x in range(14, 22) if mark.getpixel((x, y)))
    assert right_ink > left_ink  # it spreads out to the right from one point


def test_a_template_is_black_on_transparent() -> None:
    template = draw_template(44)
    colours = {pixel[:3] for pixel in pixels(template) if pixel[3] > 0}
    assert colours == {(0, 0, 0)}
    assert template.getpixel((0, 0)) == (0, 0, 0, 0)
