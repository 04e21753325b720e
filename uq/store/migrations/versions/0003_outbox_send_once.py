"""outbox: reviewer (whose account sends it), lease_token (the sender's fencing token),
unknown_outcomes (sends whose data went out with no final reply).

Existing replies get their decision's reviewer, no lease and no unknown outcome.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_outbox_send_once"
down_revision: str | None = "0002_pending_mark"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reviewer", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("lease_token", sa.String(), nullable=True))
        batch.add_column(sa.Column("unknown_outcomes", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index(batch.f("ix_outbox_reviewer"), ["reviewer"], unique=False)
    op.execute(
        sa.text(
            "UPDATE outbox SET reviewer ="
            " (SELECT decision.reviewer FROM decision WHERE decision.id = outbox.decision_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(batch.f("ix_outbox_reviewer"))
        batch.drop_column("unknown_outcomes")
        batch.drop_column("lease_token")
        batch.drop_column("reviewer")
