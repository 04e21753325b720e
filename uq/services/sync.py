"""Ingest: IMAP messages into the store, nothing lost, nothing doubled.

Order of operations per FETCH batch: fetch → parse (pure, outside the transaction) → one
transaction that stores every raw message, its case, and the cursor advance → only then
mark the messages on the server. A crash anywhere re-fetches; the UID check, Message-ID
and content hash make the re-fetch harmless.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from uq import intake
from uq.config import ParseConfig
from uq.domain import Attachment, Case, CaseFields, CaseStatus, MessageKind, ParsedEmail, Urgency
from uq.errors import ConflictError, ConnectionFailed, CredentialError, StoreError, UqError
from uq.mail.imap import FetchedMessage, FolderState, ImapSession
from uq.mail.parse import AHEAD, ZoneFor, headers_only, in_bounds, parse_email
from uq.services import deadlines
from uq.services.context import Context
from uq.services.pdf_pass import fill_pdf_texts
from uq.store.convert import NewRaw
from uq.store.tx import Tx

log = logging.getLogger("uq.sync")


@dataclass
class SyncSummary:
    ingested: int = 0
    updated: int = 0
    duplicates: int = 0
    not_cases: int = 0
    quarantined: int = 0
    unverified: int = 0  # follow-ups from someone else than the case's sender: kept, not applied
    followed: str | None = None  # the lease holder, when another syncer had the mailbox
    new_case_pks: list[int] = field(default_factory=list)
    urgent_case_pks: list[int] = field(default_factory=list)
    updated_case_pks: list[int] = field(default_factory=list)

    def add(self, other: SyncSummary) -> None:
        self.ingested += other.ingested
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.not_cases += other.not_cases
        self.quarantined += other.quarantined
        self.unverified += other.unverified
        self.new_case_pks += other.new_case_pks
        self.urgent_case_pks += other.urgent_case_pks
        self.updated_case_pks += other.updated_case_pks

    @property
    def total(self) -> int:
        return self.ingested + self.updated + self.duplicates + self.not_cases + self.quarantined + self.unverified

    def __str__(self) -> str:
        if self.followed is not None:
            return f"another uq process ({self.followed}) is syncing this mailbox: left to it"
        return (
            f"ingested {self.ingested}, updated {self.updated}, duplicates {self.duplicates}, "
            f"not cases {self.not_cases}, quarantined {self.quarantined}"
            + (f", unverified updates {self.unverified}" if self.unverified else "")
        )


_CONFLICT_RETRIES = 3
LEASE_SECONDS = 90  # a syncer renews its lease per batch and per IDLE slice; a dead one's expires


class LeaseLost(StoreError):
    """Another syncer took this mailbox over (this one stalled past its lease): no
    message's fault, so it is never isolated into quarantine."""


class SyncLease:
    """This process's claim to sync one mailbox (a row in the store, so it works across
    processes and hosts on SQLite and PostgreSQL alike)."""

    def __init__(self, ctx: Context, mailbox: str) -> None:
        self.ctx, self.mailbox = ctx, mailbox
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    def _until(self) -> datetime:
        return self.ctx.clock() + timedelta(seconds=LEASE_SECONDS)

    def take(self) -> str | None:
        """None when the lease is ours now; else who holds it."""
        with self.ctx.store.tx() as tx:
            return tx.take_sync_lease(self.mailbox, self.holder, self.ctx.clock(), self._until())

    def renew(self) -> bool:
        with self.ctx.store.tx() as tx:
            return tx.hold_sync_lease(self.mailbox, self.holder, self.ctx.clock(), self._until())

    def fence(self, tx: Tx) -> None:
        """The first statement of a batch's transaction: still ours, or nothing is stored."""
        if not tx.hold_sync_lease(self.mailbox, self.holder, self.ctx.clock(), self._until()):
            raise LeaseLost(f"another uq process took over syncing {self.mailbox}")

    def release(self) -> None:
        try:
            with self.ctx.store.tx() as tx:
                tx.release_sync_lease(self.mailbox, self.holder, self.ctx.clock())
        except UqError:  # it expires by itself
            log.info("could not release the sync lease")


def _placeholder_case_id(p: ParsedEmail) -> str:
    """A case with no ID anywhere still needs a handle the reviewer can type."""
    basis = p.message_id or p.content_hash or p.subject
    return "NOID-" + hashlib.sha256(basis.encode()).hexdigest()[:8].upper()


