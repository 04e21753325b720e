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
    Attachment,
    CallAttempt,
    CallOutcome,
    Case,
    CaseStatus,
    Decision,
    DeclineReason,
    OutboxItem,
    OutboxState,
    Outcome,
    ReplyContent,
    ReviewLevel,
    Urgency,
)
from uq.errors import GuardrailError, GuardrailWarning, UnknownCase, UqError
from uq.mail.compose import compose_reply, new_message_id, render_preview, reply_subject, reply_to_address
from uq.paths import config_dir
from uq.services import deadlines
from uq.services.context import Context
from uq.services.guardrails import agreement, check_decision, own_adverse_decision
from uq.services.reply_content import (
    AttestationFacts,
    ReviewFacts,
    build_content,
    case_specialty,
    case_state,
    criteria_from,
    licence_mismatch,
    specialty_match,
)
from uq.store.audit_chain import Audited

log = logging.getLogger("uq.review")  # case primary keys and outcomes only, never case text


@dataclass(frozen=True)
class DecisionResult:
    decision: Decision
    outbox: OutboxItem
    warnings: tuple[str, ...]  # confirmed (advice, specialty) and notices (licence)


@dataclass(frozen=True)
class DecisionInput:
    """What the reviewer entered for one decision, as the CLI flags and the modal give it."""

    rationale: str = ""
    guideline: str = ""
    note: str = ""
    decline_reason: DeclineReason | None = None
    approved_portion: str | None = None
    denied_portion: str | None = None
    criteria: tuple[str, ...] = ()
    change_info: str = ""
    attest_reviewed: bool = False  # "I reviewed all the records" confirmed by the reviewer
    advice_statement: str = ""  # sent instead of "not treatment advice" after a confirmed warning


@dataclass(frozen=True)
class Preview:
    """The exact reply a decision would send, and what must be confirmed before it may."""

    to: str
    subject: str
    body: str
    confirm: tuple[str, ...]  # warnings that need --force / a second confirm
    notices: tuple[str, ...]  # said, but need no confirmation (licence mismatch)

    def text(self) -> str:
        return f"To: {self.to}\nSubject: {self.subject}\n\n{self.body}"


@dataclass(frozen=True)
class _Draft:
    case: Case
    decision: Decision
    content: ReplyContent
    calls: list[CallAttempt]
    confirm: list[str]
    notices: list[str]
    detail: str  # for the audit: flags only, never text


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


def review_facts(ctx: Context, case_pk: int) -> ReviewFacts:
    """What this reviewer opened of the case, from the audit trail: the packet, each
    attachment and each follow-up message."""
    entries = [e for e in ctx.store.audit_entries(case_pk=case_pk) if e.actor == ctx.user]
    opened = {(e.action, e.detail) for e in entries}
    attachments = ctx.store.attachments(case_pk)
    followups = [m for m in ctx.store.raw_messages(case_pk=case_pk)[1:] if m.kind == "updated"]
    return ReviewFacts(
        packet_opened=any(e.action == "opened" for e in entries),
        attachments=len(attachments),
        attachments_opened=sum(
            ("opened_attachment", f"attachment {i}") in opened for i in range(1, len(attachments) + 1)
        ),
        messages=len(followups),
        messages_opened=sum(("opened_message", f"message {m.id}") in opened for m in followups),
    )


def open_attachment(ctx: Context, case_pk: int, index: int) -> Attachment:
    """Attachment `index` (0-based) with its bytes, recorded as opened by this reviewer."""
    from uq.services.case_files import attachments_with_data

    atts = attachments_with_data(ctx, case_pk)
    if not 0 <= index < len(atts):
        raise UqError(f"no attachment #{index + 1} on this case ({len(atts)} attached)")
    now = ctx.clock()
    with ctx.store.tx() as tx:
        tx.audit(at=now, actor=ctx.user, action="opened_attachment", case_pk=case_pk, detail=f"attachment {index + 1}")
    return atts[index]


def open_message(ctx: Context, case_pk: int, index: int) -> bytes:
    """Message `index` (0-based) of the case's thread as received, recorded as opened."""
    thread = ctx.store.raw_messages(case_pk=case_pk)
    if not 0 <= index < len(thread):
        raise UqError(f"no message #{index + 1} in this case's thread ({len(thread)} messages)")
    now = ctx.clock()
    with ctx.store.tx() as tx:
        if index == 0:
            tx.mark_opened(case_pk, now)
            tx.audit(at=now, actor=ctx.user, action="opened", case_pk=case_pk)
        else:
            tx.audit(
                at=now, actor=ctx.user, action="opened_message", case_pk=case_pk, detail=f"message {thread[index].id}"
            )
    return ctx.store.raw_bytes(thread[index].id)


