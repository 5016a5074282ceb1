"""A shot's live log in a window."""

from __future__ import annotations

import tkinter as tk
from pathlib import Path

__all__ = ["LOG_POLL_MS", "LOG_TAIL_BYTES", "LogViewer"]

LOG_POLL_MS = 500
LOG_TAIL_BYTES = 256 * 1024


class LogViewer:
    """Follows a shot's log file as it grows."""

    def __init__(self, root: tk.Misc, path: Path) -> None:
        self.path = path
        self.top = tk.Toplevel(root)
        self.top.title(f"Log: {path.parent.parent.name} {path.parent.name}")
        self.text = tk.Text(self.top, width=110, height=30, wrap="none")
        self.text.pack(fill="both", expand=True)
        self.offset = max(0, path.stat().st_size - LOG_TAIL_BYTES) if path.exists() else 0
        self.poll()

    def poll(self) -> None:
        if not self.top.winfo_exists():
            return
        if self.path.exists():
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read(LOG_TAIL_BYTES)
            if data:
                self.offset += len(data)
                self.text.insert("end", data.decode("utf-8", "replace"))
                self.text.see("end")
        self.top.after(LOG_POLL_MS, self.poll)