@dataclass(slots=True)
class _CaseState:
    """A case this batch creates or updates: written once, at the end of the batch."""

    case: Case  # id is 0 until a new case is inserted
    new: bool
    body: str = ""  # a new case's whole body text; for a stored case, the text to append
    touched: bool = False
    pk: int | None = None
    changed: set[str] = field(default_factory=set)  # fields the batch's follow-ups changed
    followups: int = 0
    flagged: bool = False  # the batch added problems (flags) to the case
    unverified: list[int] = field(default_factory=list)  # raw indexes of unverified updates
    info_at: datetime | None = None  # the first follow-up's arrival: it answers an open pend

    def resolved(self) -> int:
        assert self.pk is not None
        return self.pk


@dataclass(frozen=True, slots=True)
class _Seen:
    kind: str
    case: int | _CaseState | None


@dataclass(frozen=True, slots=True)
class _Item:
    uid: int
    internaldate: datetime | None
    raw: bytes
    parsed: ParsedEmail
    content_hash: str  # the parser's, or the raw bytes' for unparseable mail


def _pk(ref: int | _CaseState | None) -> int | None:
    return ref if ref is None or isinstance(ref, int) else ref.resolved()


class _BatchIngest:
    """Classify a FETCH batch in memory and write it in a few bulk statements.

    The per-message rules are those of the original one-message-at-a-time ingest; what
    changes is where the answers come from. Everything the rules look up (UIDs already
    stored, the first raw message per Message-ID and per body hash, cases by thread
    Message-ID and by (sender, case ID)) is read once for the whole batch, and every
    message classified updates the same maps, so a duplicate or follow-up of a message
    earlier in the same batch is recognised exactly as if it had been committed first.
    """

    def __init__(self, ctx: Context, tx: Tx, mailbox: str, uidvalidity: int, summary: SyncSummary, rescan: bool):
        self.ctx, self.tx, self.mailbox, self.uidvalidity = ctx, tx, mailbox, uidvalidity
        self.summary, self.rescan = summary, rescan
        self.stored_uids: set[int] = set()
        self.by_mid: dict[str, _Seen] = {}
        self.by_hash: dict[tuple[str, str], _Seen] = {}
        self.case_by_mid: dict[str, int | _CaseState] = {}
        self.raw_case_by_mid: dict[str, int | _CaseState] = {}
        self.case_by_sid: dict[tuple[str, str], _CaseState] = {}
        self.senders_by_cid: dict[str, dict[str, _CaseState]] = {}  # every sender of a case ID
        self.states: dict[int, _CaseState] = {}
        self.new_states: list[_CaseState] = []
        self.raws: list[tuple[NewRaw, int | _CaseState | None]] = []
        self.attachments: list[tuple[_CaseState, int, Attachment]] = []
        self.audits: list[tuple[datetime, str, _CaseState | None, str]] = []
        self.new_refs: list[_CaseState] = []
        self.urgent_refs: list[_CaseState] = []
        self.updated_refs: list[_CaseState] = []

    # -- one read per lookup kind
    def preload(self, items: list[_Item], *, uids: bool) -> None:
        tx = self.tx
        if uids:
            self.stored_uids = tx.stored_uids(self.mailbox, self.uidvalidity, [i.uid for i in items])
        ps = [i.parsed for i in items]
        self.by_mid = {
            k: _Seen(v.kind, v.case_pk) for k, v in tx.first_raws_by_message_id(p.message_id or "" for p in ps).items()
        }
        self.by_hash = {
            k: _Seen(v.kind, v.case_pk) for k, v in tx.first_raws_by_content_hash(i.content_hash for i in items).items()
        }
        thread = {m for p in ps for m in (p.in_reply_to or "", *p.references) if m}
        by_case, by_raw = tx.thread_case_pks(thread)
        same_id = tx.cases_by_case_id(p.fields.case_id for p in ps if p.fields.case_id)
        for c in same_id:
            self.states[c.id] = _CaseState(c, new=False)
        missing = (set(by_case.values()) | set(by_raw.values())) - self.states.keys()
        for pk, c in tx.cases_by_pk(missing).items():
            self.states[pk] = _CaseState(c, new=False)
        self.case_by_mid = dict(by_case)
        self.raw_case_by_mid = dict(by_raw)
        for c in same_id:
            st = self.states[c.id]
            self.case_by_sid[(c.sender, c.case_id)] = st
            self.senders_by_cid.setdefault(c.case_id, {})[c.sender] = st

    def _state(self, ref: int | _CaseState) -> _CaseState | None:
        return ref if isinstance(ref, _CaseState) else self.states.get(ref)

    def _thread_case(self, ids: list[str]) -> _CaseState | None:
        for m in ids:
            if m in self.case_by_mid:
                return self._state(self.case_by_mid[m])
        for m in ids:
            if m in self.raw_case_by_mid:
                return self._state(self.raw_case_by_mid[m])
        return None

    def _add_raw(self, it: _Item, now: datetime, kind: str, reason: str | None, case: int | _CaseState | None) -> int:
        p = it.parsed
        raw = NewRaw(
            mailbox=self.mailbox,
            uidvalidity=self.uidvalidity,
            uid=it.uid,
            internaldate=it.internaldate,
            raw=it.raw,
            kind=kind,
            reason=reason,
            sender=p.sender,
            subject=p.subject,
            message_id=p.message_id,
            content_hash=it.content_hash,
            now=now,
        )
        self.raws.append((raw, case))
        seen = _Seen(kind, case)
        if p.message_id:
            self.by_mid.setdefault(p.message_id, seen)
            if case is not None:
                self.raw_case_by_mid.setdefault(p.message_id, case)
        self.by_hash.setdefault((it.content_hash, p.sender), seen)
        return len(self.raws) - 1

    # -- the rules, per message
    def classify(self, it: _Item) -> bool:
        """Returns True when the message belongs to a case (new, updated or duplicate)."""
        summary, parsed, uid = self.summary, it.parsed, it.uid
        now = self.ctx.clock()
        if self.rescan:
            seen = (self.by_mid.get(parsed.message_id) if parsed.message_id else None) or self.by_hash.get(
                (it.content_hash, parsed.sender)
            )
            if seen is not None:  # a UIDVALIDITY re-scan sees every stored message again
                summary.duplicates += 1
                return seen.kind not in ("not_case", "quarantined")
        if parsed.kind is MessageKind.QUARANTINE:
            self._add_raw(it, now, "quarantined", parsed.reason, None)
            self.audits.append((now, "quarantined", None, f"uid {uid}"))
            summary.quarantined += 1
            return False

        same = self.by_mid.get(parsed.message_id) if parsed.message_id else None
        if same is not None and same.kind not in ("not_case", "quarantined"):
            self._add_raw(it, now, "duplicate", "same Message-ID", same.case)
            summary.duplicates += 1
            return True

        automated = intake.never_updates(parsed.kind, parsed.reason)
        case_id = parsed.fields.case_id
        thread_ids = [m for m in (parsed.in_reply_to or "", *parsed.references) if m]
        thread = None if automated else self._thread_case(thread_ids)
        same_sender = self.case_by_sid.get((parsed.sender, case_id)) if case_id and not automated else None
        if same_sender is None and case_id and not automated:  # a colleague at a trusted domain
            by_sender = self.senders_by_cid.get(case_id, {})
            pick = intake.trusted_case(parsed.sender, [st.case for st in by_sender.values()], self.ctx.config.sla)
            same_sender = by_sender[pick.sender] if pick is not None else None
        known = thread or same_sender
        trusted = intake.trusted_domains(known.case, self.ctx.config.sla) if known is not None else ()
        where, _ = intake.route(
            parsed.kind,
            automated=automated,
            thread_case=thread.case if thread else None,
            same_sender_case=same_sender.case if same_sender else None,
            sender=parsed.sender,
            trusted=trusted,
        )
        if where is intake.Route.NOT_CASE:
            self._add_raw(it, now, "not_case", parsed.reason, None)
            summary.not_cases += 1
            return False

        dup = self.by_hash.get((parsed.content_hash, parsed.sender)) if parsed.content_hash else None
        if dup is not None and dup.case is not None:
            self._add_raw(it, now, "duplicate", "same body from the same sender", dup.case)
            summary.duplicates += 1
            return True

        if known is None or where is intake.Route.NEW:
            self._new_case(it, now, case_id)
        elif where is intake.Route.UPDATE:
            self._followup(it, now, known)
        else:
            self._unverified(it, now, known)
        return True

    def _unverified(self, it: _Item, now: datetime, st: _CaseState) -> None:
        """Kept and shown on the case; its fields are applied only when the reviewer
        accepts it (services.trust.accept_update)."""
        raw_ix = self._add_raw(it, now, "unverified", "not from the case's sender", st)
        st.unverified.append(raw_ix)
        st.flagged = True
        self.audits.append((now, "unverified_update", st, f"uid {it.uid}"))
        self.summary.unverified += 1

    def _followup(self, it: _Item, now: datetime, st: _CaseState) -> None:
        parsed = it.parsed
        raw_ix = self._add_raw(it, now, "updated", None, st)
        merged, changed = intake.merge_followup_fields(st.case.fields, parsed.fields)
        st.case = replace(st.case, fields=merged, update_count=st.case.update_count + 1, last_updated_at=now)
        if parsed.body_text:
            st.body += f"\n\n--- update {now.isoformat()} ---\n" + parsed.body_text
        st.touched = True
        arrived = it.internaldate or parsed.date or now
        st.info_at = arrived if st.info_at is None else min(st.info_at, arrived)
        st.changed.update(changed)
        st.followups += 1
        self.attachments.extend((st, raw_ix, a) for a in parsed.attachments)
        detail = f"uid {it.uid}; changed: {', '.join(changed) or 'none'}; attachments: {len(parsed.attachments)}"
        self.audits.append((now, "updated", st, detail))
        self.summary.updated += 1
        self.updated_refs.append(st)

    def _new_case(self, it: _Item, now: datetime, case_id: str | None) -> None:
        parsed = it.parsed
        problems = list(parsed.problems)
        if not case_id:
            case_id = _placeholder_case_id(parsed)
            if not any(p.startswith("case_id:") for p in problems):
                problems.insert(0, "case_id: not found")
        case = Case(
            id=0,
            case_id=case_id,
            sender=parsed.sender,
            subject=parsed.subject[:500],
            status=CaseStatus.OPEN,
            arrived_at=it.internaldate or parsed.date or now,
            fields=parsed.fields,
            sender_name=parsed.sender_name,
            message_id=parsed.message_id,
            references=tuple(parsed.references),
        )
        trusted = intake.trusted_domains(case, self.ctx.config.sla)
        reply_to, reply_flag = intake.reply_address(parsed.sender, parsed.reply_to, trusted)
        if reply_flag:
            problems.append(reply_flag)
        others = {k: v for k, v in self.senders_by_cid.get(case_id, {}).items() if k != parsed.sender}
        if others:  # the same ID from another sender: a separate case, and both say so
            problems.append(intake.spoof_flag(case_id, others))
            flag = intake.spoof_flag(case_id, [parsed.sender])
            for other in others.values():
                other.case = replace(other.case, problems=(*other.case.problems, flag))
                other.flagged = True
        case = replace(case, problems=tuple(problems), reply_to=reply_to)
        st = _CaseState(case, new=True, body=parsed.body_text)
        self.new_states.append(st)
        raw_ix = self._add_raw(it, now, "new", None, st)
        if parsed.message_id:
            self.case_by_mid.setdefault(parsed.message_id, st)
        self.case_by_sid[(parsed.sender, case_id)] = st
        self.senders_by_cid.setdefault(case_id, {})[parsed.sender] = st
        self.attachments.extend((st, raw_ix, a) for a in parsed.attachments)
        self.audits.append((now, "ingested", st, f"uid {it.uid}"))
        self.summary.ingested += 1
        self.new_refs.append(st)
        if parsed.fields.urgency is Urgency.URGENT:
            self.urgent_refs.append(st)

    # -- the writes, in bulk
    def flush(self) -> None:
        tx, ctx = self.tx, self.ctx
        new = [(st.case, st.body, deadlines.deadlines_for(ctx, st.case)) for st in self.new_states]
        for st, pk in zip(self.new_states, tx.add_cases(new), strict=True):
            st.pk = pk
        for st in self.states.values():
            st.pk = st.case.id
        raw_rows = [replace(r, case_pk=_pk(ref)) for r, ref in self.raws]
        raw_pks = tx.add_raws(raw_rows)
        every = [*self.new_states, *self.states.values()]
        for st in every:
            for ix in st.unverified:
                flag = intake.unverified_flag(self.raws[ix][0].sender, raw_pks[ix], st.case.case_id)
                st.case = replace(st.case, problems=(*st.case.problems, flag))
        tx.set_problems([(st.resolved(), st.case.problems) for st in every if st.flagged])
        tx.add_attachments([(st.resolved(), raw_pks[ix], a) for st, ix, a in self.attachments])
        touched = [st for st in self.states.values() if st.touched]
        tx.apply_followups([(st.case, st.changed, st.body, st.followups) for st in touched])
        for st in touched:  # from the row as it is now: another writer may have moved a clock
            if st.info_at is not None and tx.end_pend(st.case.id, st.info_at):
                self.audits.append((st.info_at, "information_received", st, "follow-up ended the pend"))
            deadlines.refresh(ctx, tx, st.case.id)
        tx.audit_many([(at, "sync", action, _pk(st), detail) for at, action, st, detail in self.audits])
        self.summary.new_case_pks += [st.resolved() for st in self.new_refs]
        self.summary.urgent_case_pks += [st.resolved() for st in self.urgent_refs]
        self.summary.updated_case_pks += [st.resolved() for st in self.updated_refs]


