"""Ingest: IMAP messages into the store, nothing lost, nothing doubled.

Order of operations per FETCH batch: fetch → parse (pure, outside the transaction) → one
transaction that stores every raw message, its case, and the cursor advance → only then
mark the messages on the server. A crash anywhere re-fetches; the UID check, Message-ID
and content hash make the re-fetch harmless.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from uq.domain import MessageKind, ParsedEmail, Urgency
from uq.errors import ConnectionFailed, CredentialError, UqError
from uq.mail.imap import FetchedMessage, ImapSession
from uq.mail.parse import parse_email
from uq.services import deadlines
from uq.services.context import Context
from uq.store.repo import Tx

log = logging.getLogger("uq.sync")


@dataclass
class SyncSummary:
    ingested: int = 0
    updated: int = 0
    duplicates: int = 0
    not_cases: int = 0
    quarantined: int = 0
    new_case_pks: list[int] = field(default_factory=list)
    urgent_case_pks: list[int] = field(default_factory=list)
    updated_case_pks: list[int] = field(default_factory=list)

    def add(self, other: SyncSummary) -> None:
        self.ingested += other.ingested
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.not_cases += other.not_cases
        self.quarantined += other.quarantined
        self.new_case_pks += other.new_case_pks
        self.urgent_case_pks += other.urgent_case_pks
        self.updated_case_pks += other.updated_case_pks

    @property
    def total(self) -> int:
        return self.ingested + self.updated + self.duplicates + self.not_cases + self.quarantined

    def __str__(self) -> str:
        return (
            f"ingested {self.ingested}, updated {self.updated}, duplicates {self.duplicates}, "
            f"not cases {self.not_cases}, quarantined {self.quarantined}"
        )


def _placeholder_case_id(p: ParsedEmail) -> str:
    """A case with no ID anywhere still needs a handle the reviewer can type."""
    basis = p.message_id or p.content_hash or p.subject
    return "NOID-" + hashlib.sha256(basis.encode()).hexdigest()[:8].upper()


def ingest_message(
    ctx: Context,
    tx: Tx,
    *,
    mailbox: str,
    uidvalidity: int,
    uid: int,
    internaldate: datetime | None,
    raw: bytes,
    parsed: ParsedEmail,
    summary: SyncSummary,
    rescan: bool = False,
) -> bool:
    """Store one message and classify it. Returns True when it belongs to a case (new,
    updated or duplicate) and so may be marked on the server."""
    now = ctx.clock()
    # unparseable mail has no body hash: the raw bytes' hash still recognises it on a re-scan
    content_hash = parsed.content_hash or "raw:" + hashlib.sha256(raw).hexdigest()
    common = dict(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        internaldate=internaldate,
        raw=raw,
        sender=parsed.sender,
        subject=parsed.subject,
        message_id=parsed.message_id,
        content_hash=content_hash,
        now=now,
    )
    if rescan:
        seen = (tx.raw_by_message_id(parsed.message_id) if parsed.message_id else None) or tx.raw_by_content_hash(
            content_hash, parsed.sender
        )
        if seen is not None:  # a UIDVALIDITY re-scan sees every stored message again
            summary.duplicates += 1
            return seen.kind not in ("not_case", "quarantined")
    if parsed.kind is MessageKind.QUARANTINE:
        tx.add_raw(kind="quarantined", reason=parsed.reason, **common)  # type: ignore[arg-type]
        tx.audit(at=now, actor="sync", action="quarantined", detail=f"uid {uid}")
        summary.quarantined += 1
        return False

    same = tx.raw_by_message_id(parsed.message_id) if parsed.message_id else None
    if same is not None and same.kind not in ("not_case", "quarantined"):
        tx.add_raw(kind="duplicate", reason="same Message-ID", case_pk=same.case_pk, **common)  # type: ignore[arg-type]
        summary.duplicates += 1
        return True

    # auto-replies and bounces quote the thread headers too: they never update a case;
    # a plain reply without case fields ("records attached") does
    automated = parsed.kind is MessageKind.NOT_CASE and not (parsed.reason or "").startswith("reply")
    case_id = parsed.fields.case_id
    known = None
    if not automated:
        known = tx.case_by_message_ids([parsed.in_reply_to or "", *parsed.references])
        known = known or (tx.case_by_sender_id(parsed.sender, case_id) if case_id else None)

    if known is None and parsed.kind is MessageKind.NOT_CASE:
        tx.add_raw(kind="not_case", reason=parsed.reason, **common)  # type: ignore[arg-type]
        summary.not_cases += 1
        return False

    dup = tx.raw_by_content_hash(parsed.content_hash, parsed.sender)
    if dup is not None and dup.case_pk is not None:
        tx.add_raw(kind="duplicate", reason="same body from the same sender", case_pk=dup.case_pk, **common)  # type: ignore[arg-type]
        summary.duplicates += 1
        return True

    arrived = internaldate or parsed.date or now
    if known is not None:
        raw_pk = tx.add_raw(kind="updated", reason=None, case_pk=known.id, **common)  # type: ignore[arg-type]
        _, changed = tx.update_case_from_followup(known.id, parsed.fields, parsed.body_text, now)
        for a in parsed.attachments:
            tx.add_attachment(known.id, raw_pk, a)
        deadlines.refresh(ctx, tx, known.id)
        detail = f"uid {uid}; changed: {', '.join(changed) or 'none'}; attachments: {len(parsed.attachments)}"
        tx.audit(at=now, actor="sync", action="updated", case_pk=known.id, detail=detail)
        summary.updated += 1
        summary.updated_case_pks.append(known.id)
        return True

    problems = list(parsed.problems)
    if not case_id:
        case_id = _placeholder_case_id(parsed)
        if not any(p.startswith("case_id:") for p in problems):
            problems.insert(0, "case_id: not found")
    raw_pk = tx.add_raw(kind="new", reason=None, **common)  # type: ignore[arg-type]
    case = tx.add_case(
        case_id=case_id,
        sender=parsed.sender,
        sender_name=parsed.sender_name,
        subject=parsed.subject,
        reply_to=parsed.reply_to,
        message_id=parsed.message_id,
        references=parsed.references,
        arrived_at=arrived,
        fields=parsed.fields,
        problems=problems,
        body_text=parsed.body_text,
    )
    tx.link_raw(raw_pk, case.id)
    for a in parsed.attachments:
        tx.add_attachment(case.id, raw_pk, a)
    deadlines.refresh(ctx, tx, case.id)
    tx.audit(at=now, actor="sync", action="ingested", case_pk=case.id, detail=f"uid {uid}")
    summary.ingested += 1
    summary.new_case_pks.append(case.id)
    if parsed.fields.urgency is Urgency.URGENT:
        summary.urgent_case_pks.append(case.id)
    return True


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
    parsed = [parse_email(m.raw, tz=ctx.tz, parse=ctx.config.parse, extract_pdf_text=extract_pdf_text) for m in msgs]
    return store_batch(ctx, mailbox, uidvalidity, msgs, parsed, rescan=rescan)


def store_batch(
    ctx: Context,
    mailbox: str,
    uidvalidity: int,
    msgs: list[FetchedMessage],
    parsed: list[ParsedEmail],
    *,
    rescan: bool = False,
) -> tuple[SyncSummary, list[int]]:
    summary = SyncSummary()
    to_mark: list[int] = []
    with ctx.store.tx() as tx:
        for m, p in zip(msgs, parsed, strict=True):
            if tx.has_uid(mailbox, uidvalidity, m.uid):
                continue
            if ingest_message(
                ctx,
                tx,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=m.uid,
                internaldate=m.internaldate,
                raw=m.raw,
                parsed=p,
                summary=summary,
                rescan=rescan,
            ):
                to_mark.append(m.uid)
        if msgs:
            tx.advance_cursor(mailbox, uidvalidity, max(m.uid for m in msgs), ctx.clock())
    return summary, to_mark


def sync_once(
    ctx: Context,
    session: ImapSession | None = None,
    on_batch: Callable[[SyncSummary], None] | None = None,
) -> SyncSummary:
    """One pass over the folder: everything after the stored cursor. A UIDVALIDITY the
    store has not seen restarts from UID 0, and the dedupe makes that safe."""
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
        total = SyncSummary()
        for batch in sess.fetch_new(cursor or 0, ctx.config.imap.batch_size):
            summary, to_mark = ingest_batch(ctx, mailbox, state.uidvalidity, batch, rescan=rescan)
            if to_mark and ctx.config.imap.after_ingest != "none":
                sess.mark_ingested(to_mark)
            total.add(summary)
            if on_batch is not None and summary.total:
                on_batch(summary)
        return total
    finally:
        if own:
            sess.close()


SyncState = str  # "connecting" | "live" | "polling" | "offline" | "stopped"


def watch(
    ctx: Context,
    stop: threading.Event,
    *,
    on_batch: Callable[[SyncSummary], None],
    on_state: Callable[[SyncState, str], None],
    wait_slice: float = 10.0,
    max_backoff: float = 300.0,
) -> None:
    """Run until `stop` is set: IDLE where offered, else poll every poll_seconds; reconnect
    with exponential backoff after any connection fault. Blocking: run it in a thread."""
    backoff = 1.0
    poll = float(ctx.config.imap.poll_seconds)
    while not stop.is_set():
        sess = ImapSession(ctx.config)
        try:
            on_state("connecting", "")
            sess.connect()
            sync_once(ctx, sess, on_batch)
            mode = "live" if sess.has_idle else "polling"
            on_state(mode, "")
            backoff = 1.0
            while not stop.is_set():
                if sess.has_idle:
                    changed = sess.wait_for_change(wait_slice)
                else:
                    changed = not stop.wait(poll)
                if stop.is_set():
                    break
                if changed:
                    sync_once(ctx, sess, on_batch)
                    on_state(mode, "")
        except CredentialError as exc:
            on_state("offline", str(exc))
            stop.wait(max_backoff)
        except (ConnectionFailed, UqError, OSError) as exc:
            on_state("offline", str(exc) or type(exc).__name__)
            log.info("sync offline, retrying in %.0fs", backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
        finally:
            try:
                sess.close()
            except Exception:
                log.debug("close after fault failed", exc_info=True)
    on_state("stopped", "")
