"""Read-side use cases shared by the CLI and the TUI: the queue, one case, the lists."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from uq.domain import Attachment, AuditEntry, CallAttempt, Case, Deadlines, Decision, OutboxItem
from uq.lookalike import id_problems, lookalike_groups, lookalike_problem
from uq.mail.parse import headers_only
from uq.mail.pdf_text import is_pdf
from uq.queue.priority import order_queue
from uq.queue.sla import clock_problems
from uq.services.context import Context
from uq.services.deadlines import deadlines_for
from uq.services.pdf_pass import fill_pdf_texts
from uq.store.convert import RawMessageInfo as RawMessageInfo  # re-exported: the TUI types its rows by it
from uq.store.rows import QueueRow


def queue(ctx: Context, *, include_closed: bool = False) -> list[tuple[Case, Deadlines]]:
    """Open cases in queue order (all cases with include_closed: open ones first)."""
    now = ctx.clock()
    open_items = order_queue(ctx.store.cases(open_only=True), ctx.config.sla, now, reviewer_tz=ctx.tz)
    if not include_closed:
        return open_items
    closed = [c for c in ctx.store.cases(open_only=False) if not c.status.is_open]
    closed.sort(key=lambda c: c.arrived_at, reverse=True)
    return open_items + [(c, deadlines_for(ctx, c)) for c in closed]


def queue_rows(ctx: Context, *, include_closed: bool = False) -> Iterator[QueueRow]:
    """The queue as light column tuples with stored deadlines, streamed: what a 100k-row
    list needs. Per-tick state (seconds left, warning) is computed by the caller for visible
    rows only."""
    return ctx.store.iter_queue_rows(open_only=not include_closed)


def outbox_counts(ctx: Context) -> dict[str, int]:
    """{state: count} for the status bar."""
    return ctx.store.outbox_counts()


SET_ASIDE_KINDS = ("quarantined", "not_case")


def set_aside_counts(ctx: Context) -> dict[str, int]:
    """{"quarantined": n, "not_case": m}: mail that made no case, for the status bar."""
    return ctx.store.raw_kind_counts(SET_ASIDE_KINDS)


def set_aside(ctx: Context, limit: int = 500) -> list[RawMessageInfo]:
    """The newest quarantined and not-case messages first (what `uq quarantine --all` lists)."""
    return ctx.store.raw_messages(kinds=SET_ASIDE_KINDS)[::-1][:limit]


def id_problem_map(ctx: Context, cases: list[Case]) -> dict[int, list[str]]:
    """{pk: what is wrong with its case ID} for the given cases: invisible, control or
    mixed-script characters, and IDs that look the same as another open case's."""
    twins = lookalike_groups(ctx.store.open_case_ids()) if cases else {}
    out: dict[int, list[str]] = {}
    for c in cases:
        found = id_problems(c.case_id)
        if c.id in twins:
            found.append(lookalike_problem(twins[c.id]))
        if found:
            out[c.id] = found
    return out


def case_problems(ctx: Context, case: Case) -> list[str]:
    """The case ID's own problems, the parser's, and the facts the clocks lack (what the
    case screen lists first)."""
    return [*id_problem_map(ctx, [case]).get(case.id, []), *case.problems, *clock_problems(case)]


def _iso(dt: datetime | None, ctx: Context) -> str | None:
    return dt.astimezone(ctx.tz).isoformat() if dt else None


def queue_item_json(
    ctx: Context, case: Case, d: Deadlines, id_problems: dict[int, list[str]] | None = None
) -> dict[str, Any]:
    """The DESIGN.md queue JSON contract (plus a few extra keys). `id_problems` (from
    id_problem_map, computed once for a whole list) adds what is wrong with the case ID."""
    f = case.fields
    problems = (id_problems if id_problems is not None else id_problem_map(ctx, [case])).get(case.id, [])
    return {
        "case_id": case.case_id,
        "pk": case.id,
        "sender": case.sender,
        "subject": case.subject,
        "client": f.client,
        "review_type": f.review_type.value,
        "urgency": f.urgency.value,
        "review_level": f.review_level.value,
        "status": case.status.value,
        "received_at": _iso(f.received_at or case.arrived_at, ctx),
        "received_at_missing": f.received_at is None,
        "arrived_at": _iso(case.arrived_at, ctx),
        "due_at": _iso(d.due_at, ctx),
        "seconds_left": d.seconds_left,
        "sla_state": d.state.value,
        "binding_clock": d.binding.value,
        "reviewer_due_at": _iso(d.reviewer_due_at, ctx),
        "regulatory_due_at": _iso(d.regulatory_due_at, ctx),
        "regulatory_seconds_left": d.regulatory_seconds_left,
        "regulatory_paused": d.regulatory_paused,
        "regulatory_rule": d.regulatory_rule,
        "milestones": [{"name": name, "at": _iso(at, ctx)} for name, at in d.milestones],
        "explicit_due_at": _iso(d.explicit_due_at, ctx),
        "nurse_recommendation": f.nurse_recommendation.value,
        "member_name": f.member_name,
        "service": f.service,
        "problems": [*problems, *case.problems, *clock_problems(case)],
        "updated": case.update_count > 0,
        "held_by": case.holder(ctx.clock()),  # team queue: who has it claimed now (null: nobody)
        "held_until": _iso(case.claim_until, ctx) if case.holder(ctx.clock()) else None,
    }


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    deadlines: Deadlines
    attachments: list[Attachment]
    thread: list[RawMessageInfo]
    decisions: list[Decision]
    calls: list[CallAttempt]
    audit: list[AuditEntry]
    outbox: list[OutboxItem]
    body_text: str
    note: str = ""  # the reviewer's private note: shown, never sent


