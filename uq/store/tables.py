"""SQLModel tables. Rows never leave uq.store: repo.py converts them to uq.domain objects.

Times are stored as UTC and always read back aware (UTCDateTime), because SQLite keeps no
zone and a naive datetime anywhere in uq is a bug. The queue columns (status, due_at,
urgency_rank, arrived_at) are indexed together: the queue's top-N query reads only them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; returns them aware in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _dt(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _text() -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=True))


class MetaRow(SQLModel, table=True):
    __tablename__ = "uq_meta"
    key: str = Field(primary_key=True)
    value: str


class RawMessageRow(SQLModel, table=True):
    """Every message seen, whatever it turned out to be: nothing is silently dropped."""

    __tablename__ = "raw_message"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_raw_uid"),)
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    uidvalidity: int
    uid: int
    internaldate: datetime | None = _dt()
    ingested_at: datetime = _dt(nullable=False)
    message_id: str | None = Field(default=None, index=True)
    content_hash: str = Field(default="", index=True)
    size: int = 0
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kind: str  # new | updated | duplicate | not_case | quarantined
    # stored, but not yet flagged/moved on the server (after_ingest): a crash between the
    # commit and the marking is finished by the next sync
    pending_mark: bool = Field(default=False, index=True)
    reason: str | None = None
    sender: str = ""
    subject: str = ""
    case_pk: int | None = Field(default=None, foreign_key="case_row.id", index=True)


class CaseRow(SQLModel, table=True):
    __tablename__ = "case_row"
    __table_args__ = (
        UniqueConstraint("sender", "case_id", name="uq_case_sender_id"),
        Index("ix_case_queue", "status", "due_at", "urgency_rank", "arrived_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    sender: str
    sender_name: str = ""
    subject: str = ""
    reply_to: str | None = None
    message_id: str | None = Field(default=None, index=True)
    references: str = _text()  # newline-separated Message-IDs
    status: str = "open"
    arrived_at: datetime = _dt(nullable=False)
    problems: str = _text()  # newline-separated
    update_count: int = 0
    last_updated_at: datetime | None = _dt()
    regulatory_extended_to: datetime | None = _dt()
    extension_reason: str | None = None
    # the regulatory toll: paused_since is when the last information request (pend) went
    # out, paused_seconds the waits of the earlier ones (uq.domain.Case.pended_at etc.)
    paused_seconds: int = 0
    paused_since: datetime | None = _dt()
    pend_items: str | None = _text()
    info_received_at: datetime | None = _dt()
    first_opened_at: datetime | None = _dt()
    claimed_by: str | None = None
    claim_until: datetime | None = _dt()  # the claim is a lease: free again after this
    # seconds the case (or a decision on it) was in front of a reviewer who was not idle
    active_seconds: int = 0
    # denormalised clock results, recomputed whenever the case or its policy changes
    due_at: datetime | None = _dt()
    reviewer_due_at: datetime | None = _dt()
    regulatory_due_at: datetime | None = _dt()
    window_start: datetime | None = _dt()
    binding: str = "reviewer"
    regulatory_paused: bool = False  # tolled by an information request: not counting down
    urgency_rank: int = 1
    # CaseFields
    f_case_id: str | None = None
    review_type: str = "unknown"
    urgency: str = "unknown"
    review_level: str = "unknown"
    received_at: datetime | None = _dt()
    explicit_due_at: datetime | None = _dt()
    client: str | None = None
    member_name: str | None = None
    member_dob: str | None = None
    member_id: str | None = None
    requesting_provider: str | None = None
    provider_phone: str | None = None
    provider_npi: str | None = None
    facility: str | None = None
    diagnosis: str | None = _text()
    service: str | None = _text()
    dates_of_service: str | None = None
    guideline: str | None = _text()
    criteria_met: str | None = _text()
    criteria_not_met: str | None = _text()
    clinical_summary: str | None = _text()
    nurse_assessment: str | None = _text()
    nurse_recommendation: str = "unknown"
    nurse_recommendation_text: str | None = _text()
    nurse_name: str | None = None
    question: str | None = _text()
    body_text: str | None = _text()


class AttachmentRow(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="case_row.id", index=True)
    raw_message_pk: int = Field(foreign_key="raw_message.id")
    filename: str
    content_type: str
    size: int
    # The bytes are not stored again: they are decoded from the raw message at `part`
    # (services.case_files, by the mail parser). text: NULL = a PDF not read yet (the PDF pass fills it), "" =
    # read, no text.
    part: str = ""
    text: str | None = _text()


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decision"
    id: int | None = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="case_row.id", index=True)
    outcome: str
    agrees_with_nurse: bool | None = None
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False))
    guideline: str = ""
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    decline_reason: str | None = None
    approved_portion: str | None = None
    reviewer: str
    decided_at: datetime = _dt(nullable=False)
    seconds_spent: int | None = None
    undone: bool = False
    criteria: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # one per line
    denied_portion: str | None = None
    change_info: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class PrivateNoteRow(SQLModel, table=True):
    """A reviewer's own note on a case: never in a reply, audited by its length only."""

    __tablename__ = "private_note"
    __table_args__ = (UniqueConstraint("case_pk", "reviewer", name="uq_private_note_case_reviewer"),)
    id: int | None = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="case_row.id", index=True)
    reviewer: str
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = _dt(nullable=False)


class CallAttemptRow(SQLModel, table=True):
    __tablename__ = "call_attempt"
    id: int | None = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="case_row.id", index=True)
    at: datetime = _dt(nullable=False)
    number: str = ""
    outcome: str
    note: str = ""
    reviewer: str
    in_reply: bool = False  # the reviewer marked the note for the reply


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="case_row.id", index=True)
    decision_id: int = Field(foreign_key="decision.id")
    message_id: str = Field(unique=True)
    mail_from: str
    recipients: str  # newline-separated
    state: str = Field(index=True)
    not_before: datetime = _dt(nullable=False)  # hold end, next try, or lease end (sending)
    attempts: int = 0
    last_error: str | None = None
    reviewer: str = Field(default="", index=True)  # who decided: whose account sends it
    lease_token: str | None = None  # the sender's claim: checked before the data goes out
    unknown_outcomes: int = 0  # sends whose data went out with no final reply
    created_at: datetime = _dt(nullable=False)
    sent_at: datetime | None = _dt()
    sent_copy_saved: bool = False
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SyncCursorRow(SQLModel, table=True):
    __tablename__ = "sync_cursor"
    mailbox: str = Field(primary_key=True)
    uidvalidity: int = Field(primary_key=True)
    last_uid: int = 0
    updated_at: datetime = _dt(nullable=False)


class SyncLeaseRow(SQLModel, table=True):
    """Who syncs a mailbox: one syncer per mailbox, the others follow (uq.services.sync).
    A holder renews it while it works; an expired lease is free to take."""

    __tablename__ = "sync_lease"
    mailbox: str = Field(primary_key=True)
    holder: str = ""
    expires_at: datetime = _dt(nullable=False)


class AuditRow(SQLModel, table=True):
    """Append-only, chained by a keyed hash: `uq audit verify` detects edits and deletions.

    `subject` ("decision:12", "outbox:7") names the row an entry vouches for and
    `content_hash` that row's content digest at the time (store.digest), so an edit to
    the row itself is found too, not only edits to the trail."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _dt(nullable=False, index=True)
    actor: str
    action: str = Field(index=True)
    case_pk: int | None = Field(default=None, index=True)
    detail: str = ""
    subject: str | None = Field(default=None, index=True)
    content_hash: str | None = None
    prev_hash: str = ""
    hash: str = ""
