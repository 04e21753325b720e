"""case_row.claim_until: a claim is a lease ([team] lease_minutes), so a reviewer whose
laptop died does not hold cases forever.

Existing claims get no end, which reads as expired: their holders claim again on opening.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_claim_lease"
down_revision: str | None = "0003_outbox_send_once"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.add_column(sa.Column("claim_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.drop_column("claim_until")