def _item(uid: int, internaldate: datetime | None, raw: bytes, parsed: ParsedEmail, now: datetime) -> _Item:
    # unparseable mail has no body hash: the raw bytes' hash still recognises it on a re-scan
    if not in_bounds(internaldate, now + AHEAD):
        internaldate = None  # a server date in year 9999 is no arrival time to count from
    return _Item(uid, internaldate, raw, parsed, parsed.content_hash or "raw:" + hashlib.sha256(raw).hexdigest())


def ingest_batch(
    ctx: Context,
    mailbox: str,
    uidvalidity: int,
    batch: Iterable[FetchedMessage],
    *,
    extract_pdf_text: bool = True,
    rescan: bool = False,
) -> tuple[SyncSummary, list[int]]:
    """Parse a FETCH batch, then store it and advance the cursor in one transaction."""
    msgs = list(batch)
    now = ctx.clock()
    zones = deadlines.zone_for(ctx)
    parsed = [
        parse_email(m.raw, tz=ctx.tz, parse=ctx.config.parse, extract_pdf_text=extract_pdf_text, now=now,
                    zone_for=zones)
        for m in msgs
    ]
    return store_isolated(ctx, mailbox, uidvalidity, msgs, parsed, rescan=rescan)


def store_batch(
    ctx: Context,
    mailbox: str,
    uidvalidity: int,
    msgs: Sequence[FetchedMessage],
    parsed: Sequence[ParsedEmail],
    *,
    rescan: bool = False,
    lease: SyncLease | None = None,
) -> tuple[SyncSummary, list[int]]:
    """Store already-parsed messages and advance the cursor, all in one transaction (a
    crash leaves all of the batch or none of it). Returns the summary and the UIDs that
    belong to a case (to mark on the server).

    With a lease, the batch is stored only while the lease is still this syncer's. A
    unique-key conflict (another writer stored the same message first) rolls the batch
    back and it is classified again against what is now stored."""
    now = ctx.clock()
    items = [_item(m.uid, m.internaldate, m.raw, p, now) for m, p in zip(msgs, parsed, strict=True)]
    for attempt in range(_CONFLICT_RETRIES):
        try:
            return _store_items(ctx, mailbox, uidvalidity, msgs, items, rescan=rescan, lease=lease)
        except ConflictError:
            if attempt == _CONFLICT_RETRIES - 1:
                raise
            log.info("batch conflicted with another writer; classifying it again")
    raise AssertionError("unreachable")


