"""The bundled demo: ~15 synthetic cases through the real parser, with the promised mix."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.fixtures.env import UqHome
from uq.config import Config
from uq.domain import CaseStatus, ReviewType, SlaState, Urgency
from uq.queue.clock import FixedClock
from uq.services.context import Context
from uq.services.demo import demo_config, demo_messages, load_demo
from uq.services.queries import case_detail, queue


def _ctx(tmp_path: Path, clock: FixedClock) -> Context:
    return Context.open(demo_config(Config(), tmp_path), clock=clock)


def test_load_demo_gives_the_promised_mix(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock
) -> None:
    ctx = _ctx(tmp_path, fixed_clock)
    replies = load_demo(ctx)
    assert replies.is_dir() and replies.parent == tmp_path
    assert ctx.config.smtp.from_address == "dr.demo@example.org"
    items = queue(ctx)
    assert 14 <= len(items) <= 16
    states = Counter(d.state for _, d in items)
    assert states[SlaState.BREACHED] == 2
    assert states[SlaState.WARNING] == 3
    assert states[SlaState.OK] == len(items) - 5
    assert {c.fields.urgency for c, _ in items} >= {Urgency.URGENT, Urgency.STANDARD}
    assert {c.fields.review_type for c, _ in items} >= {
        ReviewType.PROSPECTIVE, ReviewType.CONCURRENT, ReviewType.RETROSPECTIVE,
    }
    by_id = {c.case_id: c for c, _ in items}
    # the follow-up updated its case instead of making a second one
    assert by_id["UM-2026-004533"].update_count == 1
    # the case without an ID is still a case, flagged
    noid = [c for c in by_id.values() if c.case_id.startswith("NOID-")]
    assert len(noid) == 1 and any(p.startswith("case_id") for p in noid[0].problems)
    # the HTML-only case was read from its table
    assert by_id["SHR-26-1040"].fields.member_name == "Lena M. Testcase"
    # the PDF packet: fields from the PDF and its text kept for display
    pdf_case = by_id["ACR-77310"]
    assert pdf_case.fields.member_name == "Robert T. Sample"
    atts = case_detail(ctx, pdf_case.id).attachments
    assert atts[0].filename.endswith(".pdf") and "Catheter ablation" in (atts[0].text or "")
    # one case waits on a peer-to-peer call, with a voicemail logged
    call = by_id["SHR-26-1052"]
    assert call.status is CaseStatus.CALL_NEEDED
    assert len(case_detail(ctx, call.id).calls) == 1
    ctx.close()


def test_load_demo_twice_adds_nothing(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock
) -> None:
    ctx = _ctx(tmp_path, fixed_clock)
    load_demo(ctx)
    n = len(queue(ctx))
    load_demo(ctx)
    assert len(queue(ctx)) == n
    assert len(ctx.store.outbox()) == 1  # the call-needed reply, not twice
    ctx.close()


def test_demo_emails_are_synthetic_and_dated_from_now(fixed_clock: FixedClock) -> None:
    msgs = demo_messages(fixed_clock())
    assert len(msgs) >= 15
    for raw in msgs:
        assert b"{{" not in raw
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
        senders = [ln for ln in raw.split(b"\r\n") if ln.startswith(b"From:")]
        assert senders and (b"example.com>" in senders[0] or b"example-um.com>" in senders[0])
    assert b"Date: Sun, 29 Nov 2026" in msgs[0]


def test_the_demo_needs_no_audit_key_and_leaves_none_behind(uq_home, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`uq demo` is the first command on a fresh machine: no keyring, no UQ_AUDIT_KEY. Its
    temporary trail gets its own random key and the reviewer's config dir stays untouched."""
    import keyring
    import keyring.backends.fail

    from uq.config import Config
    from uq.domain import Outcome
    from uq.queue.clock import system_clock
    from uq.secrets import AUDIT_KEY_ENV, AUDIT_KEY_FILE
    from uq.services import audit, review
    from uq.tui.launch import demo_opener

    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)
    keyring.set_keyring(keyring.backends.fail.Keyring())
    opened = demo_opener(Config(), system_clock, tmp_path / "demo")()
    ctx = opened.ctx
    case = ctx.store.cases()[0]
    review.open_case(ctx, case.id)
    review.decide(
        ctx, case.id, Outcome.APPROVE, review.DecisionInput(rationale="Meets the criteria for the service requested.")
    )
    ok, text = audit.verify(ctx)
    assert ok, text
    assert not (uq_home.config_dir / AUDIT_KEY_FILE).exists()
    ctx.close()
