"""The case packet as titled sections: one structure the CLI prints and the TUI draws.

The sections hold case text as it is; whoever draws them sanitises (`case_text` for the
terminal, the TUI's case view per line), so nothing in a field can act on the terminal."""

from __future__ import annotations

from datetime import datetime

from uq.lookalike import show_id
from uq.queue.countdown import countdown_text, state_glyph
from uq.services.context import Context
from uq.services.queries import CaseDetail, case_problems
from uq.textsafe import safe_block, safe_line

Section = tuple[str, list[tuple[str, str]]]
_URGENCY_WORDS = {"unknown": "urgency unknown (urgent clocks)"}


def _t(ctx: Context, dt: datetime | None) -> str:
    return dt.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M %Z") if dt else "—"


def case_sections(ctx: Context, detail: CaseDetail) -> list[Section]:
    c, f, d = detail.case, detail.case.fields, detail.deadlines
    clocks = [
        (
            "Due",
            f"{_t(ctx, d.due_at)}  {state_glyph(d.state)} {countdown_text(d.seconds_left)} ({d.binding.value} clock)",
        ),
        ("Reviewer due", _t(ctx, d.reviewer_due_at)),
        (
            "Regulatory due",
            _t(ctx, d.regulatory_due_at)
            + (f"  ‖ paused, {countdown_text(d.regulatory_seconds_left)} left" if d.regulatory_paused else "")
            + (f"  (extended: {c.extension_reason})" if c.regulatory_extended_to else ""),
        ),
        ("Rule", d.regulatory_rule),
        *((name.capitalize(), _t(ctx, at)) for name, at in d.milestones),
    ]
    if d.explicit_due_at:
        clocks.append(("Explicit due", _t(ctx, d.explicit_due_at)))
    if c.pended_at:
        answer = f"answered {_t(ctx, c.info_received_at)}" if c.info_received_at else "waiting"
        clocks.append(("Information", f"requested {_t(ctx, c.pended_at)} ({answer}): {c.pend_items or '—'}"))
    sections: list[Section] = [
        (
            "Request",
            [
                ("Case", show_id(c.case_id)),
                ("Status", c.status.value.replace("_", " ")),
                ("Review", f"{f.review_type.value} · {_URGENCY_WORDS.get(f.urgency.value, f.urgency.value)}"
                 + (f" · {f.review_level.value.replace('_', ' ')}" if f.review_level.is_appeal else "")),
                ("Client", f.client or "—"),
                ("From", f"{c.sender_name} <{c.sender}>" if c.sender_name else c.sender),
                ("Subject", c.subject),
                ("Received (plan)", _t(ctx, f.received_at)),
                ("Arrived", _t(ctx, c.arrived_at)),
                *clocks,
            ],
        ),
        ("Member", [("Name", f.member_name or "—"), ("DOB", f.member_dob or "—"), ("Member ID", f.member_id or "—")]),
        (
            "Provider",
            [
                ("Requesting", f.requesting_provider or "—"),
                ("Phone", f.provider_phone or "—"),
                ("NPI", f.provider_npi or "—"),
                ("Facility", f.facility or "—"),
            ],
        ),
        ("Diagnosis", [("", f.diagnosis or "—")]),
        ("Service", [("", f.service or "—"), ("Dates", f.dates_of_service or "—")]),
        ("Guideline", [("", f.guideline or "—")]),
        ("Criteria met", [("", f.criteria_met or "—")]),
        ("Criteria not met", [("", f.criteria_not_met or "—")]),
        ("Clinical summary", [("", f.clinical_summary or "—")]),
        ("Nurse assessment", [("", f.nurse_assessment or "—")]),
        (
            "Recommendation",
            [
                (
                    "Nurse",
                    f"{f.nurse_recommendation.value.upper()}"
                    + (f" — {f.nurse_recommendation_text}" if f.nurse_recommendation_text else ""),
                ),
                ("Question", f.question or "—"),
                ("Nurse reviewer", f.nurse_name or "—"),
            ],
        ),
    ]
    if detail.note:  # above the packet: the reviewer wrote it to see it again
        sections.insert(0, ("Private note (never sent)", [("", detail.note)]))
    problems = case_problems(ctx, c)
    if problems:
        sections.insert(0, ("Problems", [("", p) for p in problems]))
    if detail.attachments:
        sections.append(
            (
                "Attachments",
                [
                    (a.filename, f"{a.content_type}, {a.size:,} bytes" + (" · text below" if a.text else ""))
                    for a in detail.attachments
                ],
            )
        )
        for a in detail.attachments:
            if a.text:
                sections.append((f"Attachment text: {a.filename}", [("", a.text.strip()[:20000])]))
    unverified = [m for m in detail.thread if m.kind == "unverified"]
    if unverified:  # right under the problems: nothing in them has changed the case
        rows = [
            (f"#{m.id}", f"from {m.sender} · {_t(ctx, m.internaldate or m.ingested_at)} · {m.subject}")
            for m in unverified
        ]
        rows.append(("", f"Not applied. Accept one: uq accept {c.case_id} N (or V on the case screen)"))
        sections.insert(1 if c.problems else 0, ("Unverified updates (not from the case's sender)", rows))
    if len(detail.thread) > 1:
        sections.append(
            ("Thread", [(_t(ctx, m.internaldate or m.ingested_at), f"{m.kind}: {m.subject}") for m in detail.thread])
        )
    if detail.calls:
        sections.append(
            (
                "Peer-to-peer log",
                [
                    (
                        _t(ctx, k.at),
                        f"{k.outcome.value.replace('_', ' ')} · {k.number or 'no number'}"
                        + (f" · {k.note}" if k.note else ""),
                    )
                    for k in detail.calls
                ],
            )
        )
    if detail.decisions:
        sections.append(
            (
                "Decisions",
                [
                    (
                        _t(ctx, x.decided_at),
                        f"{x.outcome.value}{' (undone)' if x.undone else ''} by {x.reviewer}"
                        + (
                            ""
                            if x.agrees_with_nurse is None
                            else f", {'agrees' if x.agrees_with_nurse else 'disagrees'} with nurse"
                        ),
                    )
                    for x in detail.decisions
                ],
            )
        )
    if detail.outbox:
        sections.append(
            (
                "Replies",
                [
                    (
                        _t(ctx, o.created_at),
                        f"{o.state.value}"
                        + (f" — {o.last_error}" if o.last_error and o.state.value != "sent" else ""),
                    )
                    for o in detail.outbox
                ],
            )
        )
    if c.active_seconds:
        sections.append(("Time on case", [("Active", f"{c.active_seconds // 60} min {c.active_seconds % 60} s")]))
    sections.append(("Audit", [(_t(ctx, e.at), f"{e.action} by {e.actor}") for e in detail.audit]))
    return sections


def case_text(ctx: Context, detail: CaseDetail) -> str:
    out: list[str] = []
    for title, rows in case_sections(ctx, detail):
        out.append(f"\n== {safe_line(title)} ==")
        for label, value in rows:
            out.append(f"{safe_line(label) + ':':<18} {safe_block(value)}" if label else safe_block(value))
    return "\n".join(out).lstrip("\n")