def _store_items(
    ctx: Context,
    mailbox: str,
    uidvalidity: int,
    msgs: Sequence[FetchedMessage],
    items: list[_Item],
    *,
    rescan: bool,
    lease: SyncLease | None,
) -> tuple[SyncSummary, list[int]]:
    summary = SyncSummary()
    to_mark: list[int] = []
    with ctx.store.tx() as tx:
        if lease is not None:
            lease.fence(tx)
        b = _BatchIngest(ctx, tx, mailbox, uidvalidity, summary, rescan)
        b.preload(items, uids=True)
        for it in items:
            if it.uid in b.stored_uids:
                continue
            b.stored_uids.add(it.uid)
            if b.classify(it):
                to_mark.append(it.uid)
        b.flush()
        if to_mark and not rescan and ctx.config.imap.after_ingest != "none":
            tx.set_pending_marks(mailbox, uidvalidity, to_mark, True)  # cleared once the server has them
        if msgs:
            tx.advance_cursor(mailbox, uidvalidity, max(m.uid for m in msgs), ctx.clock())
    log.info("sync batch: %d messages, new cases %s", len(msgs), list(summary.new_case_pks))
    return summary, to_mark


def store_isolated(
    ctx: Context,
    mailbox: str,
    uidvalidity: int,
    msgs: Sequence[FetchedMessage],
    parsed: Sequence[ParsedEmail],
    *,
    rescan: bool = False,
    lease: SyncLease | None = None,
) -> tuple[SyncSummary, list[int]]:
    """store_batch, where one message that cannot be stored fails alone: the batch is
    retried one message per transaction, and a message that still fails is stored raw in
    quarantine with the failing step and exception type (never its text, which may quote
    the email). The cursor moves past it either way. A StoreError (database down or
    locked) is no message's fault and propagates; a unique-key conflict that store_batch's
    re-classifying retries did not resolve is the message's own."""
    try:
        return store_batch(ctx, mailbox, uidvalidity, msgs, parsed, rescan=rescan, lease=lease)
    except ConflictError as exc:  # still there after store_batch's retries: a message's own
        log.warning("sync: a batch of %d conflicts (%s); storing it one message at a time", len(msgs),
                    type(exc).__name__)
    except StoreError:
        raise
    except Exception as exc:
        log.warning("sync: a batch of %d failed at %s (%s); storing it one message at a time",
                    len(msgs), failed_step(exc), type(exc).__name__)
    total, marks = SyncSummary(), []
    for m, p in zip(msgs, parsed, strict=True):
        summary, to_mark = _store_alone(ctx, mailbox, uidvalidity, m, p, rescan, lease)
        total.add(summary)
        marks += to_mark
    return total, marks


