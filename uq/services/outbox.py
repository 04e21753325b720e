"""Delivering the outbox: each reply reaches its recipient once, from its own reviewer.

How a reply moves (the states are uq.domain.OutboxState):
- A sender claims a due item: compare-and-set to SENDING with a lease and a fresh token.
  While its SMTP session lives a heartbeat renews the lease, so a second sender (on a team
  queue every reviewer's TUI runs one) never picks up an item that is still being sent.
- Just before the message goes out the claim is checked once more, in the database (the
  token must still be this sender's), and the item becomes UNCERTAIN: from there a crash or
  a lost link leaves the outcome unknown, and such an item is never resent blindly. When
  its lease has run out, the Sent folder (imap.sent_folder) is searched for its Message-ID;
  without a Sent folder it is resent once, with the same Message-ID, and the run says so.
- The server's answer ends the claim: SENT; FAILED with an exponential back-off (one try
  per item per run, never several in a row); STOPPED when the server refused it for good
  or smtp.max_attempts ran out, the server's words kept for the reviewer.
- A server that cannot be reached is found once per run (and once per back-off in the
  TUI's sender), not once per reply: nothing was sent, and every reply would meet it.
- On a shared (team) database a sender sends only its own reviewer's replies, so each
  leaves with the From and the account of the reviewer who decided it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from uq.config import Config
from uq.domain import OutboxItem, OutboxState
from uq.errors import UqError
from uq.mail.imap import ImapSession
from uq.mail.send import (
    PermanentSendError,
    ServerUnavailable,
    TransientSendError,
    UncertainSendError,
    send_message,
)
from uq.services.context import Context
from uq.store.audit_chain import Audited

log = logging.getLogger("uq.outbox")

MAX_BACKOFF = timedelta(hours=1)
SENT_COPY_RETRY = timedelta(minutes=5)

# (config, raw, envelope from, recipients, before_data, accepted): see uq.mail.send.send_message
Hook = Callable[[], None] | None
Transport = Callable[[Config, bytes, str, Sequence[str], Hook, Hook], None]


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    sent_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reviewer should know: resends, finds

    def __str__(self) -> str:
        text = f"sent {self.sent}, failed {self.failed}"
        return f"{text}: {self.errors[-1]}" if self.errors else text


UNSENT = (OutboxState.HELD, OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNCERTAIN, OutboxState.FAILED)


@dataclass(frozen=True, slots=True)
class PendingReply:
    """A reply that has not left yet, as the status line and the quit prompt name it."""

    item_id: int
    case_pk: int
    case_id: str
    outcome: str
    state: OutboxState
    not_before: datetime


def own_outbox(ctx: Context, states: Sequence[OutboxState]) -> list[OutboxItem]:
    """This reviewer's outbox items in `states` (on a team store, others' replies leave
    through their own senders and are not this reviewer's to wait for or undo)."""
    items = ctx.store.outbox(states=states)
    if ctx.store.shared:
        items = [o for o in items if o.reviewer in (ctx.user, "")]
    return items


def pending_replies(ctx: Context) -> list[PendingReply]:
    """This reviewer's replies not yet sent, oldest first."""
    out: list[PendingReply] = []
    for item in own_outbox(ctx, UNSENT):
        case = ctx.store.case(item.case_pk)
        outcome = next((d.outcome.value for d in ctx.store.decisions(item.case_pk) if d.id == item.decision_id), "?")
        out.append(
            PendingReply(
                item_id=item.id,
                case_pk=item.case_pk,
                case_id=case.case_id if case is not None else f"#{item.case_pk}",
                outcome=outcome,
                state=item.state,
                not_before=item.not_before,
            )
        )
    return out


def release_holds(ctx: Context) -> int:
    """End every undo hold of this reviewer's replies now, so the next send pass takes them."""
    now = ctx.clock()
    released = 0
    held = [p for p in pending_replies(ctx) if p.state is OutboxState.HELD]
    with ctx.store.tx() as tx:
        for p in held:
            released += tx.release_hold(p.item_id, now=now, actor=ctx.user, case_pk=p.case_pk)
    return released


