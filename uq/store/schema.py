"""Where a database's schema stands, and bringing it to this uq's (Alembic head).

Every open checks the revision (one cheap read, no lock when it is current). A brand-new
empty database is created at head by running the migrations; a database made by the
create_all of the first releases (no alembic_version) is recognised by its columns and
stamped. A database that is behind is refused with one line until `uq db upgrade`, which
backs a SQLite file up first. All schema work happens under one lock per database
(BEGIN IMMEDIATE on SQLite, an advisory transaction lock on PostgreSQL), re-reading the
state after taking it, so processes opening a new store at once create it exactly once.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from uq.errors import StoreError
from uq.store import db, migrations
from uq.store.audit_chain import _AUDIT_T, _META_T, since_now

_PG_LOCK_KEY = 0x75715F736368656D  # "uq_schem": one advisory lock id for schema work
# what create_all made before Alembic came, newest first: (revision, table, a column it added)
_PRE_ALEMBIC = (
    ("0003_outbox_send_once", "outbox", "lease_token"),
    ("0002_pending_mark", "raw_message", "pending_mark"),
)
_RELEASED = "0001_released"


@dataclass(frozen=True)
class SchemaState:
    before: str | None  # None: the database was empty
    after: str
    backup: Path | None = None


def ensure(engine: Engine, *, upgrade: bool = False, create: bool = True) -> SchemaState:
    """Create a new database at head, stamp a pre-Alembic one, refuse (or with `upgrade`,
    apply) pending migrations. Raises StoreError with one line for the user. With
    create=False (`uq doctor`) it only looks: nothing is created or stamped."""
    head = migrations.head()
    try:
        with engine.connect() as conn:
            current, stamped = _revision(conn)
        if current == head and (stamped or not create):
            return SchemaState(before=head, after=head)
        if current is not None and current not in migrations.revisions():
            raise StoreError(f"database schema {current} is newer than this uq (knows up to {head}): upgrade uq")
        if current not in (None, head) and not upgrade:
            raise StoreError(f"database schema {current} is behind this uq ({head}): run `uq db upgrade`")
        if current is None and not create:
            raise StoreError("database has no uq schema: run `uq db upgrade`")
        path = db.sqlite_path(str(engine.url))
        backup = _backup(path, head) if current not in (None, head) and path is not None else None
        with engine.connect() as conn:
            before = _migrate_locked(conn, head)
    except (OperationalError, ProgrammingError) as exc:
        raise StoreError(f"database unreachable: {db._short(exc)}") from None
    db.protect_sqlite_files(engine)
    return SchemaState(before=before, after=head, backup=backup)


def _migrate_locked(conn: Connection, head: str) -> str | None:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # batch migrations copy and swap tables: foreign keys are checked at the end instead
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    try:
        before, stamped = _revision(conn)  # again: another process may have done it meanwhile
        if before != head or not stamped:
            from alembic import command  # only here: importing Alembic slows every start-up

            cfg = migrations.alembic_config(conn)
            if before is not None and not stamped:  # made by create_all: record what it made
                command.stamp(cfg, before)
                conn.execute(text("DELETE FROM uq_meta WHERE key = 'schema_version'"))
            command.upgrade(cfg, "head")
        if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise StoreError("a migration left rows whose foreign keys point nowhere: nothing was changed")
        _ensure_audit_head(conn)
        conn.commit()
    finally:
        conn.rollback()
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    return before


def _versioned(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _revision(conn: Connection) -> tuple[str | None, bool]:
    """The database's revision and whether alembic_version records it: else what a
    pre-Alembic create_all made (told apart by its columns), else None for an empty one."""
    rev = _versioned(conn)
    if rev is not None:
        return rev, True
    insp = inspect(conn)
    if not insp.has_table("case_row"):
        return None, False
    if "part" not in {c["name"] for c in insp.get_columns("attachment")}:
        raise StoreError("database predates uq's first release (attachment bytes inline): start a new one")
    for rev, table, column in _PRE_ALEMBIC:
        if column in {c["name"] for c in insp.get_columns(table)}:
            return rev, False
    return _RELEASED, False


def _ensure_audit_head(conn: Connection) -> None:
    """The audit chain's head row exists before any writer needs to lock it. A chain with
    entries but no head is left so: its head was deleted, and the next writer records that
    in the chain (store.audit_chain) rather than a fresh head hiding it."""
    if conn.execute(select(_META_T.c.key).where(_META_T.c.key == db.AUDIT_HEAD_KEY)).first() is not None:
        return
    if conn.execute(select(func.count()).select_from(_AUDIT_T)).scalar_one():
        return
    head = {"hash": "", "count": 0, "since": since_now(conn)}
    conn.execute(insert(_META_T).values(key=db.AUDIT_HEAD_KEY, value=json.dumps(head)))


def _backup(path: Path, head: str) -> Path:
    """A consistent copy (SQLite's backup API, WAL included), 0600 like the database."""
    target = path.with_name(f"{path.name}.before-{head}.bak")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.before-{head}.{n}.bak")
        n += 1
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    src, dst = sqlite3.connect(path), sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"could not back up {path.name} before upgrading: {exc}") from None
    finally:
        dst.close()
        src.close()
    return target