def _store_alone(ctx: Context, mailbox: str, uidvalidity: int, m: FetchedMessage, p: ParsedEmail,
                 rescan: bool, lease: SyncLease | None) -> tuple[SyncSummary, list[int]]:
    try:
        return store_batch(ctx, mailbox, uidvalidity, [m], [p], rescan=rescan, lease=lease)
    except ConflictError:
        reason = "store failed: ConflictError"  # re-classified and still a duplicate key
    except StoreError:
        raise
    except Exception as exc:
        reason = f"{failed_step(exc)} failed: {type(exc).__name__}"
        log.warning("sync: uid %d quarantined: %s", m.uid, reason)
    # who sent what, if even that can be stored; else the raw bytes alone
    for head in (headers_only(m.raw), ParsedEmail(kind=MessageKind.QUARANTINE, fields=CaseFields())):
        q = replace(head, kind=MessageKind.QUARANTINE, reason=reason, content_hash="")
        try:
            return store_batch(ctx, mailbox, uidvalidity, [m], [q], rescan=rescan, lease=lease)
        except StoreError:
            raise
        except Exception as exc:
            log.warning("sync: uid %d: quarantine row failed (%s)", m.uid, type(exc).__name__)
            last: Exception = exc
    raise last


def failed_step(exc: BaseException) -> str:
    """Where an exception came from, by the modules its traceback passed through (names
    only): the reason a quarantine row gives instead of the exception's text."""
    modules = []
    tb = exc.__traceback__
    while tb is not None:
        modules.append(str(tb.tb_frame.f_globals.get("__name__", "")))
        tb = tb.tb_next
    for prefix, step in (("uq.services.deadlines", "clock"), ("uq.queue", "clock"), ("sqlalchemy", "store"),
                         ("uq.store", "store"), ("uq.mail", "parse")):
        if any(mod.startswith(prefix) for mod in modules):
            return step
    return "ingest"


