"""Where things live: folders for data, config and logs, and the service endpoints."""

from __future__ import annotations

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
