"""raw_message.pending_mark; the old uq_meta schema_version row goes (alembic_version is the one record).

Existing rows get false: they were all marked on the server when they were stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_pending_mark"
down_revision: str | None = "0001_released"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("raw_message") as batch:
        batch.add_column(sa.Column("pending_mark", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index(batch.f("ix_raw_message_pending_mark"), ["pending_mark"], unique=False)
    op.execute(sa.text("DELETE FROM uq_meta WHERE key = 'schema_version'"))


def downgrade() -> None:
    with op.batch_alter_table("raw_message") as batch:
        batch.drop_index(batch.f("ix_raw_message_pending_mark"))
        batch.drop_column("pending_mark")