def sync_once(
    ctx: Context,
    session: ImapSession | None = None,
    on_batch: Callable[[SyncSummary], None] | None = None,
    *,
    pdf_pass: bool = True,
    lease: SyncLease | None = None,
) -> SyncSummary:
    """One pass over the folder: everything after the stored cursor. A UIDVALIDITY the
    store has not seen restarts from UID 0, and the dedupe makes that safe.

    Each FETCH batch is parsed, stored in one transaction with its cursor advance, and
    marked on the server only after that commit. Messages are parsed without PDF text
    (unless the body lacks a core field); with pdf_pass the new PDFs are read after the
    batches, in small transactions, when the cases are already in the queue. (Parsing in a
    child process while fetching was measured slower on this 2-core machine, 197 vs 252
    msg/s with Dovecot on the same cores, and was taken out.)"""
    own_lease = lease is None
    if lease is None:
        lease = SyncLease(ctx, ctx.config.imap.folder)
        other = lease.take()
        if other is not None:  # that syncer stores what this pass would have: nothing to do
            return SyncSummary(followed=other)
    try:
        return _sync_pass(ctx, session, on_batch, pdf_pass=pdf_pass, lease=lease)
    finally:
        if own_lease:
            lease.release()


def _sync_pass(
    ctx: Context,
    session: ImapSession | None,
    on_batch: Callable[[SyncSummary], None] | None,
    *,
    pdf_pass: bool,
    lease: SyncLease,
) -> SyncSummary:
    own = session is None
    sess = session or ImapSession(ctx.config)
    if own:
        sess.connect()
    try:
        mailbox = ctx.config.imap.folder
        state = sess.select(mailbox)
        with ctx.store.tx() as tx:
            cursor = tx.cursor(mailbox, state.uidvalidity)
            rescan = cursor is None and bool(tx.known_uidvalidities(mailbox))
            if rescan:
                tx.audit(
                    at=ctx.clock(),
                    actor="sync",
                    action="uidvalidity_changed",
                    detail=f"{mailbox}: now {state.uidvalidity}; full re-scan",
                )
        if cursor and not rescan and 0 < state.uidnext <= cursor and _recreated(sess, mailbox, state, cursor):
            with ctx.store.tx() as tx:  # re-created with the same UIDVALIDITY: its UIDs restarted
                tx.retire_uids(mailbox, state.uidvalidity, ctx.clock())
                tx.audit(
                    at=ctx.clock(),
                    actor="sync",
                    action="uidnext_below_cursor",
                    detail=f"{mailbox}: UIDNEXT {state.uidnext} is not past the stored UID; full re-scan",
                )
            cursor, rescan = 0, True
        marking = ctx.config.imap.after_ingest != "none"
        if marking:  # stored last time, but the link dropped before the server marked them
            _mark(ctx, sess, mailbox, state.uidvalidity, _pending(ctx, mailbox, state.uidvalidity))
        total = SyncSummary()
        for msgs in sess.fetch_new(cursor or 0, max(1, ctx.config.imap.batch_size)):
            parsed = parse_many([m.raw for m in msgs], ctx.tz, ctx.config.parse, now=ctx.clock(),
                                zone_for=deadlines.zone_for(ctx))
            summary, to_mark = store_isolated(ctx, mailbox, state.uidvalidity, msgs, parsed, rescan=rescan, lease=lease)
            if to_mark and marking:
                _mark(ctx, sess, mailbox, state.uidvalidity, to_mark)
            total.add(summary)
            if on_batch is not None and summary.total:
                on_batch(summary)
        if pdf_pass:
            fill_pdf_texts(ctx)
        return total
    finally:
        if own:
            sess.close()


