"""Delivering the outbox: at most one send per success, nothing lost on failure.

An item is claimed by compare-and-set (HELD/QUEUED/FAILED → SENDING with a lease) before
the SMTP conversation and marked SENT only after the server accepted it. A sender killed
between the two leaves the item SENDING; once the lease runs out it is sent again, once,
with the same Message-ID, so the worst case is a single recognisable repeat.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from uq.config import Config
from uq.domain import OutboxItem, OutboxState
from uq.errors import ConnectionFailed, CredentialError, SendError, UqError
from uq.mail.imap import ImapSession
from uq.mail.send import PermanentSendError, TransientSendError, send_message
from uq.services.context import Context

log = logging.getLogger("uq.outbox")

RETRY_SCHEDULE = (0.5, 1.0, 2.0)  # in-run retries after a temporary failure (seconds)


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    sent_ids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"sent {self.sent}, failed {self.failed}"
        return f"{text}: {self.errors[-1]}" if self.errors else text


def file_transport(folder: Path) -> Transport:
    """For `uq demo`: each reply becomes an .eml file in `folder`, named by Message-ID."""

    def deliver(_cfg: Config, raw: bytes, _mail_from: str, _recipients: Sequence[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(raw).hexdigest()[:16]
        (folder / f"reply-{name}.eml").write_bytes(raw)

    return deliver


def lease_seconds(ctx: Context) -> int:
    """Longer than one claim can possibly take (every in-run attempt timing out, plus the
    pauses), so a second sender never takes over an item the first is still sending."""
    attempts = 1 + len(RETRY_SCHEDULE)
    return int(attempts * ctx.config.smtp.timeout_seconds + sum(RETRY_SCHEDULE)) + 2


PERMANENT_HOLD = timedelta(days=3650)  # a refused reply waits for an explicit `uq send`
SENT_COPY_RETRY = timedelta(minutes=5)


Transport = Callable[[Config, bytes, str, Sequence[str]], None]


def send_due(
    ctx: Context, *, sleep: Callable[[float], None] = time.sleep, transport: Transport = send_message
) -> SendSummary:
    """Deliver every item whose hold or back-off is over. `transport` is SMTP except in
    `uq demo`, which writes .eml files instead."""
    summary = SendSummary()
    for item in ctx.store.outbox_due(ctx.clock()):
        _send_one(ctx, item, summary, sleep, transport)
    if transport is send_message:
        _save_sent_copies(ctx)
    return summary


def _send_one(
    ctx: Context, item: OutboxItem, summary: SendSummary, sleep: Callable[[float], None], transport: Transport
) -> None:
    now = ctx.clock()
    with ctx.store.tx() as tx:
        if not tx.claim_outbox_item(item.id, item.state, now=now, lease_seconds=lease_seconds(ctx)):
            return  # another sender has it, or it was undone a moment ago
        if item.state is OutboxState.SENDING:
            tx.audit(
                at=now,
                actor="outbox",
                action="resend_after_interruption",
                case_pk=item.case_pk,
                detail=f"outbox {item.id} {item.message_id}",
            )
    _, mail_from, _ = ctx.store.outbox_item(item.id)
    error: UqError | None = None
    permanent = False
    for attempt, pause in enumerate((0.0, *RETRY_SCHEDULE)):
        if attempt:
            sleep(pause)
        try:
            transport(ctx.config, item.raw, mail_from, item.recipients)
            error = None
            break
        except (TransientSendError, ConnectionFailed) as exc:
            error = exc
            log.info("outbox %s: temporary failure, attempt %d", item.id, attempt + 1)
        except (PermanentSendError, CredentialError, SendError, UqError) as exc:
            error = exc
            permanent = isinstance(exc, PermanentSendError)
            break
    now = ctx.clock()
    claimed = item.attempts + 1  # the claim above counted this attempt
    with ctx.store.tx() as tx:
        if error is None:  # accepted by the server: SENT whoever holds the item now
            tx.set_outbox(item.id, state=OutboxState.SENT, sent_at=now)
            tx.audit(
                at=now,
                actor="outbox",
                action="sent",
                case_pk=item.case_pk,
                detail=f"outbox {item.id} {item.message_id}",
            )
            summary.sent += 1
            summary.sent_ids.append(item.id)
        else:
            backoff = min(3600, 30 * 2 ** min(item.attempts, 7))
            retry_at = now + (PERMANENT_HOLD if permanent else timedelta(seconds=backoff))
            if not tx.set_outbox(
                item.id,
                state=OutboxState.FAILED,
                last_error=str(error)[:500],
                not_before=retry_at,
                claimed_attempts=claimed,
            ):
                return  # no longer our claim (sent or taken over meanwhile): leave its state alone
            tx.audit(
                at=now,
                actor="outbox",
                action="send_failed",
                case_pk=item.case_pk,
                detail=f"outbox {item.id}: {type(error).__name__}",
            )
            summary.failed += 1
            summary.errors.append(str(error))


def retry_failed_now(ctx: Context) -> int:
    """`uq send` is an explicit request: failed items need not wait for their back-off."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        return tx.retry_failed(now)


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
                    tx.set_sent_copy_saved(item.id)
                    tx.audit(
                        at=ctx.clock(),
                        actor="outbox",
                        action="sent_copy_saved",
                        case_pk=item.case_pk,
                        detail=f"outbox {item.id} → {folder}",
                    )
    except UqError as exc:
        log.warning("could not save a Sent copy: %s", exc)
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