def _attachments_with_text(ctx: Context, case_pk: int) -> list[Attachment]:
    """The case's attachments, running the PDF pass for it first when a packet has no
    text yet (sync leaves that to a pass after its batches)."""
    atts = ctx.store.attachments(case_pk)
    if any(a.text is None and is_pdf(a) for a in atts) and fill_pdf_texts(ctx, case_pk=case_pk):
        atts = ctx.store.attachments(case_pk)
    return atts


def case_detail(ctx: Context, case_pk: int) -> CaseDetail:
    store = ctx.store
    case = store.case(case_pk)
    assert case is not None
    return CaseDetail(
        case=case,
        deadlines=deadlines_for(ctx, case),
        attachments=_attachments_with_text(ctx, case_pk),
        thread=store.raw_messages(case_pk=case_pk),
        decisions=store.decisions(case_pk),
        calls=store.calls(case_pk),
        audit=store.audit_entries(case_pk=case_pk),
        outbox=store.outbox(case_pk=case_pk),
        body_text=store.body_text(case_pk),
        note=store.note(case_pk, ctx.user),
    )


def case_json(ctx: Context, detail: CaseDetail) -> dict[str, Any]:
    c = detail.case
    out = queue_item_json(ctx, c, detail.deadlines)
    fields: dict[str, Any] = {}
    for name in c.fields.__dataclass_fields__:
        value = getattr(c.fields, name)
        if isinstance(value, datetime):
            value = _iso(value, ctx)
        elif hasattr(value, "value"):
            value = value.value
        fields[name] = value
    out["fields"] = fields
    out["message_id"] = c.message_id
    out["reply_to"] = c.reply_to
    out["update_count"] = c.update_count
    out["extension_reason"] = c.extension_reason
    out["private_note"] = detail.note  # the reviewer's own, never sent
    out["active_seconds"] = c.active_seconds
    out["pend"] = {
        "requested_at": _iso(c.pended_at, ctx),
        "items": c.pend_items,
        "info_received_at": _iso(c.info_received_at, ctx),
        "earlier_seconds": c.earlier_pend_seconds,
    }
    out["attachments"] = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in detail.attachments
    ]
    out["thread"] = [
        {
            "id": m.id,
            "kind": m.kind,
            "sender": m.sender,
            "subject": m.subject,
            "at": _iso(m.internaldate or m.ingested_at, ctx),
        }
        for m in detail.thread
    ]
    out["decisions"] = [
        {
            "outcome": d.outcome.value,
            "agrees_with_nurse": d.agrees_with_nurse,
            "reviewer": d.reviewer,
            "decided_at": _iso(d.decided_at, ctx),
            "undone": d.undone,
            "guideline": d.guideline,
        }
        for d in detail.decisions
    ]
    out["calls"] = [
        {"at": _iso(k.at, ctx), "number": k.number, "outcome": k.outcome.value, "note": k.note} for k in detail.calls
    ]
    return out


def outbox_json(ctx: Context, item: OutboxItem, case_id: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "case_id": case_id,
        "state": item.state.value,
        "message_id": item.message_id,
        "recipients": list(item.recipients),
        "attempts": item.attempts,
        "last_error": item.last_error,
        "created_at": _iso(item.created_at, ctx),
        "not_before": _iso(item.not_before, ctx),
        "next_try": _iso(item.not_before, ctx) if item.state.value in NEXT_TRY_STATES else None,
        "sent_at": _iso(item.sent_at, ctx),
        "reviewer": item.reviewer,
        "unknown_outcomes": item.unknown_outcomes,
    }


# states whose not_before is when a sender next acts on the item (hold end, back-off, lease)
NEXT_TRY_STATES = frozenset({"held", "queued", "failed", "uncertain", "sending"})


@dataclass(frozen=True, slots=True)
class SetAside:
    """A stored message that is no case (quarantined, or not a case), with what its headers
    say: the row keeps sender and subject; the date (and anything an older row lacks) is
    read back from the raw message's header block."""

    info: RawMessageInfo
    sender: str
    subject: str
    date: datetime | None


def set_aside_listing(ctx: Context, kinds: Sequence[str]) -> list[SetAside]:
    """`uq quarantine`'s rows, oldest first, each with its sender, subject and Date."""
    out = []
    for r in ctx.store.raw_messages(kinds=kinds):
        head = headers_only(ctx.store.raw_bytes(r.id))
        out.append(SetAside(r, r.sender or head.sender, r.subject or head.subject, head.date))
    return out
