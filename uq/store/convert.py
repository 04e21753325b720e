"""Rows to domain objects and back, and the small records the batch writes use.

Kept apart from the queries so the conversions (the store's edge) read in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row

from uq.domain import (
    AuditEntry,
    CallAttempt,
    CallOutcome,
    Case,
    CaseFields,
    CaseStatus,
    Deadlines,
    Decision,
    DeclineReason,
    NurseRecommendation,
    OutboxItem,
    OutboxState,
    Outcome,
    ReviewLevel,
    ReviewType,
    Urgency,
)
from uq.store.tables import (
    AttachmentRow,
    AuditRow,
    CallAttemptRow,
    CaseRow,
    DecisionRow,
    OutboxRow,
    RawMessageRow,
)

URGENCY_RANK = {"urgent": 0, "standard": 1, "unknown": 2}
_FIELD_COLUMN = {"case_id": "f_case_id", "due_at": "explicit_due_at"}
_CASE_FIELD_NAMES = [f.name for f in fields(CaseFields)]


# ---------------------------------------------------------------- conversions


def _fields_from_row(r: CaseRow | Row[Any]) -> CaseFields:
    values: dict[str, Any] = {n: getattr(r, _FIELD_COLUMN.get(n, n)) for n in _CASE_FIELD_NAMES}
    values["review_type"] = ReviewType(values["review_type"])
    values["urgency"] = Urgency(values["urgency"])
    values["review_level"] = ReviewLevel(values["review_level"] or "unknown")
    values["nurse_recommendation"] = NurseRecommendation(values["nurse_recommendation"])
    return CaseFields(**values)


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(x for x in (text or "").split("\n") if x)


def case_from_row(r: CaseRow | Row[Any]) -> Case:
    """From an ORM row or a Core row of case_row's columns (body_text not needed)."""
    assert r.id is not None
    return Case(
        id=r.id,
        case_id=r.case_id,
        sender=r.sender,
        subject=r.subject,
        status=CaseStatus(r.status),
        arrived_at=r.arrived_at,
        fields=_fields_from_row(r),
        problems=_lines(r.problems),
        sender_name=r.sender_name,
        reply_to=r.reply_to,
        message_id=r.message_id,
        references=_lines(r.references),
        update_count=r.update_count,
        last_updated_at=r.last_updated_at,
        regulatory_extended_to=r.regulatory_extended_to,
        extension_reason=r.extension_reason,
        pended_at=r.paused_since,
        pend_items=r.pend_items,
        info_received_at=r.info_received_at,
        earlier_pend_seconds=r.paused_seconds,
        first_opened_at=r.first_opened_at,
        claimed_by=r.claimed_by,
        claim_until=r.claim_until,
        active_seconds=r.active_seconds,
    )


def field_values(f: CaseFields) -> dict[str, Any]:
    """CaseFields as case_row column values (enums by value)."""
    out: dict[str, Any] = {}
    for name in _CASE_FIELD_NAMES:
        value = getattr(f, name)
        out[_FIELD_COLUMN.get(name, name)] = value.value if hasattr(value, "value") else value
    return out


def _deadline_values(d: Deadlines) -> dict[str, Any]:
    return {
        "due_at": d.due_at,
        "reviewer_due_at": d.reviewer_due_at,
        "regulatory_due_at": d.regulatory_due_at,
        "binding": d.binding.value,
        "window_start": d.window_start,
        "regulatory_paused": d.regulatory_paused,
    }


