"""audit.subject and audit.content_hash: the row (decision, outbox item) an entry vouches
for and its content digest, so `uq audit verify` finds edits to the record itself.

The chain's head gets `since`, the last decision and outbox ids now: those rows were
written before content digests and are reported as such, not as unrecorded. The chain
itself is keyed by the next audited action (store.audit_chain), which needs the key.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_content"
down_revision: str | None = "0006_case_clocks"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("subject", sa.String(), nullable=True))
        batch.add_column(sa.Column("content_hash", sa.String(), nullable=True))
        batch.create_index(batch.f("ix_audit_subject"), ["subject"], unique=False)
    conn = op.get_bind()
    row = conn.execute(sa.text("SELECT value FROM uq_meta WHERE key = 'audit_head'")).first()
    if row is None:
        return  # a new database: schema.ensure writes the head with `since` after the migrations
    head = json.loads(row[0])
    if "key_id" not in head:
        since = {
            "decision": int(conn.execute(sa.text("SELECT max(id) FROM decision")).scalar() or 0),
            "outbox": int(conn.execute(sa.text("SELECT max(id) FROM outbox")).scalar() or 0),
        }
        value = json.dumps({**head, "since": since})
        conn.execute(sa.text("UPDATE uq_meta SET value = :v WHERE key = 'audit_head'"), {"v": value})


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_index(batch.f("ix_audit_subject"))
        batch.drop_column("content_hash")
        batch.drop_column("subject")
