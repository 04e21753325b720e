"""A ready-made demo database, so `uq demo` shows its queue in well under a second.

Building the demo store means importing SQLAlchemy and ingesting the bundled emails:
~1.7 s here. The first demo run saves its freshly ingested database as a template in the
cache dir; later runs copy it and shift every stored time by (now - the template's
reference time), using only the stdlib sqlite3 driver, so the fast path (store.fastread)
can paint rows while the full store opens in the background. The template is keyed by
uq's version, the demo emails and the table definitions: any change builds a new one.
The audit trail is not carried over (its hash chain covers the times): each demo starts
its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from uq import __version__
from uq.paths import cache_dir, ensure_private_dir

DB_NAME = "demo.sqlite3"
_REF_KEY = "demo_template_ref"
_RECORDED = ("decision", "outbox")  # tables whose rows the audit chain vouches for


def template_path() -> Path:
    h = hashlib.sha256(__version__.encode())
    h.update(resources.files("uq.store").joinpath("tables.py").read_bytes())
    cases = resources.files("uq.demo").joinpath("cases")
    for name in sorted(p.name for p in cases.iterdir() if p.name.endswith(".eml")):
        h.update(name.encode() + cases.joinpath(name).read_bytes())
    return cache_dir() / f"demo-template-{h.hexdigest()[:16]}.sqlite3"


def restore(root: Path, now: datetime) -> bool:
    """Copy the template into `root` with its clocks moved to `now`. False: build it."""
    src = template_path()
    dst = root / DB_NAME
    if not src.is_file():
        return False
    try:
        ensure_private_dir(root)
        fd = os.open(dst, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        shutil.copyfile(src, dst)
        conn = sqlite3.connect(dst)
        try:
            row = conn.execute("SELECT value FROM uq_meta WHERE key = ?", (_REF_KEY,)).fetchone()
            if row is None:
                raise sqlite3.DatabaseError("template without a reference time")
            delta = int((now - datetime.fromisoformat(row[0])).total_seconds())
            _shift_times(conn, delta)
            conn.execute("DELETE FROM uq_meta WHERE key = ?", (_REF_KEY,))
            conn.execute("DELETE FROM audit")  # and restart the chain's head with it
            since = {t: conn.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for t in _RECORDED}
            head = json.dumps({"hash": "", "count": 0, "since": since})  # the demo's rows predate its chain
            conn.execute("UPDATE uq_meta SET value = ? WHERE key = 'audit_head'", (head,))
            conn.commit()
        finally:
            conn.close()
        return True
    except (sqlite3.Error, OSError, ValueError):
        dst.unlink(missing_ok=True)
        return False


def _shift_times(conn: sqlite3.Connection, seconds: int) -> None:
    """Every DATETIME column, whole seconds moved, the stored microseconds kept as they are
    (strftime would print milliseconds, which the store would misread)."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for col in conn.execute(f'PRAGMA table_info("{table}")').fetchall():
            if str(col[2]).upper() != "DATETIME":
                continue
            name = col[1]
            conn.execute(
                f'UPDATE "{table}" SET "{name}" = strftime(\'%Y-%m-%d %H:%M:%S\', "{name}", ?) || substr("{name}", 20) '
                f'WHERE "{name}" IS NOT NULL',
                (f"{seconds:+d} seconds",),
            )


def save(db: Path, ref: datetime) -> None:
    """Keep a just-built demo database as the template (best effort: a cache)."""
    target = template_path()
    try:
        ensure_private_dir(target.parent)
        tmp = target.with_suffix(".tmp")
        src, out = sqlite3.connect(db), sqlite3.connect(tmp)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")
            out.execute(
                "INSERT OR REPLACE INTO uq_meta (key, value) VALUES (?, ?)", (_REF_KEY, ref.astimezone(UTC).isoformat())
            )
            out.commit()
        finally:
            src.close()
            out.close()
        os.chmod(tmp, 0o600)
        tmp.replace(target)
        for stale in target.parent.glob("demo-template-*.sqlite3"):  # from older uq versions
            if stale != target:
                stale.unlink(missing_ok=True)
    except (sqlite3.Error, OSError):
        return
