"""Multishot: parallel Claude Code attempts in Daytona sandboxes, from the system tray."""

__version__ = "0.1.0"
