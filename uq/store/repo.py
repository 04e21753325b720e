"""The repository: the only code that reads and writes tables.

Callers get uq.domain objects, never rows. Writes that must be atomic together (a FETCH
batch and its cursor advance; a decision and its outbox item and audit entries) happen in
one `Store.tx()` unit of work, so a crash leaves either all of it or none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from uq.domain import (
    Attachment,
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
    ReviewType,
    Urgency,
)
from uq.errors import StoreError
from uq.store import db
from uq.store.mimepart import part_bytes
from uq.store.rows import QueueRow
from uq.store.tables import (
    AttachmentRow,
    AuditRow,
    CallAttemptRow,
    CaseRow,
    DecisionRow,
    MetaRow,
    OutboxRow,
    RawMessageRow,
    SyncCursorRow,
)

URGENCY_RANK = {"urgent": 0, "standard": 1, "unknown": 2}
_FIELD_COLUMN = {"case_id": "f_case_id", "due_at": "explicit_due_at"}
_CASE_FIELD_NAMES = [f.name for f in fields(CaseFields)]


# ---------------------------------------------------------------- conversions


def _fields_from_row(r: CaseRow | Row[Any]) -> CaseFields:
    values: dict[str, Any] = {n: getattr(r, _FIELD_COLUMN.get(n, n)) for n in _CASE_FIELD_NAMES}
    values["review_type"] = ReviewType(values["review_type"])
    values["urgency"] = Urgency(values["urgency"])
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
        paused_seconds=r.paused_seconds,
        paused_since=r.paused_since,
        first_opened_at=r.first_opened_at,
        claimed_by=r.claimed_by,
    )


def _apply_fields(r: CaseRow, f: CaseFields, *, only_known: bool) -> list[str]:
    """Copy CaseFields onto a row; with only_known, skip empty values (a follow-up only
    changes what it carries). Returns the names of the fields that changed."""
    changed = []
    for name in _CASE_FIELD_NAMES:
        value = getattr(f, name)
        if hasattr(value, "value"):
            value = value.value
        if only_known and value in (None, "", "unknown"):
            continue
        column = _FIELD_COLUMN.get(name, name)
        if getattr(r, column) != value:
            setattr(r, column, value)
            changed.append(name)
    return changed


def field_values(f: CaseFields) -> dict[str, Any]:
    """CaseFields as case_row column values (enums by value)."""
    out: dict[str, Any] = {}
    for name in _CASE_FIELD_NAMES:
        value = getattr(f, name)
        out[_FIELD_COLUMN.get(name, name)] = value.value if hasattr(value, "value") else value
    return out


def merge_followup_fields(old: CaseFields, new: CaseFields) -> tuple[CaseFields, list[str]]:
    """What a follow-up does to a case's fields: only the values it carries replace the
    old ones, and never the case ID. Same rule as `Tx.update_case_from_followup`, on domain
    objects, so a batch can apply several follow-ups in memory and write once."""
    changes: dict[str, Any] = {}
    for name in _CASE_FIELD_NAMES:
        if name == "case_id":
            continue
        value = getattr(new, name)
        raw = value.value if hasattr(value, "value") else value
        if raw in (None, "", "unknown"):
            continue
        if getattr(old, name) != value:
            changes[name] = value
    return (replace(old, **changes) if changes else old), list(changes)


def _deadline_values(d: Deadlines) -> dict[str, Any]:
    return {
        "due_at": d.due_at,
        "reviewer_due_at": d.reviewer_due_at,
        "regulatory_due_at": d.regulatory_due_at,
        "binding": d.binding.value,
        "window_start": d.window_start,
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
_AUDIT_T: Any = AuditRow.__table__  # type: ignore[attr-defined]
_META_T: Any = MetaRow.__table__  # type: ignore[attr-defined]
AUDIT_HEAD_KEY = db.AUDIT_HEAD_KEY
_CASE_READ_COLS = [c for c in _CASE_T.columns if c.name != "body_text"]


@dataclass(frozen=True, slots=True)
class NewRaw:
    """One raw_message row for `Tx.add_raws` (the keywords of `Tx.add_raw`)."""

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
    )


def call_from_row(r: CallAttemptRow) -> CallAttempt:
    assert r.id is not None
    return CallAttempt(r.id, r.case_pk, r.at, r.number, CallOutcome(r.outcome), r.note, r.reviewer)


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
    )


def audit_from_row(r: AuditRow) -> AuditEntry:
    assert r.id is not None
    return AuditEntry(r.id, r.at, r.actor, r.action, r.case_pk, r.detail, r.prev_hash, r.hash)


def audit_hash(prev: str, at: datetime, actor: str, action: str, case_pk: int | None, detail: str) -> str:
    """In UTC whatever zone the clock gave: the entry is read back in UTC to verify it."""
    blob = "\x1f".join([prev, at.astimezone(UTC).isoformat(), actor, action, str(case_pk or ""), detail])
    return hashlib.sha256(blob.encode()).hexdigest()


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


# ---------------------------------------------------------------- unit of work


class Tx:
    """One transaction. Lookups see this transaction's own uncommitted writes."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._audit_last: str | None = None  # the chain's head, once read in this transaction
        self._audit_count = 0

    # -- sync cursor
    def cursor(self, mailbox: str, uidvalidity: int) -> int | None:
        row = self.s.get(SyncCursorRow, (mailbox, uidvalidity))
        return row.last_uid if row else None

    def known_uidvalidities(self, mailbox: str) -> list[int]:
        rows = self.s.exec(select(SyncCursorRow.uidvalidity).where(SyncCursorRow.mailbox == mailbox))
        return list(rows)

    def advance_cursor(self, mailbox: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        row = self.s.get(SyncCursorRow, (mailbox, uidvalidity))
        if row is None:
            self.s.add(SyncCursorRow(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now))
        elif last_uid > row.last_uid:
            row.last_uid = last_uid
            row.updated_at = now
            self.s.add(row)

    # -- dedupe lookups
    def has_uid(self, mailbox: str, uidvalidity: int, uid: int) -> bool:
        q = select(RawMessageRow.id).where(
            RawMessageRow.mailbox == mailbox, RawMessageRow.uidvalidity == uidvalidity, RawMessageRow.uid == uid
        )
        return self.s.exec(q).first() is not None

    def raw_by_message_id(self, message_id: str) -> RawMessageInfo | None:
        r = self.s.exec(
            select(RawMessageRow).where(RawMessageRow.message_id == message_id).order_by(col(RawMessageRow.id))
        ).first()
        return _raw_info(r) if r else None

    def raw_by_content_hash(self, content_hash: str, sender: str) -> RawMessageInfo | None:
        if not content_hash:
            return None
        r = self.s.exec(
            select(RawMessageRow)
            .where(RawMessageRow.content_hash == content_hash, RawMessageRow.sender == sender)
            .order_by(col(RawMessageRow.id))
        ).first()
        return _raw_info(r) if r else None

    def case_by_message_ids(self, message_ids: Sequence[str]) -> Case | None:
        """The case a reply belongs to, by its In-Reply-To / References."""
        ids = [m for m in message_ids if m]
        if not ids:
            return None
        r = self.s.exec(select(CaseRow).where(col(CaseRow.message_id).in_(ids))).first()
        if r is None:
            raw = self.s.exec(
                select(RawMessageRow.case_pk).where(
                    col(RawMessageRow.message_id).in_(ids), col(RawMessageRow.case_pk).is_not(None)
                )
            ).first()
            r = self.s.get(CaseRow, raw) if raw else None
        return case_from_row(r) if r else None

    def case_by_sender_id(self, sender: str, case_id: str) -> Case | None:
        r = self.s.exec(select(CaseRow).where(CaseRow.sender == sender, CaseRow.case_id == case_id)).first()
        return case_from_row(r) if r else None

    # -- writes
    def add_raw(
        self,
        *,
        mailbox: str,
        uidvalidity: int,
        uid: int,
        internaldate: datetime | None,
        raw: bytes,
        kind: str,
        reason: str | None,
        sender: str,
        subject: str,
        message_id: str | None,
        content_hash: str,
        now: datetime,
        case_pk: int | None = None,
    ) -> int:
        row = RawMessageRow(
            mailbox=mailbox,
            uidvalidity=uidvalidity,
            uid=uid,
            internaldate=internaldate,
            ingested_at=now,
            message_id=message_id,
            content_hash=content_hash,
            size=len(raw),
            raw=raw,
            kind=kind,
            reason=reason,
            sender=sender,
            subject=subject[:500],
            case_pk=case_pk,
        )
        self.s.add(row)
        self.s.flush()
        assert row.id is not None
        return row.id

    def link_raw(self, raw_pk: int, case_pk: int) -> None:
        self.s.execute(update(RawMessageRow).where(col(RawMessageRow.id) == raw_pk).values(case_pk=case_pk))

    def add_case(
        self,
        *,
        case_id: str,
        sender: str,
        sender_name: str,
        subject: str,
        reply_to: str | None,
        message_id: str | None,
        references: Sequence[str],
        arrived_at: datetime,
        fields: CaseFields,
        problems: Sequence[str],
        body_text: str,
    ) -> Case:
        row = CaseRow(
            case_id=case_id,
            sender=sender,
            sender_name=sender_name,
            subject=subject[:500],
            reply_to=reply_to,
            message_id=message_id,
            references="\n".join(references),
            status=CaseStatus.OPEN.value,
            arrived_at=arrived_at,
            problems="\n".join(problems),
            body_text=body_text,
        )
        _apply_fields(row, fields, only_known=False)
        row.urgency_rank = URGENCY_RANK[row.urgency]
        self.s.add(row)
        self.s.flush()
        return case_from_row(row)

    def update_case_from_followup(
        self, case_pk: int, fields: CaseFields, body_text: str, now: datetime, problems: Sequence[str] = ()
    ) -> tuple[Case, list[str]]:
        row = self._case_row(case_pk)
        f = _without_identity(fields)
        changed = _apply_fields(row, f, only_known=True)
        row.urgency_rank = URGENCY_RANK[row.urgency]
        row.update_count += 1
        row.last_updated_at = now
        if body_text:
            row.body_text = (row.body_text or "") + f"\n\n--- update {now.isoformat()} ---\n" + body_text
        if problems and not row.problems:
            row.problems = "\n".join(p for p in problems if not p.startswith("case_id:"))
        self.s.add(row)
        self.s.flush()
        return case_from_row(row), changed

    def add_attachment(self, case_pk: int, raw_pk: int, a: Attachment) -> None:
        self.s.add(
            AttachmentRow(
                case_pk=case_pk,
                raw_message_pk=raw_pk,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                part=a.part,
                text=a.text,
            )
        )

    def set_deadlines(self, case_pk: int, d: Deadlines) -> None:
        self.s.execute(
            update(CaseRow)
            .where(col(CaseRow.id) == case_pk)
            .values(
                due_at=d.due_at,
                reviewer_due_at=d.reviewer_due_at,
                regulatory_due_at=d.regulatory_due_at,
                binding=d.binding.value,
                window_start=d.window_start,
            )
        )

    def set_status(
        self,
        case_pk: int,
        status: CaseStatus,
        *,
        paused_since: datetime | None = None,
        add_paused_seconds: int = 0,
        clear_pause: bool = False,
    ) -> None:
        row = self._case_row(case_pk)
        row.status = status.value
        if clear_pause:
            row.paused_since = None
        elif paused_since is not None and row.paused_since is None:
            row.paused_since = paused_since
        row.paused_seconds += add_paused_seconds
        self.s.add(row)

    def mark_opened(self, case_pk: int, now: datetime) -> Case:
        row = self._case_row(case_pk)
        if row.first_opened_at is None:
            row.first_opened_at = now
            self.s.add(row)
        return case_from_row(row)

    def extend(self, case_pk: int, new_due: datetime, reason: str) -> None:
        row = self._case_row(case_pk)
        row.regulatory_extended_to = new_due
        row.extension_reason = reason
        self.s.add(row)

    def claim(self, case_pk: int, user: str | None) -> bool:
        """Compare-and-set: a case is claimed only if free (or already ours); None releases."""
        q = update(CaseRow).where(col(CaseRow.id) == case_pk)
        if user is not None:
            q = q.where(or_(col(CaseRow.claimed_by).is_(None), col(CaseRow.claimed_by) == user))
        res = self.s.execute(q.values(claimed_by=user))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def add_decision(
        self,
        *,
        case_pk: int,
        outcome: Outcome,
        agrees: bool | None,
        rationale: str,
        guideline: str,
        note: str,
        decline_reason: DeclineReason | None,
        approved_portion: str | None,
        reviewer: str,
        decided_at: datetime,
        seconds_spent: int | None,
    ) -> Decision:
        row = DecisionRow(
            case_pk=case_pk,
            outcome=outcome.value,
            agrees_with_nurse=agrees,
            rationale=rationale,
            guideline=guideline,
            note=note,
            decline_reason=decline_reason.value if decline_reason else None,
            approved_portion=approved_portion,
            reviewer=reviewer,
            decided_at=decided_at,
            seconds_spent=seconds_spent,
        )
        self.s.add(row)
        self.s.flush()
        return decision_from_row(row)

    def undo_decision(self, decision_id: int) -> None:
        self.s.execute(update(DecisionRow).where(col(DecisionRow.id) == decision_id).values(undone=True))

    def add_call(
        self, *, case_pk: int, at: datetime, number: str, outcome: CallOutcome, note: str, reviewer: str
    ) -> CallAttempt:
        row = CallAttemptRow(case_pk=case_pk, at=at, number=number, outcome=outcome.value, note=note, reviewer=reviewer)
        self.s.add(row)
        self.s.flush()
        return call_from_row(row)

    def add_outbox(
        self,
        *,
        case_pk: int,
        decision_id: int,
        message_id: str,
        mail_from: str,
        recipients: Sequence[str],
        raw: bytes,
        state: OutboxState,
        not_before: datetime,
        now: datetime,
    ) -> OutboxItem:
        row = OutboxRow(
            case_pk=case_pk,
            decision_id=decision_id,
            message_id=message_id,
            mail_from=mail_from,
            recipients="\n".join(recipients),
            state=state.value,
            not_before=not_before,
            created_at=now,
            raw=raw,
        )
        self.s.add(row)
        self.s.flush()
        return outbox_from_row(row)

    def claim_outbox_item(
        self, item_id: int, expected: OutboxState, *, now: datetime, lease_seconds: int = 120
    ) -> bool:
        """Compare-and-set to SENDING with a lease: two senders (the TUI and `uq send`) never
        both send one item, and an item left SENDING by a killed sender is taken again
        (once) when its lease runs out."""
        res = self.s.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.id) == item_id, col(OutboxRow.state) == expected.value, col(OutboxRow.not_before) <= now
            )
            .values(
                state=OutboxState.SENDING.value,
                attempts=OutboxRow.attempts + 1,
                not_before=now + timedelta(seconds=lease_seconds),
            )
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def undo_outbox_item(self, item_id: int, now: datetime) -> bool:
        """Compare-and-set HELD → UNDONE, only while the hold lasts."""
        res = self.s.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.id) == item_id,
                col(OutboxRow.state) == OutboxState.HELD.value,
                col(OutboxRow.not_before) > now,
            )
            .values(state=OutboxState.UNDONE.value)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def set_outbox(
        self,
        item_id: int,
        *,
        state: OutboxState,
        not_before: datetime | None = None,
        last_error: str | None = None,
        sent_at: datetime | None = None,
        claimed_attempts: int | None = None,
    ) -> bool:
        """With claimed_attempts, only while the item is still this sender's claim (SENDING
        with that attempt count): a late result never overwrites another sender's."""
        values: dict[str, Any] = {"state": state.value, "last_error": last_error}
        if not_before is not None:
            values["not_before"] = not_before
        if sent_at is not None:
            values["sent_at"] = sent_at
        q = update(OutboxRow).where(col(OutboxRow.id) == item_id)
        if claimed_attempts is not None:
            q = q.where(col(OutboxRow.state) == OutboxState.SENDING.value, col(OutboxRow.attempts) == claimed_attempts)
        res = self.s.execute(q.values(**values))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def retry_failed(self, now: datetime) -> int:
        """Failed items become due now, atomically: nothing another sender holds is touched."""
        res = self.s.execute(
            update(OutboxRow).where(col(OutboxRow.state) == OutboxState.FAILED.value).values(not_before=now)
        )
        return int(res.rowcount)  # type: ignore[attr-defined]

    def lock_case_for_decision(self, case_pk: int, user: str) -> bool:
        """The first statement of a decision's transaction: takes the case's write lock and
        checks, atomically, that it is still undecided and not claimed by someone else."""
        res = self.s.execute(
            update(CaseRow)
            .where(
                col(CaseRow.id) == case_pk,
                col(CaseRow.status) != CaseStatus.DECIDED.value,
                or_(col(CaseRow.claimed_by).is_(None), col(CaseRow.claimed_by) == user),
            )
            .values(status=CaseRow.status)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def set_sent_copy_saved(self, item_id: int) -> None:
        self.s.execute(update(OutboxRow).where(col(OutboxRow.id) == item_id).values(sent_copy_saved=True))

    def audit(self, *, at: datetime, actor: str, action: str, case_pk: int | None = None, detail: str = "") -> None:
        """Append to the hash chain. Detail must never carry PHI (ids and outcomes only)."""
        self.audit_many([(at, actor, action, case_pk, detail)])

    def audit_many(self, entries: Sequence[tuple[datetime, str, str, int | None, str]]) -> None:
        """Append (at, actor, action, case_pk, detail) entries in order, in one statement.
        The chain's head is read (and locked, where the database can) once per transaction
        and then kept here: every audit write goes through this method, so it stays true."""
        if not entries:
            return
        prev = self._audit_head()
        rows = []
        for at, actor, action, case_pk, detail in entries:
            h = audit_hash(prev, at, actor, action, case_pk, detail)
            rows.append(
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "case_pk": case_pk,
                    "detail": detail,
                    "prev_hash": prev,
                    "hash": h,
                }
            )
            prev = h
        self.s.execute(insert(_AUDIT_T), rows)
        self._audit_last = prev
        self._audit_count += len(rows)
        head = json.dumps({"hash": prev, "count": self._audit_count})
        self.s.execute(update(_META_T).where(_META_T.c.key == AUDIT_HEAD_KEY).values(value=head))

    def _audit_head(self) -> str:
        """The chain's head, read under the database's write lock: the first statement is
        an UPDATE of the head row, which takes SQLite's write lock (and PostgreSQL's row
        lock) before anything is read, so two writers can never both extend one entry.
        The head row also records the entry count, so `audit verify` notices deleted
        newest entries."""
        if self._audit_last is None:
            res = self.s.execute(update(_META_T).where(_META_T.c.key == AUDIT_HEAD_KEY).values(value=_META_T.c.value))
            if res.rowcount:  # type: ignore[attr-defined]
                stored = json.loads(
                    self.s.execute(select(_META_T.c.value).where(_META_T.c.key == AUDIT_HEAD_KEY)).scalar_one()
                )
                self._audit_last, self._audit_count = str(stored["hash"]), int(stored["count"])
            else:  # init_schema creates the row; this covers a store opened without it
                last = self.s.execute(select(_AUDIT_T.c.hash).order_by(_AUDIT_T.c.id.desc()).limit(1)).scalar()
                count = self.s.execute(select(func.count()).select_from(_AUDIT_T)).scalar_one()
                self._audit_last, self._audit_count = last or "", int(count)
                head = json.dumps({"hash": self._audit_last, "count": self._audit_count})
                self.s.execute(insert(_META_T).values(key=AUDIT_HEAD_KEY, value=head))
        return self._audit_last

    # -- batch ingest: one query per lookup kind for a whole FETCH batch, bulk writes
    def stored_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> set[int]:
        self.s.flush()
        out: set[int] = set()
        for part in _chunks(set(uids)):
            q = select(_RAW_T.c.uid).where(
                _RAW_T.c.mailbox == mailbox, _RAW_T.c.uidvalidity == uidvalidity, _RAW_T.c.uid.in_(part)
            )
            out.update(self.s.execute(q).scalars())
        return out

    def first_raws_by_message_id(self, message_ids: Iterable[str]) -> dict[str, SeenRaw]:
        """The earliest stored raw message per Message-ID (as `raw_by_message_id`)."""
        out: dict[str, SeenRaw] = {}
        for part in _chunks({m for m in message_ids if m}):
            q = (
                select(_RAW_T.c.message_id, _RAW_T.c.kind, _RAW_T.c.case_pk)
                .where(_RAW_T.c.message_id.in_(part))
                .order_by(_RAW_T.c.id)
            )
            for mid, kind, case_pk in self.s.execute(q):
                out.setdefault(mid, SeenRaw(kind, case_pk))
        return out

    def first_raws_by_content_hash(self, hashes: Iterable[str]) -> dict[tuple[str, str], SeenRaw]:
        """The earliest stored raw message per (content hash, sender) (as `raw_by_content_hash`)."""
        out: dict[tuple[str, str], SeenRaw] = {}
        for part in _chunks({h for h in hashes if h}):
            q = (
                select(_RAW_T.c.content_hash, _RAW_T.c.sender, _RAW_T.c.kind, _RAW_T.c.case_pk)
                .where(_RAW_T.c.content_hash.in_(part))
                .order_by(_RAW_T.c.id)
            )
            for h, sender, kind, case_pk in self.s.execute(q):
                out.setdefault((h, sender), SeenRaw(kind, case_pk))
        return out

    def thread_case_pks(self, message_ids: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
        """For thread lookups (as `case_by_message_ids`): case pk by the case's own
        Message-ID, and case pk by the Message-ID of any raw message linked to a case."""
        by_case: dict[str, int] = {}
        by_raw: dict[str, int] = {}
        for part in _chunks({m for m in message_ids if m}):
            q = select(_CASE_T.c.message_id, _CASE_T.c.id).where(_CASE_T.c.message_id.in_(part)).order_by(_CASE_T.c.id)
            for mid, pk in self.s.execute(q):
                by_case.setdefault(mid, pk)
            q = (
                select(_RAW_T.c.message_id, _RAW_T.c.case_pk)
                .where(_RAW_T.c.message_id.in_(part), _RAW_T.c.case_pk.is_not(None))
                .order_by(_RAW_T.c.id)
            )
            for mid, pk in self.s.execute(q):
                by_raw.setdefault(mid, pk)
        return by_case, by_raw

    def cases_by_pk(self, pks: Iterable[int]) -> dict[int, Case]:
        out: dict[int, Case] = {}
        for part in _chunks(set(pks)):
            for r in self.s.execute(select(*_CASE_READ_COLS).where(_CASE_T.c.id.in_(part))):
                out[r.id] = case_from_row(r)
        return out

    def cases_by_sender_case_id(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Case]:
        """Cases keyed by (sender, case ID), for the given pairs only."""
        wanted = set(pairs)
        out: dict[tuple[str, str], Case] = {}
        for part in _chunks({cid for _, cid in wanted}):
            for r in self.s.execute(select(*_CASE_READ_COLS).where(_CASE_T.c.case_id.in_(part))):
                if (r.sender, r.case_id) in wanted:
                    out[(r.sender, r.case_id)] = case_from_row(r)
        return out

    def add_raws(self, raws: Sequence[NewRaw]) -> list[int]:
        """Insert raw messages in order with one executemany; returns their ids in order.

        The ids are read back by the unique (mailbox, uidvalidity, uid) rather than with
        RETURNING: SQLAlchemy can only match RETURNING rows to parameter sets on SQLite by
        inserting one row per statement, which costs more than the extra SELECT."""
        if not raws:
            return []
        conn = self.s.connection()
        conn.execute(insert(_RAW_T), [r.values() for r in raws])
        ids: dict[tuple[str, int, int], int] = {}
        for (mailbox, uidvalidity), uids in _group(raws, lambda r: (r.mailbox, r.uidvalidity), lambda r: r.uid):
            for part in _chunks(uids):
                q = select(_RAW_T.c.uid, _RAW_T.c.id).where(
                    _RAW_T.c.mailbox == mailbox, _RAW_T.c.uidvalidity == uidvalidity, _RAW_T.c.uid.in_(part)
                )
                ids.update(((mailbox, uidvalidity, uid), pk) for uid, pk in conn.execute(q))
        return [ids[(r.mailbox, r.uidvalidity, r.uid)] for r in raws]

    def add_cases(self, cases: Sequence[tuple[Case, str, Deadlines]]) -> list[int]:
        """Insert new cases (Case.id is ignored) with their body text and deadlines, in
        order, in one statement; returns the new ids in order."""
        if not cases:
            return []
        rows = []
        for c, body_text, d in cases:
            rows.append(
                {
                    "case_id": c.case_id,
                    "sender": c.sender,
                    "sender_name": c.sender_name,
                    "subject": c.subject[:500],
                    "reply_to": c.reply_to,
                    "message_id": c.message_id,
                    "references": "\n".join(c.references),
                    "status": c.status.value,
                    "arrived_at": c.arrived_at,
                    "problems": "\n".join(c.problems),
                    "update_count": c.update_count,
                    "last_updated_at": c.last_updated_at,
                    "regulatory_extended_to": c.regulatory_extended_to,
                    "extension_reason": c.extension_reason,
                    "paused_seconds": c.paused_seconds,
                    "paused_since": c.paused_since,
                    "first_opened_at": c.first_opened_at,
                    "claimed_by": c.claimed_by,
                    "urgency_rank": URGENCY_RANK[c.fields.urgency.value],
                    "body_text": body_text,
                    **field_values(c.fields),
                    **_deadline_values(d),
                }
            )
        conn = self.s.connection()
        conn.execute(insert(_CASE_T), rows)
        ids: dict[tuple[str, str], int] = {}  # by the unique (sender, case ID), as in add_raws
        for part in _chunks({c.case_id for c, _, _ in cases}):
            q = select(_CASE_T.c.sender, _CASE_T.c.case_id, _CASE_T.c.id).where(_CASE_T.c.case_id.in_(part))
            ids.update(((sender, case_id), pk) for sender, case_id, pk in conn.execute(q))
        return [ids[(c.sender, c.case_id)] for c, _, _ in cases]

    def apply_followups(self, updates: Sequence[tuple[Case, str, Deadlines]]) -> None:
        """Write stored cases changed by follow-ups: their fields, update count and time,
        deadlines, and text appended to the body, in one statement."""
        if not updates:
            return
        values: dict[str, Any] = {name: bindparam("v_" + name) for name in field_values(CaseFields())}
        for name in ("urgency_rank", "update_count", "last_updated_at", *_deadline_values_names()):
            values[name] = bindparam("v_" + name)
        values["body_text"] = func.coalesce(_CASE_T.c.body_text, "") + bindparam("v_body_suffix")
        q = update(_CASE_T).where(_CASE_T.c.id == bindparam("v_pk")).values(values)
        rows = []
        for c, suffix, d in updates:
            row = {"v_" + k: v for k, v in field_values(c.fields).items()}
            row.update({"v_" + k: v for k, v in _deadline_values(d).items()})
            row.update(
                v_pk=c.id,
                v_urgency_rank=URGENCY_RANK[c.fields.urgency.value],
                v_update_count=c.update_count,
                v_last_updated_at=c.last_updated_at,
                v_body_suffix=suffix,
            )
            rows.append(row)
        self.s.connection().execute(q, rows)

    def add_attachments(self, items: Sequence[tuple[int, int, Attachment]]) -> None:
        """(case_pk, raw_pk, attachment) rows in one statement."""
        if not items:
            return
        rows = [
            {
                "case_pk": case_pk,
                "raw_message_pk": raw_pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "part": a.part,
                "text": a.text,
            }
            for case_pk, raw_pk, a in items
        ]
        self.s.execute(insert(_ATT_T), rows)

    def set_attachment_texts(self, texts: Sequence[tuple[int, str | None]]) -> None:
        """(attachment id, extracted text) from the PDF pass; None (unreadable, no text)
        is stored as "" so the pass does not read that packet again."""
        if not texts:
            return
        q = update(_ATT_T).where(_ATT_T.c.id == bindparam("a_pk")).values(text=bindparam("a_text"))
        self.s.connection().execute(q, [{"a_pk": pk, "a_text": text or ""} for pk, text in texts])

    def _case_row(self, case_pk: int) -> CaseRow:
        row = self.s.get(CaseRow, case_pk)
        if row is None:
            raise StoreError(f"case #{case_pk} vanished from the store")
        return row

    # reads that also serve inside a transaction
    def case(self, case_pk: int) -> Case:
        return case_from_row(self._case_row(case_pk))

    def active_decision(self, case_pk: int) -> Decision | None:
        r = self.s.exec(
            select(DecisionRow)
            .where(DecisionRow.case_pk == case_pk, col(DecisionRow.undone).is_(False))
            .order_by(col(DecisionRow.id).desc())
        ).first()
        return decision_from_row(r) if r else None

    def outbox_for_decision(self, decision_id: int) -> OutboxItem | None:
        r = self.s.exec(select(OutboxRow).where(OutboxRow.decision_id == decision_id)).first()
        return outbox_from_row(r) if r else None


def _without_identity(f: CaseFields) -> CaseFields:
    return replace(f, case_id=None)


def _deadline_values_names() -> tuple[str, ...]:
    return ("due_at", "reviewer_due_at", "regulatory_due_at", "binding", "window_start")


# ---------------------------------------------------------------- the store


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        engine = db.make_engine(url)
        if create:
            db.init_schema(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield Tx(s)
                s.commit()
        except OperationalError as exc:
            raise StoreError(f"database error: {db._short(exc)}") from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield s
        except OperationalError as exc:
            raise StoreError(f"database error: {db._short(exc)}") from None

    # ---- cases
    def case(self, case_pk: int) -> Case | None:
        with self.read() as s:
            r = s.get(CaseRow, case_pk)
            return case_from_row(r) if r else None

    def find_cases(self, case_id: str) -> list[Case]:
        """By the case ID the reviewer types (exact, then case-insensitive), or #pk."""
        with self.read() as s:
            if case_id.startswith("#") and case_id[1:].isdigit():
                r = s.get(CaseRow, int(case_id[1:]))
                return [case_from_row(r)] if r else []
            rows = s.exec(select(CaseRow).where(CaseRow.case_id == case_id)).all()
            if not rows:
                rows = s.exec(select(CaseRow).where(func.lower(CaseRow.case_id) == case_id.lower())).all()
            return [case_from_row(r) for r in rows]

    def cases(self, *, open_only: bool = True) -> list[Case]:
        with self.read() as s:
            q = select(CaseRow)
            if open_only:
                q = q.where(CaseRow.status != CaseStatus.DECIDED.value)
            q = q.order_by(col(CaseRow.due_at), col(CaseRow.urgency_rank), col(CaseRow.arrived_at), col(CaseRow.id))
            return [case_from_row(r) for r in s.exec(q)]

    def queue_rows(self, *, open_only: bool = True, limit: int | None = None) -> list[QueueRow]:
        return list(self.iter_queue_rows(open_only=open_only, limit=limit))

    def iter_queue_rows(self, *, open_only: bool = True, limit: int | None = None) -> Iterator[QueueRow]:
        """Streamed in chunks, so a 100k-case queue never holds all its raw result rows and
        all its QueueRows at once (peak memory is what RSS keeps)."""
        has_problems = func.coalesce(func.length(CaseRow.problems), 0) > 0
        cols = (
            CaseRow.id, CaseRow.case_id, CaseRow.status, CaseRow.due_at, CaseRow.window_start, CaseRow.binding,
            CaseRow.urgency, CaseRow.review_type, CaseRow.client, CaseRow.service, CaseRow.nurse_recommendation,
            CaseRow.member_name, CaseRow.update_count, has_problems, CaseRow.arrived_at, CaseRow.sender,
            col(CaseRow.paused_since).is_not(None),
        )
        q = select(*cols)  # type: ignore[call-overload]
        if open_only:
            q = q.where(CaseRow.status != CaseStatus.DECIDED.value)
        q = q.order_by(col(CaseRow.due_at), col(CaseRow.urgency_rank), col(CaseRow.arrived_at), col(CaseRow.id))
        if limit:
            q = q.limit(limit)
        with self.read() as s:
            for t in s.execute(q.execution_options(yield_per=2000)):
                yield QueueRow(*t)

    def attachments(self, case_pk: int, *, with_data: bool = False) -> list[Attachment]:
        with self.read() as s:
            rows = s.exec(select(AttachmentRow).where(AttachmentRow.case_pk == case_pk).order_by(col(AttachmentRow.id)))
            atts = [
                (r.raw_message_pk, Attachment(r.filename, r.content_type, r.size, b"", r.text or None, r.part))
                for r in rows
            ]
            if not with_data:
                return [a for _, a in atts]
            raws = self._raws_by_pk(s, {pk for pk, _ in atts})
        return [replace(a, data=part_bytes(raws.get(pk, b""), a.part)) for pk, a in atts]

    @staticmethod
    def _raws_by_pk(s: Session, pks: Iterable[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for part in _chunks(pks):
            q = select(RawMessageRow.id, RawMessageRow.raw).where(col(RawMessageRow.id).in_(part))
            out.update((pk, raw) for pk, raw in s.execute(q))
        return out

    def pdfs_without_text(self, *, limit: int, case_pk: int | None = None) -> list[tuple[int, bytes, str]]:
        """(attachment id, raw message, part) of PDF attachments whose text was not
        extracted yet, oldest first: the work list of the PDF pass that follows a sync
        (which decodes the part with the mail parser's fast walker)."""
        q = select(_ATT_T.c.id, _ATT_T.c.raw_message_pk, _ATT_T.c.part).where(
            _ATT_T.c.text.is_(None),
            or_(_ATT_T.c.content_type == "application/pdf", func.lower(_ATT_T.c.filename).like("%.pdf")),
        )
        if case_pk is not None:
            q = q.where(_ATT_T.c.case_pk == case_pk)
        q = q.order_by(_ATT_T.c.id).limit(limit)
        with self.read() as s:
            todo = list(s.execute(q))
            raws = self._raws_by_pk(s, {r.raw_message_pk for r in todo})
        return [(r.id, raws.get(r.raw_message_pk, b""), r.part) for r in todo]

    def body_text(self, case_pk: int) -> str:
        with self.read() as s:
            return s.exec(select(CaseRow.body_text).where(CaseRow.id == case_pk)).first() or ""

    def raw_messages(self, *, case_pk: int | None = None, kinds: Sequence[str] = ()) -> list[RawMessageInfo]:
        cols = [c for c in RawMessageRow.__table__.columns if c.name != "raw"]  # type: ignore[attr-defined]
        q = select(*cols)
        if case_pk is not None:
            q = q.where(RawMessageRow.case_pk == case_pk)
        if kinds:
            q = q.where(col(RawMessageRow.kind).in_(list(kinds)))
        q = q.order_by(col(RawMessageRow.id))
        with self.read() as s:
            return [
                RawMessageInfo(
                    t.id,
                    t.mailbox,
                    t.uid,
                    t.kind,
                    t.reason,
                    t.sender,
                    t.subject,
                    t.message_id,
                    t.internaldate,
                    t.ingested_at,
                    t.size,
                    t.case_pk,
                )
                for t in s.execute(q)
            ]

    def raw_bytes(self, raw_pk: int) -> bytes:
        with self.read() as s:
            return s.exec(select(RawMessageRow.raw).where(RawMessageRow.id == raw_pk)).first() or b""

    def first_raw_for_case(self, case_pk: int) -> bytes:
        with self.read() as s:
            r = s.exec(
                select(RawMessageRow.raw).where(RawMessageRow.case_pk == case_pk).order_by(col(RawMessageRow.id))
            ).first()
            return r or b""

    def decisions(self, case_pk: int) -> list[Decision]:
        with self.read() as s:
            rows = s.exec(select(DecisionRow).where(DecisionRow.case_pk == case_pk).order_by(col(DecisionRow.id)))
            return [decision_from_row(r) for r in rows]

    def decisions_between(self, since: datetime | None, until: datetime | None) -> list[tuple[Decision, Case]]:
        with self.read() as s:
            q = select(DecisionRow, CaseRow).where(
                DecisionRow.case_pk == CaseRow.id, col(DecisionRow.undone).is_(False)
            )
            if since:
                q = q.where(DecisionRow.decided_at >= since)
            if until:
                q = q.where(DecisionRow.decided_at < until)
            return [
                (decision_from_row(d), case_from_row(c)) for d, c in s.exec(q.order_by(col(DecisionRow.decided_at)))
            ]

    def calls(self, case_pk: int) -> list[CallAttempt]:
        with self.read() as s:
            rows = s.exec(
                select(CallAttemptRow).where(CallAttemptRow.case_pk == case_pk).order_by(col(CallAttemptRow.at))
            )
            return [call_from_row(r) for r in rows]

    # ---- outbox
    def outbox(self, *, states: Sequence[OutboxState] = (), case_pk: int | None = None) -> list[OutboxItem]:
        with self.read() as s:
            q = select(OutboxRow)
            if case_pk is not None:
                q = q.where(col(OutboxRow.case_pk) == case_pk)
            if states:
                q = q.where(col(OutboxRow.state).in_([x.value for x in states]))
            return [outbox_from_row(r) for r in s.exec(q.order_by(col(OutboxRow.id)))]

    def outbox_due(self, now: datetime) -> list[OutboxItem]:
        with self.read() as s:
            q = select(OutboxRow).where(
                col(OutboxRow.state).in_(
                    [
                        OutboxState.HELD.value,
                        OutboxState.QUEUED.value,
                        OutboxState.FAILED.value,
                        OutboxState.SENDING.value,
                    ]
                ),
                OutboxRow.not_before <= now,
            )
            return [outbox_from_row(r) for r in s.exec(q.order_by(col(OutboxRow.id)))]

    def outbox_item(self, item_id: int) -> tuple[OutboxItem, str, bool]:
        """(item, mail_from, sent_copy_saved)."""
        with self.read() as s:
            r = s.get(OutboxRow, item_id)
            if r is None:
                raise StoreError(f"outbox item {item_id} not found")
            return outbox_from_row(r), r.mail_from, r.sent_copy_saved

    def outbox_counts(self) -> dict[str, int]:
        with self.read() as s:
            rows = s.exec(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
            return {state: n for state, n in rows}

    def sent_without_copy(self) -> list[OutboxItem]:
        with self.read() as s:
            q = select(OutboxRow).where(
                OutboxRow.state == OutboxState.SENT.value, col(OutboxRow.sent_copy_saved).is_(False)
            )
            return [outbox_from_row(r) for r in s.exec(q)]

    # ---- audit
    def audit_head(self) -> tuple[str, int] | None:
        """(last hash, entry count) as recorded by the last audit write, if any."""
        with self.read() as s:
            value = s.execute(select(_META_T.c.value).where(_META_T.c.key == AUDIT_HEAD_KEY)).scalar()
        if value is None:
            return None
        stored = json.loads(value)
        return str(stored["hash"]), int(stored["count"])

    def audit_entries(self, *, case_pk: int | None = None) -> list[AuditEntry]:
        with self.read() as s:
            q = select(AuditRow)
            if case_pk is not None:
                q = q.where(AuditRow.case_pk == case_pk)
            return [audit_from_row(r) for r in s.exec(q.order_by(col(AuditRow.id)))]

    def counts(self) -> dict[str, int]:
        with self.read() as s:
            open_n = s.exec(select(func.count()).select_from(CaseRow).where(CaseRow.status != "decided")).one()
            all_n = s.exec(select(func.count()).select_from(CaseRow)).one()
            raw_n = s.exec(select(func.count()).select_from(RawMessageRow)).one()
            return {"open": int(open_n), "cases": int(all_n), "messages": int(raw_n)}
