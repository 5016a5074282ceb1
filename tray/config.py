"""Where things live: folders for data, config and logs, and the service endpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

__all__ = [
    "ANTHROPIC_BASE_URL_ENV",
    "APP_NAME",
    "DAYTONA_API_URL_ENV",
    "DEFAULT_ANTHROPIC_BASE_URL",
    "DEFAULT_DAYTONA_API_URL",
    "anthropic_base_url",
    "config_dir",
    "data_dir",
    "daytona_api_url",
    "log_dir",
    "read_setting",
    "settings_path",
    "write_setting",
]

APP_NAME = "multishot"
ANTHROPIC_BASE_URL_ENV = "ANTHROPIC_BASE_URL"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DAYTONA_API_URL_ENV = "DAYTONA_API_URL"
DEFAULT_DAYTONA_API_URL = "https://app.daytona.io/api"


def anthropic_base_url() -> str:
    return (os.environ.get(ANTHROPIC_BASE_URL_ENV) or DEFAULT_ANTHROPIC_BASE_URL).rstrip("/")


def daytona_api_url() -> str:
    return (os.environ.get(DAYTONA_API_URL_ENV) or DEFAULT_DAYTONA_API_URL).rstrip("/")


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def settings_path() -> Path:
    """Choices the app remembers between sessions (never a secret): one small JSON object."""
    return config_dir() / "settings.json"


def read_setting(name: str) -> str | None:
    """A remembered choice; None when it was never made or the file cannot be read."""
    try:
        value = json.loads(settings_path().read_text(encoding="utf-8")).get(name)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def write_setting(name: str, value: str) -> None:
    """Remember a choice (replacing the file whole, so a crash never leaves half of it)."""
    path = settings_path()
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = {}
    if not isinstance(settings, dict):
        settings = {}
    settings[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    temporary.replace(path)
