"""case_row.regulatory_paused: the queue list marks a case whose regulatory clock a pend tolls.

Denormalised with the other deadline columns (recomputed whenever a clock moves), so the
list reads it with its row. Existing rows get false, and the next recompute of a tolled
case (its follow-up, `uq set`, a decision) sets it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_regulatory_paused"
down_revision: str | None = "0008_notes_active_time"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.add_column(sa.Column("regulatory_paused", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.drop_column("regulatory_paused")
