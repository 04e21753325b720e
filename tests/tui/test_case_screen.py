"""The case screen: every section, the audit on open, raw toggle, attachments, scrolling."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.tui.case_host import Host, demo_ctx_fixture, pk_of, settle, sync  # noqa: F401
from uq.queue.clock import FixedClock
from uq.services.context import Context
from uq.tui.screens.case import CaseScreen
from uq.tui.widgets.case_view import CaseView

PACKET = [
    "Request", "Member", "Provider", "Diagnosis", "Service", "Guideline", "Criteria met",
    "Criteria not met", "Clinical summary", "Nurse assessment", "Recommendation", "Audit",
]


@sync
async def test_case_screen_shows_every_section_and_audits_the_open(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004512")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        text = app.screen.query_one(CaseView).text
        for title in PACKET:
            assert f" {title} " in text, title
        for value in ("UM-2026-004512", "Jane Q. Sample", "(555) 201-3344", "M54.16",
                      "CPT 72148", "MCG A-0317", "Radicular pain", "6 weeks of conservative",
                      "64F with 3 weeks", "does not meet MCG", "DENY", "imaging is not yet"):
            assert value in text, value
        assert "opened by demo" in text
    actions = [e.action for e in demo_ctx.store.audit_entries(case_pk=pk)]
    assert actions.count("opened") == 1
    assert pk in app.changed  # the queue learns the case was opened


@sync
async def test_attachments_thread_and_p2p_log_sections(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    expected = {
        "ACR-77310": [" Attachments ", "ACR-77310-packet.pdf", " Attachment text: ", "Catheter ablation"],
        "UM-2026-004533": [" Thread ", "updated: RE: Case UM-2026-004533"],
        "SHR-26-1052": [" Peer-to-peer log ", "voicemail · (555) 610-1200", " Decisions ",
                        "call_needed by demo"],
    }
    for case_id, needles in expected.items():
        app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, case_id))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            text = app.screen.query_one(CaseView).text
            for needle in needles:
                assert needle in text, (case_id, needle)


@sync
async def test_problems_are_shown_first(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    noid = next(c for c in demo_ctx.store.cases() if c.case_id.startswith("NOID-"))
    app = Host(demo_ctx, fixed_clock, open_pk=noid.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = app.screen.query_one(CaseView).text
        assert text.lstrip().startswith("Problems")
        assert "case_id: not found" in text


@sync
async def test_raw_toggle(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "UM-2026-004512"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(CaseView)
        await pilot.press("r")
        await settle(pilot)
        assert view.showing_raw
        assert "Message-ID: <case-4512.1@reviews.example-um.com>" in view.text
        assert " Clinical summary " not in view.text
        await pilot.press("r")
        await pilot.pause()
        assert not view.showing_raw and " Clinical summary " in view.text


@sync
async def test_scroll_keys_and_escape(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "ACR-77310"))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(CaseView)
        assert view.max_scroll_y > 5
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert view.scroll_y == 3
        await pilot.press("k")
        await pilot.pause()
        assert view.scroll_y == 2
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > 10
        await pilot.press("G")
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert view.scroll_y == 0
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CaseScreen)


def _fake_viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `xdg-open` (and `open`) on PATH that records its argument instead of opening a GUI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "viewer.log"
    for name in ("xdg-open", "open"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@sync
async def test_open_attachment_with_the_system_viewer(
    demo_ctx: Context, fixed_clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_viewer(tmp_path, monkeypatch)
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "ACR-77310"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        opened = Path(log.read_text().strip())
        assert opened.name == "ACR-77310-packet.pdf"
        assert opened.read_bytes().startswith(b"%PDF-")
        assert stat.S_IMODE(opened.stat().st_mode) == 0o600
        assert stat.S_IMODE(opened.parent.stat().st_mode) == 0o700
        assert any("Opened ACR-77310-packet.pdf" in n.message for n in app._notifications)


@sync
async def test_open_attachment_without_a_viewer_or_attachment(
    demo_ctx: Context, fixed_clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "ACR-77310"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert any("Opened ACR-77310-packet.pdf (1 of 1)" in n.message for n in app._notifications)
        assert app.screen.view.showing_raw  # its text, in the case view
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "UM-2026-004512"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert any("no attachments" in n.message for n in app._notifications)


@sync
async def test_headline_countdown_follows_the_clock(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    from textual.widgets import Static

    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "ACR-77305"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        headline = app.screen.query_one("#headline", Static)
        assert str(headline.content).startswith("ACR-77305  ▲ 6m")
        fixed_clock.advance(minutes=7)
        app.screen._tick()
        await pilot.pause()
        assert str(headline.content).startswith("ACR-77305  ✖ -1m")


@sync
async def test_u_sets_an_unknown_urgency_and_the_clocks_follow(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    """`U` on the case screen: unknown -> urgent, again -> standard; the problem and the
    "urgency unknown" wording go, the queue is told, and the change is audited."""
    from uq.domain import Urgency

    pk = pk_of(demo_ctx, "UM-2026-004512")
    with demo_ctx.store.tx() as tx:
        tx.set_facts(pk, urgency="unknown")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = app.screen.query_one(CaseView).text
        assert "urgency unknown (urgent clocks)" in text and "urgency unknown: the urgent clocks run" in text
        await pilot.press("U")
        await settle(pilot)
        case = demo_ctx.store.case(pk)
        assert case is not None and case.fields.urgency is Urgency.URGENT
        text = app.screen.query_one(CaseView).text
        assert "urgency unknown" not in text
        await pilot.press("U")
        await settle(pilot)
        case = demo_ctx.store.case(pk)
        assert case is not None and case.fields.urgency is Urgency.STANDARD
        assert app.queue_changes >= 2 and app.errors == []
    details = [e.detail for e in demo_ctx.store.audit_entries(case_pk=pk) if e.action == "facts_set"]
    assert details == ["urgency unknown → urgent", "urgency urgent → standard"]


@sync
async def test_a_tolled_case_shows_both_clocks_and_the_request(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    """An ERISA-style pend: the case screen names the paused regulatory clock with the time
    it had left, the request and its items, while the reviewer's clock keeps counting; an
    urgent claim shows its information sequence instead."""
    from dataclasses import replace

    from uq.config import ClientPolicy, SlaConfig
    from uq.domain import Outcome, Urgency
    from uq.services import review

    demo_ctx.config = replace(demo_ctx.config, sla=SlaConfig(
        client=[ClientPolicy(match="example health plan", standard="15d", toll_on_pend=True)]))
    pk = pk_of(demo_ctx, "UM-2026-004512")
    review.set_facts(demo_ctx, pk, urgency=Urgency.STANDARD)
    review.open_case(demo_ctx, pk)  # deciding needs the case opened
    review.decide(demo_ctx, pk, Outcome.PEND, review.DecisionInput(rationale="Please send the physical therapy notes."))
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = app.screen.query_one(CaseView).text
        assert "‖ paused, 14d 21h left" in text  # 15 days from receipt, 170 minutes gone
        assert "tolled: information requested" in text
        assert "(waiting): Please send the physical therapy notes." in text
        assert "(reviewer clock)" in text  # the binding clock is the running one
    review.set_facts(demo_ctx, pk, urgency=Urgency.URGENT)
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = app.screen.query_one(CaseView).text
        assert "paused" not in text and "never tolled" in text
        for milestone in ("Information request due", "Information due", "Decision due"):
            assert milestone in text, milestone