def _recreated(sess: ImapSession, mailbox: str, state: FolderState, cursor: int) -> bool:
    """The first UIDNEXT was read before the cursor, which another process may have moved on
    meanwhile; a UIDNEXT read after the cursor is past every UID stored by then, unless the
    folder's UIDs really restarted."""
    fresh = sess.select(mailbox)
    return fresh.uidvalidity == state.uidvalidity and fresh.uidnext <= cursor


def _pending(ctx: Context, mailbox: str, uidvalidity: int) -> list[int]:
    with ctx.store.tx() as tx:
        return tx.pending_marks(mailbox, uidvalidity)


def _mark(ctx: Context, sess: ImapSession, mailbox: str, uidvalidity: int, uids: list[int]) -> None:
    """after_ingest on the server, then forget the pending mark (stored with the batch)."""
    if not uids:
        return
    sess.mark_ingested(uids)
    with ctx.store.tx() as tx:
        tx.set_pending_marks(mailbox, uidvalidity, uids, False)


def parse_many(raws: list[bytes], tz: ZoneInfo, cfg: ParseConfig, *, now: datetime | None = None,
               zone_for: ZoneFor | None = None) -> list[ParsedEmail]:
    """The parse of a FETCH batch. Attachment bytes are dropped: the store keeps only the
    raw message (and decodes a part when it is opened)."""
    out = []
    for raw in raws:
        p = parse_email(raw, tz=tz, parse=cfg, extract_pdf_text=False, now=now, zone_for=zone_for)
        if p.attachments:
            p = replace(p, attachments=tuple(replace(a, data=b"") for a in p.attachments))
        out.append(p)
    return out