def _draft(ctx: Context, case: Case, outcome: Outcome, given: DecisionInput, *, force: bool) -> _Draft:
    """Every check and every sentence of the reply, without saving anything."""
    facts = review_facts(ctx, case.id)
    if not facts.packet_opened:
        raise GuardrailError(
            f"case {case.case_id} was never opened: open it first (enter in the queue, or `uq show {case.case_id}`)"
        )
    rationale, note = given.rationale.strip(), given.note.strip()
    guideline = given.guideline.strip() or (case.fields.guideline or "").strip()
    calls = ctx.store.calls(case.id)
    criteria = criteria_from(given.criteria)
    advice = check_decision(
        outcome,
        rationale=rationale,
        guideline=guideline,
        approved_portion=given.approved_portion,
        decline_reason=given.decline_reason,
        note=note,
        denied_portion=given.denied_portion,
        criteria=criteria,
        change_info=given.change_info,
        call_notes=[c.note for c in calls if c.in_reply],
    )
    if outcome is not Outcome.DECLINE and case.fields.review_level.is_appeal:
        prior = ctx.store.adverse_decisions_by(
            ctx.user, case_id=case.case_id, member_id=case.fields.member_id, exclude_pk=case.id
        )
        refusal = own_adverse_decision(case, prior, ctx.user)
        if refusal:
            raise GuardrailError(refusal)
    confirm = list(advice)
    notices: list[str] = []
    spec = case_specialty(case.fields)
    matches = specialty_match(ctx.config.reviewer, spec)
    if outcome in (Outcome.DENY, Outcome.PARTIAL) and matches is False:
        mine = ctx.config.reviewer.specialty or "not set"
        confirm.append(
            f"the case's specialty ({spec}) is outside yours ({mine} and the similar ones configured): "
            "confirm to decide it anyway (the reply will not claim the same specialty), or decline it "
            "as outside your specialty"
        )
    state = case_state(case.fields)
    if licence_mismatch(ctx.config.reviewer, state):
        held = ", ".join(ctx.config.reviewer.license_states) or "none configured"
        notices.append(f"the case names {state}, where you hold no licence (licensed in: {held}); the reply says so")
    if outcome is not Outcome.DECLINE and not (facts.every_part_opened or given.attest_reviewed):
        notices.append(
            f"not every part was opened ({facts.unopened()}): the reply will not say "
            '"I reviewed all the records" (open them, or confirm with --attest-reviewed)'
        )
    now = ctx.clock()
    decision = Decision(
        id=0,
        case_pk=case.id,
        outcome=outcome,
        agrees_with_nurse=agreement(outcome, case.fields.nurse_recommendation),
        rationale=rationale,
        guideline=given.guideline.strip(),
        note=note,
        decline_reason=given.decline_reason,
        approved_portion=(given.approved_portion or "").strip() or None,
        reviewer=ctx.user,
        decided_at=now,
        seconds_spent=case.active_seconds or None,  # attention measured by the TUI, never wall time
        criteria=criteria,
        denied_portion=(given.denied_portion or "").strip() or None,
        change_info=given.change_info.strip(),
    )
    content = build_content(
        outcome=outcome,
        agrees=decision.agrees_with_nurse,
        nurse=case.fields.nurse_recommendation,
        decline_reason=given.decline_reason,
        guideline=guideline if outcome is not Outcome.DECLINE else "",
        reviewer=ctx.config.reviewer,
        at=AttestationFacts(
            facts=facts,
            attest_reviewed=given.attest_reviewed,
            specialty=spec,
            specialty_matches=matches,
            state=state,
            advice_statement=given.advice_statement if (advice and force) else None,
        ),
    )
    flags = [f"opened all parts={facts.every_part_opened}"]
    if given.attest_reviewed:
        flags.append("reviewer attested all records reviewed")
    if advice and force:
        flags.append("confirmed despite treatment-advice warning")
    if outcome in (Outcome.DENY, Outcome.PARTIAL) and matches is False and force:
        flags.append("confirmed outside specialty")
    if state is not None and licence_mismatch(ctx.config.reviewer, state):
        flags.append(f"not licensed in {state}")
    return _Draft(case, decision, content, calls, confirm, notices, "; ".join(flags))