def _chunks(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """IN lists in slices: SQLite caps bound parameters per statement."""
    items = list(values)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _group(
    items: Iterable[Any], key: Callable[[Any], tuple[str, int]], value: Callable[[Any], int]
) -> list[tuple[tuple[str, int], list[int]]]:
    out: dict[tuple[str, int], list[int]] = {}
    for it in items:
        out.setdefault(key(it), []).append(value(it))
    return list(out.items())


_CASE_T: Any = CaseRow.__table__  # type: ignore[attr-defined]
_RAW_T: Any = RawMessageRow.__table__  # type: ignore[attr-defined]
_ATT_T: Any = AttachmentRow.__table__  # type: ignore[attr-defined]
_CASE_READ_COLS = [c for c in _CASE_T.columns if c.name != "body_text"]


@dataclass(frozen=True, slots=True)
class NewRaw:
    """One raw_message row for `Tx.add_raws`."""

    mailbox: str
    uidvalidity: int
    uid: int
    internaldate: datetime | None
    raw: bytes
    kind: str
    reason: str | None
    sender: str
    subject: str
    message_id: str | None
    content_hash: str
    now: datetime
    case_pk: int | None = None

    def values(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "uidvalidity": self.uidvalidity,
            "uid": self.uid,
            "internaldate": self.internaldate,
            "ingested_at": self.now,
            "message_id": self.message_id,
            "content_hash": self.content_hash,
            "size": len(self.raw),
            "raw": self.raw,
            "kind": self.kind,
            "reason": self.reason,
            "sender": self.sender,
            "subject": self.subject[:500],
            "case_pk": self.case_pk,
        }


@dataclass(frozen=True, slots=True)
class SeenRaw:
    """What the dedupe needs of a stored raw message."""

    kind: str
    case_pk: int | None


def decision_from_row(r: DecisionRow) -> Decision:
    assert r.id is not None
    return Decision(
        id=r.id,
        case_pk=r.case_pk,
        outcome=Outcome(r.outcome),
        agrees_with_nurse=r.agrees_with_nurse,
        rationale=r.rationale,
        guideline=r.guideline,
        note=r.note,
        decline_reason=DeclineReason(r.decline_reason) if r.decline_reason else None,
        approved_portion=r.approved_portion,
        reviewer=r.reviewer,
        decided_at=r.decided_at,
        seconds_spent=r.seconds_spent,
        undone=r.undone,
        criteria=_lines(r.criteria),
        denied_portion=r.denied_portion,
        change_info=r.change_info or "",
    )


def call_from_row(r: CallAttemptRow) -> CallAttempt:
    assert r.id is not None
    return CallAttempt(r.id, r.case_pk, r.at, r.number, CallOutcome(r.outcome), r.note, r.reviewer, bool(r.in_reply))


def outbox_from_row(r: OutboxRow) -> OutboxItem:
    assert r.id is not None
    return OutboxItem(
        id=r.id,
        case_pk=r.case_pk,
        decision_id=r.decision_id,
        message_id=r.message_id,
        recipients=_lines(r.recipients),
        state=OutboxState(r.state),
        not_before=r.not_before,
        attempts=r.attempts,
        last_error=r.last_error,
        created_at=r.created_at,
        sent_at=r.sent_at,
        raw=r.raw,
        reviewer=r.reviewer,
        lease_token=r.lease_token,
        unknown_outcomes=r.unknown_outcomes,
    )


def audit_from_row(r: AuditRow) -> AuditEntry:
    assert r.id is not None
    return AuditEntry(
        r.id, r.at, r.actor, r.action, r.case_pk, r.detail, r.prev_hash, r.hash, r.subject, r.content_hash
    )


@dataclass(frozen=True, slots=True)
class RawMessageInfo:
    """A stored raw message without its bytes: the thread, the quarantine, the not-case list."""

    id: int
    mailbox: str
    uid: int
    kind: str
    reason: str | None
    sender: str
    subject: str
    message_id: str | None
    internaldate: datetime | None
    ingested_at: datetime
    size: int
    case_pk: int | None


def _raw_info(r: RawMessageRow) -> RawMessageInfo:
    assert r.id is not None
    return RawMessageInfo(
        r.id,
        r.mailbox,
        r.uid,
        r.kind,
        r.reason,
        r.sender,
        r.subject,
        r.message_id,
        r.internaldate,
        r.ingested_at,
        r.size,
        r.case_pk,
    )
