"""private_note (a reviewer's note per case, never sent) and case_row.active_seconds (time
on the case while the reviewer was not idle, which reports use instead of wall time).

Existing cases start at 0 active seconds: their time before this was never measured.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_notes_active_time"
down_revision: str | None = "0007_audit_content"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_row") as batch:
        batch.add_column(sa.Column("active_seconds", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "private_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_pk"], ["case_row.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_pk", "reviewer", name="uq_private_note_case_reviewer"),
    )
    op.create_index(op.f("ix_private_note_case_pk"), "private_note", ["case_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_private_note_case_pk"), table_name="private_note")
    op.drop_table("private_note")
    with op.batch_alter_table("case_row") as batch:
        batch.drop_column("active_seconds")