def _case(ctx: Context, case_pk: int) -> Case:
    case = ctx.store.case(case_pk)
    if case is None:
        raise UnknownCase(f"unknown case #{case_pk}")
    if case.status is CaseStatus.DECIDED:
        raise GuardrailError(f"case {case.case_id} is already decided (`uq undo` works only while the reply is held)")
    return case


def preview(ctx: Context, case_pk: int, outcome: Outcome, given: DecisionInput, *, force: bool = False) -> Preview:
    """The exact reply (To, Subject, body) a decision would queue; nothing is saved.
    Refusals raise as they would on deciding; warnings come back to be shown."""
    d = _draft(ctx, _case(ctx, case_pk), outcome, given, force=force)
    body = render_preview(
        case=d.case,
        decision=d.decision,
        content=d.content,
        calls=d.calls,
        reviewer=ctx.config.reviewer,
        tz=ctx.tz,
        template_dir=template_dir(ctx),
    )
    subject = reply_subject(d.case.subject, d.case.case_id)
    return Preview(reply_to_address(d.case), subject, body, tuple(d.confirm), tuple(d.notices))


def decide(
    ctx: Context,
    case_pk: int,
    outcome: Outcome,
    given: DecisionInput | None = None,
    *,
    force: bool = False,
) -> DecisionResult:
    given = given or DecisionInput()
    case = _case(ctx, case_pk)
    d = _draft(ctx, case, outcome, given, force=force)
    if d.confirm and not force:
        more = f" (and {len(d.confirm) - 1} more)" if len(d.confirm) > 1 else ""
        raise GuardrailWarning(f"{d.confirm[0]}{more} — confirm with --force to send anyway")
    x = d.decision
    now = x.decided_at
    from_address = _from_address(ctx)
    message_id = new_message_id(from_address.rpartition("@")[2] or "uq.invalid")
    recipients = (case.reply_to or case.sender,)
    detail = f"{outcome.value}; agrees={x.agrees_with_nurse}; {d.detail}"
    with ctx.store.tx() as tx:
        if not tx.lock_case_for_decision(case_pk, ctx.user, now):
            current = tx.case(case_pk)
            if current.holder(now) not in (None, ctx.user):
                raise GuardrailError(f"case {case.case_id} is claimed by {current.holder(now)}")
            raise GuardrailError(f"case {case.case_id} was decided meanwhile (from another window or reviewer)")
        decision = tx.add_decision(
            case_pk=case_pk,
            outcome=outcome,
            agrees=x.agrees_with_nurse,
            rationale=x.rationale,
            guideline=x.guideline,
            note=x.note,
            decline_reason=x.decline_reason,
            approved_portion=x.approved_portion,
            reviewer=ctx.user,
            decided_at=now,
            seconds_spent=x.seconds_spent,
            audited=Audited(now, ctx.user, "decided", detail),
            criteria=x.criteria,
            denied_portion=x.denied_portion,
            change_info=x.change_info,
        )
        raw = compose_reply(
            case=case,
            decision=decision,
            content=d.content,
            calls=d.calls,
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
            tx.start_pend(case_pk, now, x.rationale)
        else:
            tx.set_status(case_pk, CaseStatus.DECIDED)
        deadlines.refresh(ctx, tx, case_pk)
    log.info("case %d decided: %s, outbox %d", case_pk, outcome.value, item.id)
    return DecisionResult(decision, item, tuple(d.confirm + d.notices))


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
    ctx: Context,
    case_pk: int,
    outcome: CallOutcome,
    *,
    note: str = "",
    number: str | None = None,
    in_reply: bool = False,
) -> CallAttempt:
    """One peer-to-peer attempt; the number defaults to the provider phone from the case."""
    case = ctx.store.case(case_pk)
    if case is None:
        raise UnknownCase(f"unknown case #{case_pk}")
    dialled = number or case.fields.provider_phone or ""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        call = tx.add_call(
            case_pk=case_pk,
            at=now,
            number=dialled,
            outcome=outcome,
            note=note.strip(),
            reviewer=ctx.user,
            in_reply=in_reply and bool(note.strip()),
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
