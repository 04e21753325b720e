"""Decisions: saved first, then queued in the outbox, in one transaction.

The reply's Message-ID is minted here, when the decision is saved, and stored with the
outbox item: every retry (and the single resend after a crash) carries the same ID, so the
nurse's mail system can recognise a repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from uq.domain import (
    CallAttempt,
    CallOutcome,
    Case,
    CaseStatus,
    Decision,
    DeclineReason,
    OutboxItem,
    OutboxState,
    Outcome,
    ReviewLevel,
    Urgency,
)
from uq.errors import GuardrailError, GuardrailWarning, UnknownCase, UqError
from uq.mail.compose import compose_reply, new_message_id
from uq.paths import config_dir
from uq.services import deadlines
from uq.services.context import Context
from uq.services.guardrails import agreement, check_decision, own_adverse_decision
from uq.store.audit_chain import Audited

log = logging.getLogger("uq.review")  # case primary keys and outcomes only, never case text


@dataclass(frozen=True)
class DecisionResult:
    decision: Decision
    outbox: OutboxItem
    warnings: tuple[str, ...]


def resolve_case(ctx: Context, ref: str) -> Case:
    """A case by the ID the reviewer typed; one clear error when unknown or ambiguous."""
    found = ctx.store.find_cases(ref)
    if not found:
        raise UnknownCase(f"unknown case: {ref}")
    if len(found) > 1:
        options = ", ".join(f"#{c.id} ({c.sender})" for c in found)
        raise UnknownCase(f"case {ref} is ambiguous (several senders): use one of {options}")
    return found[0]


def open_case(ctx: Context, case_pk: int) -> Case:
    """Record that the reviewer looked at the case (HIPAA audit) and start its timer."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        case = tx.mark_opened(case_pk, now)
        tx.audit(at=now, actor=ctx.user, action="opened", case_pk=case_pk)
    log.info("case %d opened", case_pk)
    return case


def _from_address(ctx: Context) -> str:
    addr = ctx.config.smtp.from_address or ctx.config.reviewer.email
    if not addr:
        raise UqError("no sender address: set smtp.from_address (or reviewer.email) in the config")
    return addr


def template_dir(ctx: Context) -> Path | None:
    custom = ctx.config.ui.templates.get("dir")
    if custom:
        return Path(custom).expanduser()
    d = config_dir() / "templates"
    return d if d.is_dir() else None


def decide(
    ctx: Context,
    case_pk: int,
    outcome: Outcome,
    *,
    rationale: str = "",
    guideline: str = "",
    note: str = "",
    decline_reason: DeclineReason | None = None,
    approved_portion: str | None = None,
    force: bool = False,
) -> DecisionResult:
    rationale, guideline, note = rationale.strip(), guideline.strip(), note.strip()
    case = ctx.store.case(case_pk)
    if case is None:
        raise UnknownCase(f"unknown case #{case_pk}")
    if case.status is CaseStatus.DECIDED:
        raise GuardrailError(f"case {case.case_id} is already decided (`uq undo` works only while the reply is held)")
    warnings = check_decision(
        outcome,
        rationale=rationale,
        guideline=guideline,
        approved_portion=approved_portion,
        decline_reason=decline_reason,
        note=note,
    )
    if outcome is not Outcome.DECLINE and case.fields.review_level.is_appeal:
        prior = ctx.store.adverse_decisions_by(
            ctx.user, case_id=case.case_id, member_id=case.fields.member_id, exclude_pk=case.id
        )
        refusal = own_adverse_decision(case, prior, ctx.user)
        if refusal:
            raise GuardrailError(refusal)
    if warnings and not force:
        raise GuardrailWarning(f"{warnings[0]} — confirm with --force to send anyway")
    now = ctx.clock()
    from_address = _from_address(ctx)
    seconds = case.active_seconds or None  # attention measured by the TUI, never wall time since opening
    agrees = agreement(outcome, case.fields.nurse_recommendation)
    message_id = new_message_id(from_address.rpartition("@")[2] or "uq.invalid")
    recipients = (case.reply_to or case.sender,)
    detail = f"{outcome.value}; agrees={agrees}" + ("; confirmed despite treatment-advice warning" if warnings else "")
    with ctx.store.tx() as tx:
        if not tx.lock_case_for_decision(case_pk, ctx.user, now):
            current = tx.case(case_pk)
            if current.holder(now) not in (None, ctx.user):
                raise GuardrailError(f"case {case.case_id} is claimed by {current.holder(now)}")
            raise GuardrailError(f"case {case.case_id} was decided meanwhile (from another window or reviewer)")
        decision = tx.add_decision(
            case_pk=case_pk,
            outcome=outcome,
            agrees=agrees,
            rationale=rationale,
            guideline=guideline,
            note=note,
            decline_reason=decline_reason,
            approved_portion=approved_portion,
            reviewer=ctx.user,
            decided_at=now,
            seconds_spent=seconds,
            audited=Audited(now, ctx.user, "decided", detail),
        )
        raw = compose_reply(
            case=case,
            decision=decision,
            calls=ctx.store.calls(case_pk),
            reviewer=ctx.config.reviewer,
            from_address=from_address,
            message_id=message_id,
            now=now,
            tz=ctx.tz,
            template_dir=template_dir(ctx),
        )
        hold = max(0, ctx.config.smtp.hold_seconds)
        item = tx.add_outbox(
            case_pk=case_pk,
            decision_id=decision.id,
            message_id=message_id,
            mail_from=from_address,
            recipients=recipients,
            raw=raw,
            state=OutboxState.HELD if hold else OutboxState.QUEUED,
            not_before=now + timedelta(seconds=hold),
            now=now,
            reviewer=ctx.user,
            audited=Audited(now, ctx.user, "queued", message_id),
        )
        if outcome is Outcome.CALL_NEEDED:  # a peer-to-peer call pauses no clock
            tx.set_status(case_pk, CaseStatus.CALL_NEEDED)
        elif outcome is Outcome.PEND:  # the items asked for are the pend's rationale
            tx.start_pend(case_pk, now, rationale)
        else:
            tx.set_status(case_pk, CaseStatus.DECIDED)
        deadlines.refresh(ctx, tx, case_pk)
    log.info("case %d decided: %s, outbox %d", case_pk, outcome.value, item.id)
    return DecisionResult(decision, item, tuple(warnings))


