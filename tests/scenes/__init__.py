"""Every window in its normal and error states, as scenes for `scripts/screenshots`
(and for the tests that check each one builds at 1x and 2x, light and dark).

A scene is a function that opens one window in one state and returns it, ready to
be captured; it must not need the network or a keychain. Register one with
``@scene("name")`` in a module of this package (one module per window family: a new
module is found without being listed anywhere).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import tkinter as tk
from collections.abc import Callable

__all__ = ["SCENES", "Scene", "load_scenes", "scene"]


@dataclasses.dataclass(frozen=True)
class Scene:
    name: str  # the screenshot's file name, without theme, scale and extension
    build: Callable[[tk.Tk], tk.Misc]  # opens the window on the hidden root, returns it


SCENES: dict[str, Scene] = {}


def scene(name: str) -> Callable[[Callable[[tk.Tk], tk.Misc]], Callable[[tk.Tk], tk.Misc]]:
    def register(build: Callable[[tk.Tk], tk.Misc]) -> Callable[[tk.Tk], tk.Misc]:
        if name in SCENES:
            raise ValueError(f"two scenes are called {name!r}")
        SCENES[name] = Scene(name, build)
        return build

    return register


def load_scenes() -> dict[str, Scene]:
    """Import every module of this package (each registers its scenes)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return SCENES