class LeaseLost(UqError):
    """Another sender holds the reply now: this one must not send it."""


def file_transport(folder: Path) -> Transport:
    """For `uq demo`: each reply becomes an .eml file in `folder`, named by Message-ID."""

    def deliver(
        _cfg: Config,
        raw: bytes,
        _mail_from: str,
        _recipients: Sequence[str],
        before_data: Hook = None,
        accepted: Hook = None,
    ) -> None:
        if before_data is not None:
            before_data()
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(raw).hexdigest()[:16]
        (folder / f"reply-{name}.eml").write_bytes(raw)
        if accepted is not None:
            accepted()

    return deliver


def backoff(cfg: Config, attempts: int) -> timedelta:
    """smtp.retry_seconds after the first failed try, doubling after each, at most an hour."""
    seconds = cfg.smtp.retry_seconds * 2 ** min(max(attempts - 1, 0), 16)
    return min(MAX_BACKOFF, timedelta(seconds=seconds))


def send_due(ctx: Context, *, transport: Transport = send_message) -> SendSummary:
    """One try for every reply whose hold, back-off or lease is over, in order. `transport`
    is SMTP except in `uq demo`, which writes .eml files instead."""
    summary = SendSummary()
    now = ctx.clock()
    if ctx.smtp_retry_at is not None and now < ctx.smtp_retry_at:
        return summary  # the server was unreachable a moment ago: no login per sender tick
    ctx.smtp_retry_at = None
    reviewer = ctx.user if ctx.store.shared else None
    for item in ctx.store.outbox_due(now, reviewer=reviewer):
        if not _send_one(ctx, item, summary, transport):
            break  # the server cannot be reached: the other replies wait for the next run
    if transport is send_message:
        _save_sent_copies(ctx)
    return summary


