"""The unit of work: one transaction's reads and writes.

Writes that must be atomic together (a FETCH batch and its cursor advance; a decision, its
outbox item and audit entries) happen in one Tx, so a crash leaves all of it or none.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from uq.domain import (
    CallAttempt,
    CallOutcome,
    Case,
    CaseFields,
    CaseStatus,
    Deadlines,
    Decision,
    DeclineReason,
    OutboxItem,
    OutboxState,
    Outcome,
)
from uq.errors import StoreError
from uq.store.audit_chain import Audited, AuditTx, Head, KeySource
from uq.store.batch import BatchTx
from uq.store.convert import (
    URGENCY_RANK,
    _chunks,
    _deadline_values,
    call_from_row,
    case_from_row,
    decision_from_row,
    outbox_from_row,
)
from uq.store.digest import DECISION, OUTBOX, UNHASHED
from uq.store.tables import (
    CallAttemptRow,
    CaseRow,
    DecisionRow,
    OutboxRow,
    PrivateNoteRow,
    RawMessageRow,
    SyncCursorRow,
    SyncLeaseRow,
)

# ---------------------------------------------------------------- unit of work


OUTBOX_UNHASHED = UNHASHED[OUTBOX]


class Tx(BatchTx, AuditTx):
    """One transaction. Lookups see this transaction's own uncommitted writes.

    Every change to a decision or an outbox item takes an `Audited` and goes through
    `record_change` (outbox items through `change_outbox`), so the trail holds each row's
    content digest as it was left."""

    def __init__(self, session: Session, key_source: KeySource | None = None) -> None:
        self.s = session
        self._key_source = key_source
        self._head: Head | None = None  # the audit chain's head, once read (and locked) here

    # -- sync cursor
    def cursor(self, mailbox: str, uidvalidity: int) -> int | None:
        row = self.s.get(SyncCursorRow, (mailbox, uidvalidity))
        return row.last_uid if row else None

    def retire_uids(self, mailbox: str, uidvalidity: int, now: datetime) -> int:
        """The folder was re-created with the same UIDVALIDITY, so its UIDs start over: the
        stored messages keep their bytes and cases but move to a retired mailbox name, which
        frees (mailbox, uidvalidity, uid) for the new messages, and the cursor restarts."""
        retired = f"{mailbox} (UIDs before {now:%Y-%m-%dT%H:%M:%SZ})"
        res = self.s.execute(
            update(RawMessageRow)
            .where(col(RawMessageRow.mailbox) == mailbox, col(RawMessageRow.uidvalidity) == uidvalidity)
            .values(mailbox=retired, pending_mark=False)
        )
        self.s.execute(
            update(SyncCursorRow)
            .where(col(SyncCursorRow.mailbox) == mailbox, col(SyncCursorRow.uidvalidity) == uidvalidity)
            .values(last_uid=0, updated_at=now)
        )
        return int(res.rowcount)  # type: ignore[attr-defined]

    def known_uidvalidities(self, mailbox: str) -> list[int]:
        rows = self.s.exec(select(SyncCursorRow.uidvalidity).where(SyncCursorRow.mailbox == mailbox))
        return list(rows)

    def set_pending_marks(self, mailbox: str, uidvalidity: int, uids: Sequence[int], pending: bool) -> None:
        for part in _chunks(uids):
            self.s.execute(
                update(RawMessageRow)
                .where(
                    col(RawMessageRow.mailbox) == mailbox,
                    col(RawMessageRow.uidvalidity) == uidvalidity,
                    col(RawMessageRow.uid).in_(part),
                )
                .values(pending_mark=pending)
            )

    def pending_marks(self, mailbox: str, uidvalidity: int) -> list[int]:
        q = select(RawMessageRow.uid).where(
            col(RawMessageRow.mailbox) == mailbox,
            col(RawMessageRow.uidvalidity) == uidvalidity,
            col(RawMessageRow.pending_mark).is_(True),
        )
        return sorted(self.s.exec(q))

    def advance_cursor(self, mailbox: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        row = self.s.get(SyncCursorRow, (mailbox, uidvalidity))
        if row is None:
            self.s.add(SyncCursorRow(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now))
        elif last_uid > row.last_uid:
            row.last_uid = last_uid
            row.updated_at = now
            self.s.add(row)

    # -- one syncer per mailbox
    def take_sync_lease(self, mailbox: str, holder: str, now: datetime, until: datetime) -> str | None:
        """Compare-and-set: the lease is ours (new, renewed, or taken over once expired) and
        None comes back; else the current holder's name. The UPDATE comes first, so it
        also takes the write lock that serialises two syncers' batches."""
        res = self.s.execute(
            update(SyncLeaseRow)
            .where(
                col(SyncLeaseRow.mailbox) == mailbox,
                or_(
                    col(SyncLeaseRow.holder).in_([holder, ""]),
                    col(SyncLeaseRow.expires_at) < now,
                ),
            )
            .values(holder=holder, expires_at=until)
        )
        if res.rowcount:  # type: ignore[attr-defined]
            return None
        current = self.s.exec(select(SyncLeaseRow.holder).where(SyncLeaseRow.mailbox == mailbox)).first()
        if current is not None:
            return current
        # the first syncer ever: INSERT ... ON CONFLICT DO NOTHING, so losing the race to
        # another first syncer is no error (and no savepoint to roll back)
        dialect = self.s.get_bind().dialect.name
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(SyncLeaseRow)
        stmt = ins.values(mailbox=mailbox, holder=holder, expires_at=until).on_conflict_do_nothing()
        if self.s.connection().execute(stmt.returning(col(SyncLeaseRow.mailbox))).first() is not None:
            return None
        return self.s.exec(select(SyncLeaseRow.holder).where(SyncLeaseRow.mailbox == mailbox)).first() or "?"

    def hold_sync_lease(self, mailbox: str, holder: str, now: datetime, until: datetime) -> bool:
        """Renew only a lease still ours (the fence before a batch is stored)."""
        res = self.s.execute(
            update(SyncLeaseRow)
            .where(
                col(SyncLeaseRow.mailbox) == mailbox,
                col(SyncLeaseRow.holder) == holder,
                col(SyncLeaseRow.expires_at) >= now,
            )
            .values(expires_at=until)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def release_sync_lease(self, mailbox: str, holder: str, now: datetime) -> None:
        self.s.execute(
            update(SyncLeaseRow)
            .where(col(SyncLeaseRow.mailbox) == mailbox, col(SyncLeaseRow.holder) == holder)
            .values(holder="", expires_at=now)
        )

    # -- writes
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
        """One case, through the batch insert (the one write path for new cases); the
        deadlines are left for `set_deadlines`."""
        case = Case(
            id=0,
            case_id=case_id,
            sender=sender,
            subject=subject[:500],
            status=CaseStatus.OPEN,
            arrived_at=arrived_at,
            fields=fields,
            problems=tuple(problems),
            sender_name=sender_name,
            reply_to=reply_to,
            message_id=message_id,
            references=tuple(references),
        )
        (pk,) = self.add_cases([(case, body_text, None)])
        return self.case(pk)

    def set_deadlines(self, case_pk: int, d: Deadlines) -> None:
        self.s.execute(
            update(CaseRow)
            .where(col(CaseRow.id) == case_pk)
            .values(_deadline_values(d))
        )

    def set_status(self, case_pk: int, status: CaseStatus) -> None:
        row = self._case_row(case_pk)
        row.status = status.value
        self.s.add(row)

    def start_pend(self, case_pk: int, at: datetime, items: str) -> None:
        """An information request went out. The previous request's wait, if it was
        answered, is folded into the earlier total; a request while one is still open
        keeps the open one's start (the wait goes on) and takes the new items."""
        row = self._case_row(case_pk)
        if row.paused_since is not None and row.info_received_at is not None:
            row.paused_seconds += max(0, int((row.info_received_at - row.paused_since).total_seconds()))
            row.paused_since = None
        if row.paused_since is None:
            row.paused_since = at
        row.info_received_at = None
        row.pend_items = items
        row.status = CaseStatus.PENDED.value
        self.s.add(row)

    def end_pend(self, case_pk: int, at: datetime) -> bool:
        """The requested information arrived (or the reviewer says so): the wait ends at
        `at` and a pended case is open again. False when no request was waiting."""
        row = self._case_row(case_pk)
        if row.paused_since is None or row.info_received_at is not None:
            return False
        row.info_received_at = max(at, row.paused_since)
        if row.status == CaseStatus.PENDED.value:
            row.status = CaseStatus.OPEN.value
        self.s.add(row)
        return True

    def cancel_pend(self, case_pk: int) -> None:
        """An undone information request never happened: no wait, no items."""
        row = self._case_row(case_pk)
        row.paused_since = None
        row.info_received_at = None
        row.pend_items = None
        self.s.add(row)

    def set_facts(self, case_pk: int, **columns: str | datetime) -> None:
        """Facts the reviewer corrects (urgency, review level), by column name."""
        row = self._case_row(case_pk)
        for name, value in columns.items():
            setattr(row, name, value)
        row.urgency_rank = URGENCY_RANK[row.urgency]
        self.s.add(row)

    def add_problems(self, case_pk: int, problems: Sequence[str]) -> None:
        """Append problem lines the case does not list yet (a PDF cut short by a limit)."""
        row = self._case_row(case_pk)
        have = row.problems.split("\n") if row.problems else []
        new = [p for p in problems if p not in have]
        if new:
            row.problems = "\n".join([*have, *new])
            self.s.add(row)

    def mark_opened(self, case_pk: int, now: datetime) -> Case:
        row = self._case_row(case_pk)
        if row.first_opened_at is None:
            row.first_opened_at = now
            self.s.add(row)
        return case_from_row(row)

    def add_active_seconds(self, case_pk: int, seconds: int) -> None:
        """Added in SQL, so two windows on one case never overwrite each other's time."""
        self.s.execute(
            update(CaseRow)
            .where(col(CaseRow.id) == case_pk)
            .values(active_seconds=CaseRow.active_seconds + max(0, seconds))
        )

    def set_note(self, case_pk: int, reviewer: str, text: str, now: datetime) -> None:
        row = self.s.exec(
            select(PrivateNoteRow).where(PrivateNoteRow.case_pk == case_pk, PrivateNoteRow.reviewer == reviewer)
        ).first()
        if row is None:
            row = PrivateNoteRow(case_pk=case_pk, reviewer=reviewer, text=text, updated_at=now)
        else:
            row.text, row.updated_at = text, now
        self.s.add(row)

    def extend(self, case_pk: int, new_due: datetime, reason: str) -> None:
        row = self._case_row(case_pk)
        row.regulatory_extended_to = new_due
        row.extension_reason = reason
        self.s.add(row)

    def claim(self, case_pk: int, user: str, *, now: datetime, until: datetime, skip_busy: bool = False) -> bool:
        """Take (or renew) the lease on an open case if it is free, run out, or ours.

        skip_busy (`claim --next`): on PostgreSQL the row is first locked with FOR UPDATE
        SKIP LOCKED, so a case another reviewer is claiming this instant is skipped at once
        instead of waited for and concurrent runs spread over the queue. Otherwise (and on
        SQLite, one writer at a time) the compare-and-set UPDATE alone decides, after
        waiting for a concurrent claim to commit so the loser can say who won."""
        if skip_busy and self.s.execute(_locked_unless_busy(case_pk)).first() is None:
            return False
        res = self.s.execute(
            update(CaseRow)
            .where(col(CaseRow.id) == case_pk, col(CaseRow.status) != CaseStatus.DECIDED.value, _free_for(user, now))
            .values(claimed_by=user, claim_until=until)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def renew_claim(self, case_pk: int, user: str, until: datetime) -> bool:
        """Extend our lease; False once someone else holds the case."""
        res = self.s.execute(
            update(CaseRow).where(col(CaseRow.id) == case_pk, col(CaseRow.claimed_by) == user).values(claim_until=until)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def release_claim(self, case_pk: int, user: str) -> bool:
        """Give our claim back (nothing happens to someone else's)."""
        res = self.s.execute(
            update(CaseRow)
            .where(col(CaseRow.id) == case_pk, col(CaseRow.claimed_by) == user)
            .values(claimed_by=None, claim_until=None)
        )
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
        audited: Audited,
        criteria: Sequence[str] = (),
        denied_portion: str | None = None,
        change_info: str = "",
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
            criteria="\n".join(" ".join(c.split()) for c in criteria if c.strip()),
            denied_portion=denied_portion,
            change_info=change_info,
        )
        self.s.add(row)
        self.s.flush()
        assert row.id is not None
        self.record_change(DECISION, [row.id], audited)
        return decision_from_row(row)

    def undo_decision(self, decision_id: int, audited: Audited) -> None:
        self.s.execute(update(DecisionRow).where(col(DecisionRow.id) == decision_id).values(undone=True))
        self.record_change(DECISION, [decision_id], audited)

    def add_call(
        self,
        *,
        case_pk: int,
        at: datetime,
        number: str,
        outcome: CallOutcome,
        note: str,
        reviewer: str,
        in_reply: bool = False,
    ) -> CallAttempt:
        row = CallAttemptRow(
            case_pk=case_pk,
            at=at,
            number=number,
            outcome=outcome.value,
            note=note,
            reviewer=reviewer,
            in_reply=in_reply,
        )
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
        audited: Audited,
        reviewer: str = "",
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
            reviewer=reviewer,
        )
        self.s.add(row)
        self.s.flush()
        assert row.id is not None
        self.record_change(OUTBOX, [row.id], audited)
        return outbox_from_row(row)

    def change_outbox(
        self, item_id: int, values: dict[str, Any], audited: Audited | None, *, where: Sequence[Any] = ()
    ) -> bool:
        """The one way an outbox item changes: a compare-and-set UPDATE (only while every
        `where` condition holds) and, when it applied, an audit entry with the item's new
        content digest, in this transaction. `audited` may be None only for changes to
        columns outside the digest (a lease renewal moves not_before alone)."""
        if audited is not None:  # the chain's head first, the row second: one lock order for all
            self._locked_head(self._key(), audited.at)
        q = update(OutboxRow).where(col(OutboxRow.id) == item_id, *where).values(**values)
        if not self.s.execute(q).rowcount:  # type: ignore[attr-defined]
            return False
        if audited is None:
            if not set(values) <= set(OUTBOX_UNHASHED):
                raise StoreError(f"outbox change of {sorted(values)} needs an audit entry")
            return True
        self.record_change(OUTBOX, [item_id], audited)
        return True

    def release_hold(self, item_id: int, *, now: datetime, actor: str, case_pk: int) -> bool:
        """End an item's undo hold now (the reviewer chose "send now" on quitting); only an
        item still held changes, so a reply already sending or undone is left as it is."""
        where = [col(OutboxRow.state) == OutboxState.HELD.value]
        if not self.change_outbox(item_id, {"not_before": now}, None, where=where):
            return False
        self.audit(at=now, actor=actor, action="hold_released", case_pk=case_pk, detail=f"outbox {item_id}")
        return True

    def claim_outbox_item(
        self,
        item_id: int,
        expected: OutboxState,
        *,
        now: datetime,
        audited: Audited,
        lease_seconds: float = 120,
        token: str | None = None,
    ) -> str | None:
        """Compare-and-set to SENDING with a lease and a fresh token (returned; None when
        someone else got there first). The claim moves not_before into the future, so of two
        senders that read the same due item only one matches; an item whose lease lapsed
        (its sender died) is claimed the same way, and its old token stops matching."""
        token = token or secrets.token_hex(8)
        values = {
            "state": OutboxState.SENDING.value,
            "attempts": OutboxRow.attempts + 1,
            "not_before": now + timedelta(seconds=lease_seconds),
            "lease_token": token,
        }
        where = [col(OutboxRow.state) == expected.value, col(OutboxRow.not_before) <= now]
        return token if self.change_outbox(item_id, values, audited, where=where) else None

    def renew_outbox_lease(self, item_id: int, token: str, until: datetime) -> bool:
        """Extend a live claim; False once the claim is no longer this token's. Not audited:
        only the lease's end moves (outside the content digest)."""
        where = [col(OutboxRow.lease_token) == token, _in_flight()]
        return self.change_outbox(item_id, {"not_before": until}, None, where=where)

    def begin_outbox_data(self, item_id: int, token: str, until: datetime, audited: Audited) -> bool:
        """The fencing check before the message goes out: only the current claim may send,
        and from here on the outcome counts as unknown until the server answers."""
        values = {
            "state": OutboxState.UNCERTAIN.value,
            "unknown_outcomes": OutboxRow.unknown_outcomes + 1,
            "not_before": until,
        }
        where = [col(OutboxRow.lease_token) == token, col(OutboxRow.state) == OutboxState.SENDING.value]
        return self.change_outbox(item_id, values, audited, where=where)

    def undo_outbox_item(self, item_id: int, now: datetime, audited: Audited) -> bool:
        """Compare-and-set HELD → UNDONE, only while the hold lasts."""
        where = [col(OutboxRow.state) == OutboxState.HELD.value, col(OutboxRow.not_before) > now]
        return self.change_outbox(item_id, {"state": OutboxState.UNDONE.value}, audited, where=where)

    def set_outbox(
        self,
        item_id: int,
        *,
        state: OutboxState,
        audited: Audited,
        not_before: datetime | None = None,
        last_error: str | None = None,
        sent_at: datetime | None = None,
        token: str | None = None,
        uncount_attempt: bool = False,
        outcome_known: bool = False,
        copy_saved: bool = False,
    ) -> bool:
        """End a claim. With token, only while the item is still that claim: a late result
        never overwrites another sender's. uncount_attempt: the try never reached the
        server's mail commands; outcome_known: the server did answer the end of the data."""
        values: dict[str, Any] = {"state": state.value, "last_error": last_error, "lease_token": None}
        if not_before is not None:
            values["not_before"] = not_before
        if sent_at is not None:
            values["sent_at"] = sent_at
        if uncount_attempt:
            values["attempts"] = OutboxRow.attempts - 1
        if outcome_known:
            values["unknown_outcomes"] = OutboxRow.unknown_outcomes - 1
        if copy_saved:
            values["sent_copy_saved"] = True
        where = [col(OutboxRow.lease_token) == token, _in_flight()] if token is not None else []
        return self.change_outbox(item_id, values, audited, where=where)

    def requeue_outbox_item(self, item_id: int, now: datetime, audited: Audited) -> bool:
        """STOPPED → QUEUED, its tries counted afresh (the reviewer asked for it)."""
        values = {"state": OutboxState.QUEUED.value, "attempts": 0, "unknown_outcomes": 0, "not_before": now}
        where = [col(OutboxRow.state) == OutboxState.STOPPED.value]
        return self.change_outbox(item_id, values, audited, where=where)

    def retry_failed(self, now: datetime, audited: Audited) -> int:
        """Failed items become due now: nothing another sender took meanwhile is touched."""
        failed = self.s.exec(select(OutboxRow.id).where(OutboxRow.state == OutboxState.FAILED.value)).all()
        where = [col(OutboxRow.state) == OutboxState.FAILED.value]
        return sum(self.change_outbox(i, {"not_before": now}, audited, where=where) for i in failed if i is not None)

    def lock_case_for_decision(self, case_pk: int, user: str, now: datetime) -> bool:
        """The first statement of a decision's transaction: takes the case's write lock and
        checks, atomically, that it is still undecided and not held by someone else."""
        res = self.s.execute(
            update(CaseRow)
            .where(
                col(CaseRow.id) == case_pk,
                col(CaseRow.status) != CaseStatus.DECIDED.value,
                _free_for(user, now),
            )
            .values(status=CaseRow.status)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def set_sent_copy_saved(self, item_id: int, audited: Audited) -> None:
        self.change_outbox(item_id, {"sent_copy_saved": True}, audited)

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


# The queue's order as stored (due_at etc. are denormalised clock results): ix_case_queue.
QUEUE_ORDER = (col(CaseRow.due_at), col(CaseRow.urgency_rank), col(CaseRow.arrived_at), col(CaseRow.id))


def unheld(now: datetime) -> Any:
    """No one holds the case: unclaimed, or the lease ran out (as Case.holder reads it)."""
    return or_(col(CaseRow.claimed_by).is_(None), col(CaseRow.claim_until).is_(None), col(CaseRow.claim_until) <= now)


def _free_for(user: str, now: datetime) -> Any:
    return or_(unheld(now), col(CaseRow.claimed_by) == user)


def _locked_unless_busy(case_pk: int) -> Any:
    return select(CaseRow.id).where(col(CaseRow.id) == case_pk).with_for_update(skip_locked=True)


def _in_flight() -> Any:
    return col(OutboxRow.state).in_([OutboxState.SENDING.value, OutboxState.UNCERTAIN.value])
