"""Where uq keeps its files: one place, so tests can point everything at a temp dir."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir, user_state_dir

APP = "uq"


def config_dir() -> Path:
    return Path(os.environ.get("UQ_CONFIG_DIR") or user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("UQ_DATA_DIR") or user_data_dir(APP))


def cache_dir() -> Path:
    """Rebuildable files (the demo template). Under UQ_DATA_DIR when that is set, so tests
    and sandboxes never write to the user's real cache."""
    if os.environ.get("UQ_DATA_DIR"):
        return data_dir() / "cache"
    return Path(user_cache_dir(APP))


def state_dir() -> Path:
    """The log lives here. Under UQ_DATA_DIR when that is set (tests, sandboxes)."""
    if os.environ.get("UQ_DATA_DIR"):
        return data_dir() / "state"
    return Path(user_state_dir(APP))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'uq.sqlite3'}"


def ensure_private_dir(path: Path) -> Path:
    """Create a directory readable only by the user: it will hold PHI."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
