"""Start-up reads that must not pay for SQLAlchemy (see uq.store.fastread)."""

from __future__ import annotations

from uq.config import Config
from uq.store.fastread import quick_queue_rows
from uq.store.rows import QueueRow


def first_queue_rows(config: Config, limit: int = 200) -> list[QueueRow] | None:
    """The head of the open queue straight from a SQLite file, or None when only the full
    path can tell."""
    return quick_queue_rows(config.database_url, limit)
