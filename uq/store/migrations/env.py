"""Alembic's entry point. uq runs it programmatically (uq.store.schema), never from an
alembic.ini: the caller opens the connection, takes the migration lock and begins the
transaction, and passes the connection in `config.attributes["connection"]`, so every
migration, stamp and autogenerate runs inside that one locked transaction.

render_as_batch: SQLite cannot ALTER most things, so autogenerate writes batch operations
(copy-and-swap on SQLite, plain ALTER on PostgreSQL) that work on both backends.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import String

from uq.store.migrations import target_metadata
from uq.store.tables import UTCDateTime


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write uq's column types as plain SQLAlchemy ones: a migration is a frozen copy and
    must not import uq.store.tables (its later edits would change old revisions)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, String) and type(obj).__module__.startswith("sqlmodel"):
        return "sa.String()"
    return False


context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=target_metadata(),
    render_as_batch=True,
    compare_type=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
