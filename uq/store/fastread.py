"""The queue's first screenful without SQLAlchemy.

Importing SQLAlchemy + SQLModel costs ~0.85 s here (PERF_NOTES), more than the whole
first-paint budget. For a SQLite store this module reads the open queue with the stdlib
sqlite3 driver, read-only, with the same ordering as Store.queue_rows, so the TUI can show
rows while the full store opens in the background. Anything unexpected (not SQLite, no
file yet, an older schema) returns None and the caller simply waits for the full path.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from uq.store.rows import HAS_PROBLEMS_SQL, PAUSED_DUE_SQL, QUEUE_COLUMNS, QueueRow

_EXPRESSIONS = {"problems": HAS_PROBLEMS_SQL, "paused_due_at": PAUSED_DUE_SQL}
_COLUMNS = [_EXPRESSIONS.get(c, c) for c in QUEUE_COLUMNS]
_SQL = (
    f"SELECT {', '.join(_COLUMNS)} FROM case_row WHERE status != 'decided' "
    "ORDER BY due_at, urgency_rank, arrived_at, id LIMIT ?"
)


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL (no driver options), else None."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = unquote(url[len("sqlite:///") :])
    return Path(path) if path and path != ":memory:" else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def quick_queue_rows(url: str, limit: int = 200) -> list[QueueRow] | None:
    """The first `limit` rows of the open queue: a screenful is all the first paint needs."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return None
    try:
        out = []
        for r in conn.execute(_SQL, (limit,)):
            arrived = _dt(r[14])
            if arrived is None:
                return None
            out.append(QueueRow(
                r[0], r[1], r[2], _dt(r[3]), _dt(r[4]), r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                bool(r[13]), arrived, r[15], r[16], _dt(r[17]), bool(r[18]), _dt(r[19]), _dt(r[20]),
            ))
        return out
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        conn.close()
