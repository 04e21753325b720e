"""decision: criteria (the criteria the decision rests on, one per line), denied_portion
(a partial's denied part), change_info (what would change the decision); call_attempt:
in_reply (the reviewer marked the note for the reply).

Existing decisions get no criteria and no change information; existing call notes stay
private (in_reply false), as notes are by default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_reply_facts"
down_revision: str | None = "0009_regulatory_paused"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.add_column(sa.Column("criteria", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("denied_portion", sa.String(), nullable=True))
        batch.add_column(sa.Column("change_info", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("call_attempt") as batch:
        batch.add_column(sa.Column("in_reply", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("call_attempt") as batch:
        batch.drop_column("in_reply")
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("change_info")
        batch.drop_column("denied_portion")
        batch.drop_column("criteria")
