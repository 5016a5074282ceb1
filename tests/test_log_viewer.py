"""The live log viewer on a real X server: the conversation, folds, find, raw view, following."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tray.ui import style
from tray.ui.log_viewer import LOG_TAIL_BYTES, LogViewer
from tray.ui.widgets import close_window

pytestmark = pytest.mark.usefixtures("display")

RECORDED = ROOT / "tests" / "data" / "claude-code"


def settle(root: tk.Tk) -> None:
    root.update()
    root.update_idletasks()


def shown(viewer: LogViewer) -> str:
    """The text a person sees: folded text left out."""
    text = viewer.text
    return str(text.tk.call(text, "get", "-displaychars", "1.0", "end-1c"))


def tagged(viewer: LogViewer, tag: str) -> list[str]:
    ranges = viewer.text.tag_ranges(tag)
    pairs = zip(ranges[::2], ranges[1::2], strict=True)
    return [viewer.text.get(start, end) for start, end in pairs]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "run" / "shot-1" / "stdout.log"
    path.parent.mkdir(parents=True)
    return path


@pytest.fixture
def viewers(root: tk.Tk) -> Iterator[list[LogViewer]]:
    opened: list[LogViewer] = []
    yield opened
    for viewer in opened:
        if viewer.top.winfo_exists():
            close_window(viewer.top)


def open_viewer(
    root: tk.Tk, viewers: list[LogViewer], path: Path, live: list[bool] | None = None
) -> LogViewer:
    state = live if live is not None else [False]
    viewer = LogViewer(root, path, title="Log: run abc123, shot 1", is_live=lambda: state[0])
    viewers.append(viewer)
    settle(root)
    return viewer


def test_the_conversation_shows_text_and_tool_calls_with_results_folded(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    log.write_text((RECORDED / "tool_write.stream-json.log").read_text())
    viewer = open_viewer(root, viewers, log)
    seen = shown(viewer)
    assert "Claude\nI will write the file.\n" in seen
    assert "▶ Write  /sandbox/work/hello.txt" in seen
    assert "▸ Result: 1 line" in seen
    assert "File created successfully" not in seen  # folded
    assert "✓ Finished: 2 turns, < $0.01, 0.3 s" in seen
    assert '{"type"' not in seen
    assert tagged(viewer, "finished") == ["✓ Finished: 2 turns, < $0.01, 0.3 s\n"]

    head = viewer.text.tag_ranges("fold_head1")[0]
    x, y, _, _ = viewer.text.bbox(head) or (0, 0, 0, 0)
    viewer.text.event_generate("<Motion>", x=x + 2, y=y + 2)  # tag bindings follow the pointer
    viewer.text.event_generate("<Button-1>", x=x + 2, y=y + 2)
    settle(root)
    assert "▾ Result: 1 line\nFile created successfully" in shown(viewer)
    viewer.toggle_fold(1)
    assert "File created successfully" not in shown(viewer)


def test_errors_are_highlighted_in_the_palettes_error_colour(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    log.write_text((RECORDED / "overloaded.stream-json.log").read_text())
    viewer = open_viewer(root, viewers, log)
    errors = "".join(tagged(viewer, "error"))
    assert "↻ API error 529 (overloaded): retry 1 of 2" in errors
    assert "⚠ API Error: 529 Overloaded." in errors
    assert "✗ Ended with an error (API 529)" in errors
    assert viewer.text.tag_cget("error", "foreground") == style.palette(root).error
    assert not viewer.following  # a finished shot: read once, no timer
    assert root.tk.call("after", "info") == ""


def test_the_log_is_read_only_and_the_raw_view_is_one_toggle_away(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    content = (RECORDED / "tool_write.stream-json.log").read_text() + "not json at all\n"
    log.write_text(content)
    viewer = open_viewer(root, viewers, log)
    assert viewer.top.focus_lastfor() is viewer.text  # Page Down and the arrows scroll it
    assert str(viewer.text.cget("state")) == "disabled"
    assert str(viewer.text.cget("wrap")) == "word"
    before = viewer.text.get("1.0", "end")
    viewer.text.focus_force()
    viewer.text.event_generate("<Key>", keysym="x")
    viewer.text.event_generate("<Key>", keysym="BackSpace")
    settle(root)
    assert viewer.text.get("1.0", "end") == before
    assert "not json at all\n" in shown(viewer)  # kept as it is, not lost

    viewer.raw.set(True)
    viewer.redraw()
    assert viewer.text.get("1.0", "end-1c") == content
    assert str(viewer.text.cget("wrap")) == "char"
    viewer.raw.set(False)
    viewer.redraw()
    assert viewer.text.get("1.0", "end") == before


def test_find_highlights_every_match_and_steps_through_them_into_folds(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    log.write_text((RECORDED / "tool_write.stream-json.log").read_text())
    viewer = open_viewer(root, viewers, log)
    viewer.top.focus_force()
    settle(root)
    viewer.top.event_generate("<Control-f>")
    settle(root)
    bar = viewer.find_bar
    assert bar.is_open
    bar.query.set("FILE")
    settle(root)
    # "write the file", then twice in the Write tool's folded answer.
    assert [viewer.text.get(start, end) for start, end in bar.matches] == ["file", "File", "file"]
    assert str(bar.count.cget("text")) == "1 of 3"
    assert tagged(viewer, "current_match") == ["file"]
    bar.entry.event_generate("<Return>")
    settle(root)
    assert str(bar.count.cget("text")) == "2 of 3"
    assert "File created successfully" in shown(viewer)  # its fold opened to show it
    bar.entry.event_generate("<Shift-Return>")
    assert str(bar.count.cget("text")) == "1 of 3"
    bar.query.set("nowhere to be found")
    assert str(bar.count.cget("text")) == "No matches"
    bar.entry.event_generate("<Escape>")  # closes the bar, not the window
    settle(root)
    assert not bar.is_open
    assert viewer.top.winfo_exists()
    assert tagged(viewer, "match") == []


def test_a_live_log_is_followed_unless_scrolled_up_and_the_timer_stops_with_the_shot(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    lines = (RECORDED / "tool_write.stream-json.log").read_text().splitlines(keepends=True)
    log.write_text(lines[0])
    live = [True]
    viewer = open_viewer(root, viewers, log, live)
    assert viewer.following
    assert str(viewer.status.cget("text")) == "Following the live log"
    for number in range(60):  # enough lines to scroll
        with log.open("a") as handle:
            handle.write(f"step {number}\n")
    viewer._follow()
    settle(root)
    assert "step 59" in shown(viewer)
    assert viewer.text.yview()[1] == 1.0  # at the end: it followed

    viewer.text.yview_moveto(0)
    settle(root)
    with log.open("a") as handle:
        handle.write("".join(lines[1:3])[:-20])  # half a line: not shown until complete
    viewer._follow()
    settle(root)
    assert viewer.text.yview()[0] == 0.0  # the reader scrolled up: left where it is
    assert "I will write the file." in shown(viewer)
    assert "▶ Write" not in shown(viewer)

    with log.open("a") as handle:
        handle.write("".join(lines[1:3])[-20:] + "".join(lines[3:]))
    live[0] = False
    viewer._follow()
    settle(root)
    assert "▶ Write  /sandbox/work/hello.txt" in shown(viewer)
    assert "✓ Finished" in shown(viewer)
    assert not viewer.following
    assert root.tk.call("after", "info") == ""
    assert str(viewer.status.cget("text")) == ""


def test_closing_a_live_viewer_stops_its_timer(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    log.write_text("")
    viewer = open_viewer(root, viewers, log, [True])
    assert root.tk.call("after", "info") != ""
    viewer.top.event_generate("<Escape>")
    settle(root)
    assert not viewer.top.winfo_exists()
    assert root.tk.call("after", "info") == ""


def test_a_long_log_shows_its_tail_from_a_whole_line(
    root: tk.Tk, viewers: list[LogViewer], log: Path
) -> None:
    filler = "".join(f"early line {n:06d}\n" for n in range(LOG_TAIL_BYTES // 15))
    log.write_text(filler + (RECORDED / "tool_write.stream-json.log").read_text())
    viewer = open_viewer(root, viewers, log)
    seen = shown(viewer)
    assert seen.startswith("The last 256 KB of the log:\nearly line ")
    assert "✓ Finished" in seen
    second_line = seen.splitlines()[1]
    assert len(second_line) == len("early line 000000")  # no cut line
    viewer.raw.set(True)
    viewer.redraw()
    assert shown(viewer).startswith("The last 256 KB of the log:\n")


def test_an_empty_log_says_so(root: tk.Tk, viewers: list[LogViewer], log: Path) -> None:
    viewer = open_viewer(root, viewers, log)  # the shot wrote nothing, not even a file
    assert str(viewer.status.cget("text")) == "Nothing in this log."
    assert shown(viewer) == ""