class _Lease:
    """Renews a claim every third of the lease while the SMTP session lives: a session may
    take many command timeouts (and one long end-of-data wait), far more than any fixed
    lease, and a second sender must never take over while it runs."""

    def __init__(self, ctx: Context, item_id: int, token: str) -> None:
        self.ctx, self.item_id, self.token = ctx, item_id, token
        self.length = timedelta(seconds=ctx.config.smtp.lease_seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="uq-outbox-lease", daemon=True)

    def until(self) -> datetime:
        return self.ctx.clock() + self.length

    def _run(self) -> None:
        period = self.length.total_seconds() / 3
        while not self._stop.wait(period):
            try:
                with self.ctx.store.tx() as tx:
                    if not tx.renew_outbox_lease(self.item_id, self.token, self.until()):
                        return  # no longer ours: the fencing check before the data will say so
            except UqError as exc:  # busy or unreachable database: try again next period
                log.warning("outbox %s: lease not renewed: %s", self.item_id, type(exc).__name__)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _send_one(ctx: Context, item: OutboxItem, summary: SendSummary, transport: Transport) -> bool:
    """One try for one reply. False when the server could not be reached at all."""
    smtp = ctx.config.smtp
    now = ctx.clock()
    action = "resend_after_interruption" if item.state is OutboxState.SENDING else "sending"
    claim = Audited(now, "outbox", action, f"outbox {item.id} {item.message_id}")
    with ctx.store.tx() as tx:
        token = tx.claim_outbox_item(item.id, item.state, now=now, audited=claim, lease_seconds=smtp.lease_seconds)
        if token is None:
            return True  # another sender has it, or it was undone a moment ago
    label = _label(ctx, item)
    if item.state is OutboxState.SENDING:
        summary.notes.append(f"{label}: its sender stopped before the message went out; sending it now")
    if item.unknown_outcomes and _settle_uncertain(ctx, item, token, label, summary):
        return True
    _, mail_from, _ = ctx.store.outbox_item(item.id)
    lease = _Lease(ctx, item.id, token)
    data_out = False

    def before_data() -> None:
        nonlocal data_out
        with ctx.store.tx() as tx:
            data = Audited(ctx.clock(), "outbox", "data_out", f"outbox {item.id}")
            if not tx.begin_outbox_data(item.id, token, lease.until(), data):
                raise LeaseLost(f"{label}: another sender took this reply over; left to it")
        data_out = True

    marked = False

    def accepted() -> None:  # recorded before QUIT: a crash after the 250 leaves no doubt behind
        nonlocal marked
        _mark_sent(ctx, item, summary)
        marked = True

    try:
        with lease:
            transport(ctx.config, item.raw, mail_from, item.recipients, before_data, accepted)
    except LeaseLost as exc:
        summary.notes.append(str(exc))
        return True
    except UncertainSendError as exc:
        retry_at = ctx.clock() + lease.length
        _finish(ctx, item, token, OutboxState.UNCERTAIN, exc, "send_uncertain", not_before=retry_at)
        then = (
            "its Message-ID is looked for in the Sent folder"
            if _sent_folder(ctx)
            else (
                "it is sent once more with the same Message-ID"
                if item.unknown_outcomes == 0
                else "it is not sent again (it already was once)"
            )
        )
        summary.failed += 1
        summary.errors.append(str(exc))
        summary.notes.append(f"{label}: outcome unknown: {exc}; at {_hm(ctx, retry_at)} {then}")
        return True
    except PermanentSendError as exc:
        _finish(ctx, item, token, OutboxState.STOPPED, exc, "send_refused", known=data_out)
        summary.failed += 1
        summary.errors.append(f"{label}: not sent, the server refused it: {exc}")
        return True
    except ServerUnavailable as exc:
        return _unreachable(ctx, item, token, exc, summary)
    except TransientSendError as exc:
        attempts = item.attempts + 1
        if attempts >= smtp.max_attempts:
            _finish(
                ctx,
                item,
                token,
                OutboxState.STOPPED,
                exc,
                "send_gave_up",
                known=data_out,
                prefix=f"gave up after {attempts} tries: ",
            )
            summary.errors.append(f"{label}: gave up after {attempts} tries: {exc}")
        else:
            retry_at = ctx.clock() + backoff(ctx.config, attempts)
            _finish(ctx, item, token, OutboxState.FAILED, exc, "send_failed", known=data_out, not_before=retry_at)
            summary.errors.append(str(exc))
        summary.failed += 1
        return True
    except UqError as exc:  # credentials, TLS, configuration: nothing was sent, and nothing would be
        return _unreachable(ctx, item, token, exc, summary)
    if not marked:
        _mark_sent(ctx, item, summary)
    return True


def _mark_sent(ctx: Context, item: OutboxItem, summary: SendSummary) -> None:
    """Accepted by the server: SENT whoever holds the item now (a sender that took it over
    meanwhile finds it sent at its fencing check and never sends it)."""
    now = ctx.clock()
    sent = Audited(now, "outbox", "sent", f"outbox {item.id} {item.message_id}")
    with ctx.store.tx() as tx:
        tx.set_outbox(item.id, state=OutboxState.SENT, sent_at=now, audited=sent)
    summary.sent += 1
    summary.sent_ids.append(item.id)
    log.info("outbox %d sent (case %d)", item.id, item.case_pk)


def _unreachable(ctx: Context, item: OutboxItem, token: str, exc: UqError, summary: SendSummary) -> bool:
    """The session never got to this reply: not counted as one of its tries."""
    retry_at = ctx.clock() + backoff(ctx.config, 1)
    _finish(ctx, item, token, OutboxState.FAILED, exc, "send_failed", not_before=retry_at, uncount=True)
    ctx.smtp_retry_at = retry_at
    summary.failed += 1
    summary.errors.append(str(exc))
    return False


