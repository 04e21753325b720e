"""The one engine factory. Built on demand, never at import time.

SQLite files are created 0600 before SQLAlchemy touches them (they hold PHI), run in WAL
with synchronous=NORMAL (3,700 vs 611 commits/s here, see PERF_NOTES) and foreign keys on.
A postgresql+psycopg:// URL goes through exactly the same code path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, col, create_engine, select

from uq.errors import StoreError
from uq.paths import ensure_private_dir
from uq.store import tables

SCHEMA_VERSION = 1
AUDIT_HEAD_KEY = "audit_head"  # {"hash": last entry hash, "count": entries}: see repo.Tx._audit_head


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _prepare_sqlite_file(path: Path) -> None:
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Engine for a URL; creates the SQLite file 0600 first. Does not create tables."""
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


def init_schema(engine: Engine) -> None:
    """Create missing tables and record the schema version (the `uq db upgrade` path)."""
    try:
        SQLModel.metadata.create_all(engine, tables=_all_tables())
        with Session(engine) as s:
            row = s.get(tables.MetaRow, "schema_version")
            if row is None:
                s.add(tables.MetaRow(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(row.value) > SCHEMA_VERSION:
                raise StoreError(f"database schema {row.value} is newer than this uq ({SCHEMA_VERSION}): upgrade uq")
            else:
                row.value = str(SCHEMA_VERSION)
            if s.get(tables.MetaRow, AUDIT_HEAD_KEY) is None:
                # the audit chain's head row exists before any writer needs to lock it
                last = s.exec(select(tables.AuditRow.hash).order_by(col(tables.AuditRow.id).desc()).limit(1)).first()
                count = s.exec(select(func.count()).select_from(tables.AuditRow)).one()
                head = json.dumps({"hash": last or "", "count": int(count)})
                s.add(tables.MetaRow(key=AUDIT_HEAD_KEY, value=head))
            s.commit()
    except OperationalError as exc:
        raise StoreError(f"database unreachable: {_short(exc)}") from None
    path = sqlite_path(str(engine.url))
    if path is not None:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p.exists():
                os.chmod(p, 0o600)


def schema_version(engine: Engine) -> int | None:
    if not inspect(engine).has_table("uq_meta"):
        return None
    with Session(engine) as s:
        row = s.exec(select(tables.MetaRow).where(tables.MetaRow.key == "schema_version")).first()
        return int(row.value) if row else None


def _all_tables() -> list[Any]:
    models: list[Any] = [
        tables.MetaRow,
        tables.CaseRow,
        tables.RawMessageRow,
        tables.AttachmentRow,
        tables.DecisionRow,
        tables.CallAttemptRow,
        tables.OutboxRow,
        tables.SyncCursorRow,
        tables.AuditRow,
    ]
    return [m.__table__ for m in models]


def _short(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__
