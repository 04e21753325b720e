"""The one engine factory. Built on demand, never at import time.

SQLite files are created 0600 before SQLAlchemy touches them (they hold PHI), run in WAL
with synchronous=NORMAL (3,700 vs 611 commits/s here, see PERF_NOTES) and foreign keys on.
A postgresql+psycopg:// URL goes through exactly the same code path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import create_engine

from uq.errors import StoreError
from uq.paths import ensure_private_dir

AUDIT_HEAD_KEY = "audit_head"  # the audit chain's head: see store.audit_chain.Head


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file 0600, and say in one line when uq may not write (or read) it or its
    folder: SQLite would otherwise fail later, somewhere deep, in words about journals."""
    try:
        ensure_private_dir(path.parent)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except PermissionError:
        raise StoreError(_not_allowed(path)) from None
    except OSError as exc:
        raise StoreError(f"database {path}: {exc.strerror or type(exc).__name__}") from None
    os.close(fd)
    os.chmod(path, 0o600)
    if not os.access(path.parent, os.W_OK | os.X_OK):  # the journal (-wal, -shm) lives beside it
        raise StoreError(f"database folder {path.parent} is read-only: uq must write its journal there")


def _not_allowed(path: Path) -> str:
    if not path.exists():
        return f"database folder {path.parent} is not writable: uq cannot create {path.name} there"
    if os.access(path, os.R_OK):
        return f"database {path} is read-only: uq must write to it (check its owner and mode)"
    return f"database {path} cannot be read: permission denied (check its owner and mode)"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Engine for a URL; creates the SQLite file 0600 first. Tables come from uq.store.schema."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a bad port only raises when read
    except (ArgumentError, ValueError):
        raise StoreError("database url is not valid (check database.url)") from None
    path = sqlite_path(url)
    if path is not None:
        _prepare_sqlite_file(path)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.chmod(side, 0o600)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a missing driver, a bad URL
        raise StoreError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from None


def protect_sqlite_files(engine: Engine) -> None:
    """The database and its WAL/SHM side files hold PHI: 0600 whoever created them."""
    path = sqlite_path(str(engine.url))
    if path is not None:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p.exists():
                os.chmod(p, 0o600)


def _short(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__