_OPEN_STATUS = {Outcome.CALL_NEEDED: CaseStatus.CALL_NEEDED, Outcome.PEND: CaseStatus.PENDED}


def undo(ctx: Context, case_pk: int) -> Decision:
    """Take back a decision while its reply is still held. After that the mail is out."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        decision = tx.active_decision(case_pk)
        if decision is None:
            raise UqError("nothing to undo: the case has no decision")
        item = tx.outbox_for_decision(decision.id)
        if item is None or item.state is not OutboxState.HELD or item.not_before <= now:
            state = item.state.value if item else "missing"
            raise UqError(f"too late to undo: the reply is {state} (the hold is over)")
        if not tx.undo_outbox_item(item.id, now, Audited(now, ctx.user, "undone", f"outbox {item.id}")):
            raise UqError("too late to undo: the reply is being sent")
        tx.undo_decision(decision.id, Audited(now, ctx.user, "undone", f"decision {decision.id}"))
        if decision.outcome is Outcome.PEND:
            tx.cancel_pend(case_pk)
        previous = tx.active_decision(case_pk)
        status = _OPEN_STATUS.get(previous.outcome, CaseStatus.OPEN) if previous else CaseStatus.OPEN
        if status is CaseStatus.PENDED and tx.case(case_pk).info_received_at is not None:
            status = CaseStatus.OPEN  # the information it asked for has arrived
        tx.set_status(case_pk, status)
        deadlines.refresh(ctx, tx, case_pk)
    return decision


def undo_latest(ctx: Context) -> tuple[Decision, Case]:
    """The queue's `u`: the reply of the case this reviewer decided last, while it is held.
    Never the highlighted row: the decided case has already left the list, and undoing
    whatever the cursor rests on would reach a case the reviewer did not mean."""
    from uq.services.outbox import own_outbox

    held = own_outbox(ctx, [OutboxState.HELD])
    if not held:
        raise UqError("nothing to undo: no reply is being held")
    pk = max(held, key=lambda o: (o.created_at, o.id)).case_pk
    decision = undo(ctx, pk)
    case = ctx.store.case(pk)
    assert case is not None
    return decision, case


def log_call(
    ctx: Context, case_pk: int, outcome: CallOutcome, *, note: str = "", number: str | None = None
) -> CallAttempt:
    """One peer-to-peer attempt; the number defaults to the provider phone from the case."""
    case = ctx.store.case(case_pk)
    if case is None:
        raise UnknownCase(f"unknown case #{case_pk}")
    dialled = number or case.fields.provider_phone or ""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        call = tx.add_call(
            case_pk=case_pk, at=now, number=dialled, outcome=outcome, note=note.strip(), reviewer=ctx.user
        )
        tx.audit(at=now, actor=ctx.user, action="call_attempt", case_pk=case_pk, detail=outcome.value)
    return call


def set_facts(
    ctx: Context,
    case_pk: int,
    *,
    urgency: Urgency | None = None,
    review_level: ReviewLevel | None = None,
    end_pend: bool = False,
) -> list[str]:
    """The reviewer corrects what the packet lacked or got wrong (urgency, review level),
    or says the requested information has arrived (ends the pend's toll now). Returns what
    changed, in words; the clocks are recomputed in the same transaction."""
    now = ctx.clock()
    changed: list[str] = []
    with ctx.store.tx() as tx:
        case = tx.case(case_pk)
        columns: dict[str, str] = {}
        if urgency is not None and urgency is not case.fields.urgency:
            columns["urgency"] = urgency.value
            changed.append(f"urgency {case.fields.urgency.value} → {urgency.value}")
        if review_level is not None and review_level is not case.fields.review_level:
            columns["review_level"] = review_level.value
            changed.append(f"review level {case.fields.review_level.value} → {review_level.value}")
        if columns:
            tx.set_facts(case_pk, **columns)
        if end_pend:
            if not tx.end_pend(case_pk, now):
                raise UqError(f"case {case.case_id} has no information request waiting")
            changed.append("information received")
        if changed:
            deadlines.refresh(ctx, tx, case_pk)
            tx.audit(at=now, actor=ctx.user, action="facts_set", case_pk=case_pk, detail="; ".join(changed))
    return changed


def extend(ctx: Context, case_pk: int, new_due: datetime, reason: str) -> None:
    if new_due.tzinfo is None:
        raise UqError("extension time needs a zone")
    if not reason.strip():
        raise GuardrailError("an extension needs a reason")
    now = ctx.clock()
    with ctx.store.tx() as tx:
        tx.extend(case_pk, new_due, reason.strip())
        deadlines.refresh(ctx, tx, case_pk)
        tx.audit(
            at=now,
            actor=ctx.user,
            action="extended",
            case_pk=case_pk,
            # the reason is free text that may name the patient: it stays on the case, not here
            detail=f"regulatory due → {new_due.isoformat()}",
        )
