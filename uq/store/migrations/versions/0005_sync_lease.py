"""sync_lease: one syncer per mailbox (the holder renews it; an expired lease is free)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sync_lease"
down_revision: str | None = "0004_claim_lease"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sync_lease",
        sa.Column("mailbox", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox"),
    )


def downgrade() -> None:
    op.drop_table("sync_lease")