def _finish(
    ctx: Context,
    item: OutboxItem,
    token: str,
    state: OutboxState,
    exc: UqError,
    action: str,
    *,
    not_before: datetime | None = None,
    known: bool = False,
    uncount: bool = False,
    prefix: str = "",
) -> None:
    """End this sender's claim with a failure; a claim already taken over is left alone."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        if not tx.set_outbox(
            item.id,
            state=state,
            last_error=(prefix + str(exc))[:500],
            not_before=not_before,
            token=token,
            outcome_known=known,
            uncount_attempt=uncount,
            audited=Audited(now, "outbox", action, f"outbox {item.id}: {type(exc).__name__}"),
        ):
            return


def _settle_uncertain(ctx: Context, item: OutboxItem, token: str, label: str, summary: SendSummary) -> bool:
    """A reply the server may already have: look in the Sent folder, or allow one resend.
    True when that settled it (no send now)."""
    now = ctx.clock()
    mid = item.message_id
    if _sent_folder(ctx):
        try:
            with ImapSession(ctx.config) as sess:
                folder = sess.find_sent_folder()
                if folder is None:
                    raise UqError("no Sent folder found on the IMAP server")
                found = sess.has_message_id(folder, mid)
        except UqError as exc:
            retry_at = now + backoff(ctx.config, 1)
            _finish(
                ctx,
                item,
                token,
                OutboxState.UNCERTAIN,
                exc,
                "sent_check_failed",
                not_before=retry_at,
                uncount=True,
                prefix="cannot check the Sent folder: ",
            )
            summary.notes.append(
                f"{label}: outcome unknown and the Sent folder cannot be checked ({exc}); "
                f"not sent again; next check at {_hm(ctx, retry_at)}"
            )
            return True
        if found:
            found_it = Audited(now, "outbox", "found_in_sent", f"outbox {item.id} {mid}")
            with ctx.store.tx() as tx:
                tx.set_outbox(item.id, state=OutboxState.SENT, sent_at=now, copy_saved=True, audited=found_it)
            summary.sent += 1
            summary.sent_ids.append(item.id)
            summary.notes.append(f"{label}: already delivered (found in the Sent folder); not sent again")
            return True
        return _resend(
            ctx,
            item,
            "not in the Sent folder",
            f"{label}: not in the Sent folder: sending it again with the same Message-ID {mid}",
            summary,
        )
    if item.unknown_outcomes >= 2:
        stop = UqError(
            "no reply from the server after the message went out, twice; it may have been "
            "delivered: check with the recipient, or `uq send --retry` to send it again"
        )
        _finish(ctx, item, token, OutboxState.STOPPED, stop, "send_gave_up", uncount=True)
        summary.notes.append(f"{label}: stopped: {stop}")
        return True
    note = (
        f"{label}: the last try may have been delivered (no Sent folder to check): sending it once "
        f"more with the same Message-ID {mid}"
    )
    return _resend(ctx, item, "once, no Sent folder to check", note, summary)


def _resend(ctx: Context, item: OutboxItem, why: str, note: str, summary: SendSummary) -> bool:
    """Record (audit and the run's notes) that a reply the server may have is sent again."""
    with ctx.store.tx() as tx:
        tx.audit(
            at=ctx.clock(),
            actor="outbox",
            action="resend_uncertain",
            case_pk=item.case_pk,
            detail=f"outbox {item.id} {item.message_id}: {why}",
        )
    summary.notes.append(note)
    return False


def _sent_folder(ctx: Context) -> bool:
    return bool(ctx.config.imap.sent_folder and ctx.config.imap.host)


def _label(ctx: Context, item: OutboxItem) -> str:
    case = ctx.store.case(item.case_pk)
    return f"reply to {case.case_id if case else f'#{item.case_pk}'}"


def _hm(ctx: Context, when: datetime) -> str:
    return when.astimezone(ctx.tz).strftime("%H:%M:%S")


def waiting(ctx: Context) -> list[str]:
    """One line per reply that is not done: who holds it, what happens next and when. A
    rerun after a crash names the reply its dead sender left and when it is taken over."""
    now = ctx.clock()
    lines: list[str] = []
    others = 0
    states = [OutboxState.SENDING, OutboxState.UNCERTAIN, OutboxState.FAILED, OutboxState.STOPPED]
    for item in ctx.store.outbox(states=[OutboxState.HELD, OutboxState.QUEUED, *states]):
        if ctx.store.shared and item.reviewer not in (ctx.user, ""):
            others += item.state is not OutboxState.STOPPED
            continue
        label, when = _label(ctx, item), _hm(ctx, item.not_before)
        due = item.not_before <= now
        if item.state is OutboxState.SENDING and not due:
            lines.append(
                f"{label}: in flight (another sender, or one that was stopped); "
                f"taken over at {when} if that sender is gone"
            )
        elif item.state is OutboxState.UNCERTAIN:
            then = (
                "looked for in the Sent folder"
                if _sent_folder(ctx)
                else ("sent once more with the same Message-ID" if item.unknown_outcomes < 2 else "stopped")
            )
            lines.append(
                f"{label}: outcome unknown (the message went out, no reply came); "
                f"{'now' if due else 'at ' + when} it is {then}"
            )
        elif item.state is OutboxState.FAILED:
            lines.append(
                f"{label}: try {item.attempts} of {ctx.config.smtp.max_attempts} failed "
                f"({item.last_error}); next try {'now' if due else 'at ' + when}"
            )
        elif item.state is OutboxState.STOPPED:
            lines.append(f"{label}: stopped, not sent: {item.last_error}")
    if others:
        lines.append(f"{others} repl{'y' if others == 1 else 'ies'} of other reviewers wait for their own senders")
    return lines


def retry_failed_now(ctx: Context) -> int:
    """`uq send` is an explicit request: failed items need not wait for their back-off."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        return tx.retry_failed(now, Audited(now, "outbox", "retry_now", "uq send"))


def retry_stopped(ctx: Context, case_pk: int) -> int:
    """`uq send --retry CASE`: the reviewer sends a stopped reply again (a fixed address, an
    answer from the nurse that it never arrived); its tries start over."""
    now = ctx.clock()
    count = 0
    with ctx.store.tx() as tx:
        for item in ctx.store.outbox(states=[OutboxState.STOPPED], case_pk=case_pk):
            if tx.requeue_outbox_item(item.id, now, Audited(now, ctx.user, "send_retry", f"outbox {item.id}")):
                count += 1
    return count


def _save_sent_copies(ctx: Context) -> None:
    """Append sent replies to the IMAP Sent folder when `imap.sent_folder` is configured
    ("auto" = the special-use \\Sent folder). Best effort: the reply itself is out."""
    if not ctx.config.imap.sent_folder or not ctx.config.imap.host:
        return
    if ctx.sent_copy_retry_at is not None and ctx.clock() < ctx.sent_copy_retry_at:
        return  # a failed attempt backs off: never an IMAP login per sender tick
    pending = ctx.store.sent_without_copy()
    if not pending:
        return
    ctx.sent_copy_retry_at = ctx.clock() + SENT_COPY_RETRY
    try:
        with ImapSession(ctx.config) as sess:
            folder = sess.find_sent_folder()
            if folder is None:
                log.warning("no Sent folder found on the IMAP server")
                return
            for item in pending:
                sess.append(folder, item.raw)
                with ctx.store.tx() as tx:
                    saved = Audited(ctx.clock(), "outbox", "sent_copy_saved", f"outbox {item.id} → {folder}")
                    tx.set_sent_copy_saved(item.id, saved)
    except UqError as exc:
        log.warning("could not save a Sent copy: %s", type(exc).__name__)
        return
    ctx.sent_copy_retry_at = None


def run_sender(
    ctx: Context,
    stop: threading.Event,
    on_result: Callable[[SendSummary], None],
    interval: float = 1.0,
    transport: Transport = send_message,
) -> None:
    """The TUI's background sender: checks the outbox every `interval` seconds."""
    while not stop.is_set():
        try:
            summary = send_due(ctx, transport=transport)
            if summary.sent or summary.failed:
                on_result(summary)
        except UqError as exc:
            on_result(SendSummary(failed=1, errors=[str(exc)]))
        except Exception as exc:  # the sender must outlive any one fault; no trace (could carry PHI)
            log.error("outbox sender fault: %s", type(exc).__name__)
            on_result(SendSummary(failed=1, errors=[f"outbox sender fault: {type(exc).__name__}"]))
        stop.wait(interval)
