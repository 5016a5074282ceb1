"""A Treeview whose cells show their text cut with "…" to the column's width, keeping
the whole text for a tooltip; cut again when the tree or a column is resized."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from tkinter import font as tkfont
from tkinter import ttk

from tray.ui import style

__all__ = ["CutCells"]

CELL_MARGIN = 12  # pixels at 96 dpi that a cell keeps free of text
INDENT = 20  # pixels at 96 dpi per level of the tree, plus its open/close mark


class CutCells:
    """``columns``: the tree's column ids, their headings set; "#0" (the tree column)
    is always one."""

    def __init__(self, tree: ttk.Treeview, columns: Sequence[str]) -> None:
        self.tree = tree
        self.columns = tuple(columns)
        self.whole: dict[tuple[str, str], str] = {}  # (row, column): the text before cutting
        self.font = tkfont.nametofont("TkDefaultFont")
        self.heading_font = tkfont.nametofont("TkHeadingFont")
        # Once idle: the tree sets its columns' widths after it learns its own size.
        # (Scheduled on the root: a callback kept by the tree would die with it.)
        root = tree.nametowidget(".")
        tree.bind("<Configure>", lambda _event: root.after_idle(self._fit_if_open), add="+")
        tree.bind("<ButtonRelease-1>", lambda _event: self.fit_all(), add="+")  # a column dragged

    def set_row(self, iid: str, cells: dict[str, str]) -> None:
        """``cells``: each column's whole text, "#0" included."""
        for column, text in cells.items():
            self.whole[(iid, column)] = text
        self.fit_row(iid)

    def forget(self, iid: str) -> None:
        """Drop what is kept of a row and its children, before the row is deleted."""
        for child in self.tree.get_children(iid):
            self.forget(child)
        for key in [key for key in self.whole if key[0] == iid]:
            del self.whole[key]

    def fit_row(self, iid: str) -> None:
        fitted = {column: self.fit(iid, column) for column in ("#0", *self.columns)}
        self.tree.item(iid, text=fitted.pop("#0"), values=[fitted[c] for c in self.columns])

    def text_width(self, column: str, texts: Iterable[str]) -> int:
        """Room for the column's heading and each of these texts."""
        heading = str(self.tree.heading(column, "text"))
        widest = max([self.heading_font.measure(heading), *map(self.font.measure, texts)])
        return widest + style.wrap(self.tree, CELL_MARGIN)

    def autosize(self, columns: Sequence[str], *, shrink: bool) -> None:
        """Make these columns as wide as their widest text, heading included; the
        columns that stretch get the room this leaves. Without ``shrink`` a column only
        widens (so columns don't jump about as a status changes)."""
        for column in columns:
            texts = [text for (_, name), text in self.whole.items() if name == column]
            width = self.text_width(column, texts)
            if not shrink:
                width = max(width, int(self.tree.column(column, "width")))
            self.tree.column(column, width=width)
        self.fit_all()

    def _fit_if_open(self) -> None:
        if self.tree.winfo_exists():  # the window may have closed before Tk was idle
            self.fit_all()

    def fit_all(self, parent: str = "") -> None:
        for iid in self.tree.get_children(parent):
            self.fit_row(iid)
            self.fit_all(iid)

    def fit(self, iid: str, column: str) -> str:
        """The cell's text, cut with "…" to the column's width."""
        text = self.whole.get((iid, column), "")
        room = int(self.tree.column(column, "width")) - style.wrap(self.tree, CELL_MARGIN)
        if column == "#0":
            room -= style.wrap(self.tree, INDENT) * (self._depth(iid) + 1)
        if self.font.measure(text) <= room:
            return text
        short, long = 0, len(text)  # the longest start that fits with "…"
        while short < long:
            middle = (short + long + 1) // 2
            if self.font.measure(text[:middle] + "…") <= room:
                short = middle
            else:
                long = middle - 1
        return text[:short].rstrip() + "…"

    def _depth(self, iid: str) -> int:
        depth, parent = 0, self.tree.parent(iid)
        while parent:
            depth, parent = depth + 1, self.tree.parent(parent)
        return depth

    def cell_at(self, x: int, y: int) -> tuple[str, str] | None:
        """(row, column id) under a point of the tree."""
        iid, column = self.tree.identify_row(y), self.tree.identify_column(x)
        if not iid or not column:
            return None
        return iid, "#0" if column == "#0" else self.columns[int(column[1:]) - 1]

    def shown(self, iid: str, column: str) -> str:
        return str(self.tree.item(iid, "text") if column == "#0" else self.tree.set(iid, column))

    def cut_text_at(self, x: int, y: int) -> str | None:
        """The whole text of the cell under a point, if it is shown cut."""
        cell = self.cell_at(x, y)
        if cell is None:
            return None
        whole = self.whole.get(cell, "")
        return whole if whole != self.shown(*cell) else None
