"""case_row.review_level, pend_items, info_received_at: the clocks as the rules read them.

Appeals and reconsiderations run on their own clocks, so the review level is kept (existing
rows: "unknown", which counts as an initial review). An information request (pend) tolls
an ERISA-style regulatory clock until the answer arrives: the request's items and the
answer's time are kept (existing rows: none). paused_since / paused_seconds keep their
columns and now hold the last request's time and the earlier requests' waits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_case_clocks"
down_revision: str | None = "0005_sync_lease"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.add_column(sa.Column("pend_items", sa.Text(), nullable=True))
        batch.add_column(sa.Column("info_received_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("review_level", sa.String(), nullable=False, server_default="unknown"))


def downgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.drop_column("review_level")
        batch.drop_column("info_received_at")
        batch.drop_column("pend_items")