SyncState = str  # "connecting" | "live" | "polling" | "following" | "offline" | "stopped"


def watch(
    ctx: Context,
    stop: threading.Event,
    *,
    on_batch: Callable[[SyncSummary], None],
    on_state: Callable[[SyncState, str], None],
    wait_slice: float = 10.0,
    max_backoff: float = 300.0,
    follow_seconds: float = 2.0,
) -> None:
    """Run until `stop` is set: IDLE where offered, else poll every poll_seconds; reconnect
    with exponential backoff after any connection fault. Blocking: run it in a thread.

    One syncer per mailbox: while another process holds the mailbox's lease this one
    follows (state "following"): it reports what that syncer stores, and takes over when
    the lease is released or expires."""
    backoff = 1.0
    poll = float(ctx.config.imap.poll_seconds)
    lease = SyncLease(ctx, ctx.config.imap.folder)
    try:
        while not stop.is_set():
            sess: ImapSession | None = None
            try:
                _follow(ctx, stop, lease, on_batch, on_state, follow_seconds)
                if stop.is_set():
                    break
                on_state("connecting", "")
                sess = ImapSession(ctx.config)
                sess.connect()
                sync_once(ctx, sess, on_batch, lease=lease)
                mode = "live" if sess.has_idle else "polling"
                on_state(mode, "")
                backoff = 1.0
                next_poll = time.monotonic() + poll
                while not stop.is_set():
                    if sess.has_idle:
                        changed = sess.wait_for_change(wait_slice)
                    else:
                        changed = not stop.wait(max(0.0, min(wait_slice, next_poll - time.monotonic())))
                        changed = changed and time.monotonic() >= next_poll
                    if stop.is_set():
                        break
                    if not lease.renew():
                        raise LeaseLost(f"another uq process took over syncing {lease.mailbox}")
                    if changed:
                        sync_once(ctx, sess, on_batch, lease=lease)
                        on_state(mode, "")
                        next_poll = time.monotonic() + poll
            except LeaseLost as exc:
                log.info("%s", exc)
            except CredentialError as exc:
                on_state("offline", str(exc))
                stop.wait(max_backoff)
            except (ConnectionFailed, UqError, OSError) as exc:
                on_state("offline", str(exc) or type(exc).__name__)
                log.info("sync offline, retrying in %.0fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            except Exception as exc:  # a bug must not end syncing for the session; no trace (PHI)
                log.error("sync fault: %s", type(exc).__name__)
                on_state("offline", f"sync fault: {type(exc).__name__}")
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            finally:
                if sess is not None:
                    try:
                        sess.close()
                    except Exception:
                        log.debug("close after fault failed", exc_info=True)
    finally:
        lease.release()
    on_state("stopped", "")


def _follow(
    ctx: Context,
    stop: threading.Event,
    lease: SyncLease,
    on_batch: Callable[[SyncSummary], None],
    on_state: Callable[[SyncState, str], None],
    every: float,
) -> None:
    """Return once the lease is ours (or on stop); meanwhile report, as batches, what the
    lease holder stores, so this process's queue and alerts stay current."""
    last: int | None = None
    shown = None
    while not stop.is_set():
        holder = lease.take()
        if holder is None:
            return
        if last is None:
            last, _ = ctx.store.ingested_since(None)
        if holder != shown:
            on_state("following", f"{holder} syncs {lease.mailbox}")
            shown = holder
        last, rows = ctx.store.ingested_since(last)
        if rows:
            on_batch(_summary_of(rows))
        stop.wait(every)


def _summary_of(rows: Sequence[tuple[str, int | None, str | None]]) -> SyncSummary:
    out = SyncSummary()
    for kind, case_pk, urgency in rows:
        if kind == "new" and case_pk is not None:
            out.ingested += 1
            out.new_case_pks.append(case_pk)
            if urgency == Urgency.URGENT.value:
                out.urgent_case_pks.append(case_pk)
        elif kind == "updated" and case_pk is not None:
            out.updated += 1
            out.updated_case_pks.append(case_pk)
        elif kind == "unverified":
            out.unverified += 1
        elif kind == "duplicate":
            out.duplicates += 1
        elif kind == "not_case":
            out.not_cases += 1
        else:
            out.quarantined += 1
    return out
