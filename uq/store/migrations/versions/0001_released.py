"""The schema as first released: every table, before raw_message.pending_mark.

A frozen copy (plain SQLAlchemy types, no import of uq.store.tables): later model edits
must not change what this revision creates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_released"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_action"), "audit", ["action"], unique=False)
    op.create_index(op.f("ix_audit_at"), "audit", ["at"], unique=False)
    op.create_index(op.f("ix_audit_case_pk"), "audit", ["case_pk"], unique=False)

    op.create_table(
        "case_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("sender_name", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("reply_to", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("update_count", sa.Integer(), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(), nullable=True),
        sa.Column("regulatory_extended_to", sa.DateTime(), nullable=True),
        sa.Column("extension_reason", sa.String(), nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("paused_since", sa.DateTime(), nullable=True),
        sa.Column("first_opened_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("reviewer_due_at", sa.DateTime(), nullable=True),
        sa.Column("regulatory_due_at", sa.DateTime(), nullable=True),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("binding", sa.String(), nullable=False),
        sa.Column("urgency_rank", sa.Integer(), nullable=False),
        sa.Column("f_case_id", sa.String(), nullable=True),
        sa.Column("review_type", sa.String(), nullable=False),
        sa.Column("urgency", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("explicit_due_at", sa.DateTime(), nullable=True),
        sa.Column("client", sa.String(), nullable=True),
        sa.Column("member_name", sa.String(), nullable=True),
        sa.Column("member_dob", sa.String(), nullable=True),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.Column("requesting_provider", sa.String(), nullable=True),
        sa.Column("provider_phone", sa.String(), nullable=True),
        sa.Column("provider_npi", sa.String(), nullable=True),
        sa.Column("facility", sa.String(), nullable=True),
        sa.Column("diagnosis", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("dates_of_service", sa.String(), nullable=True),
        sa.Column("guideline", sa.Text(), nullable=True),
        sa.Column("criteria_met", sa.Text(), nullable=True),
        sa.Column("criteria_not_met", sa.Text(), nullable=True),
        sa.Column("clinical_summary", sa.Text(), nullable=True),
        sa.Column("nurse_assessment", sa.Text(), nullable=True),
        sa.Column("nurse_recommendation", sa.String(), nullable=False),
        sa.Column("nurse_recommendation_text", sa.Text(), nullable=True),
        sa.Column("nurse_name", sa.String(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "case_id", name="uq_case_sender_id"),
    )
    op.create_index("ix_case_queue", "case_row", ["status", "due_at", "urgency_rank", "arrived_at", "id"], unique=False)
    op.create_index(op.f("ix_case_row_case_id"), "case_row", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_row_message_id"), "case_row", ["message_id"], unique=False)

    op.create_table(
        "sync_cursor",
        sa.Column("mailbox", sa.String(), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", "uidvalidity"),
    )

    op.create_table(
        "uq_meta",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    op.create_table(
        "call_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_pk"],
            ["case_row.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_call_attempt_case_pk"), "call_attempt", ["case_pk"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("agrees_with_nurse", sa.Boolean(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("guideline", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decline_reason", sa.String(), nullable=True),
        sa.Column("approved_portion", sa.String(), nullable=True),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("seconds_spent", sa.Integer(), nullable=True),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_pk"],
            ["case_row.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_decision_case_pk"), "decision", ["case_pk"], unique=False)

    op.create_table(
        "raw_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("internaldate", sa.DateTime(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_pk"],
            ["case_row.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_raw_uid"),
    )
    op.create_index(op.f("ix_raw_message_case_pk"), "raw_message", ["case_pk"], unique=False)
    op.create_index(op.f("ix_raw_message_content_hash"), "raw_message", ["content_hash"], unique=False)
    op.create_index(op.f("ix_raw_message_message_id"), "raw_message", ["message_id"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("raw_message_pk", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_pk"],
            ["case_row.id"],
        ),
        sa.ForeignKeyConstraint(
            ["raw_message_pk"],
            ["raw_message.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_attachment_case_pk"), "attachment", ["case_pk"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("mail_from", sa.String(), nullable=False),
        sa.Column("recipients", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("sent_copy_saved", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_pk"],
            ["case_row.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_outbox_case_pk"), "outbox", ["case_pk"], unique=False)
    op.create_index(op.f("ix_outbox_state"), "outbox", ["state"], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    for name in (
        "outbox",
        "attachment",
        "raw_message",
        "decision",
        "call_attempt",
        "uq_meta",
        "sync_cursor",
        "case_row",
        "audit",
    ):
        op.drop_table(name)
