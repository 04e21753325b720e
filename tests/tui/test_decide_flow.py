"""Deciding each outcome end to end through the modal: saved, queued, and (for one) sent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Input, Select, SelectionList, Static

from tests.fixtures.env import UqHome, write_config
from tests.fixtures.smtp import SmtpServer
from tests.tui.case_host import Host, demo_ctx_fixture, open_demo, open_modal, pk_of, settle, sync  # noqa: F401
from uq.config import load_config
from uq.domain import CaseStatus, DeclineReason, OutboxState, Outcome
from uq.queue.clock import FixedClock
from uq.services import outbox
from uq.services.context import Context
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.decide import DecisionModal
from uq.tui.widgets.rationale import RationaleEditor

DENY_WHY = (
    "Only two weeks of NSAIDs and no physical therapy; six weeks of conservative care "
    "has not been tried and no red-flag deficit is documented."
)


def _messages(app: Host) -> str:
    return str(app.screen.query_one("#messages", Static).content)


def _toasts(app: Host) -> list[str]:
    return [n.message for n in app._notifications]


def _preview(app: Host) -> str:
    return str(app.screen.query_one("#preview", Static).content)


def tick_first_criterion(modal: DecisionModal, met: bool = False) -> str:
    """Tick the packet's first criterion (not met by default) and return its label."""
    sl = modal.query_one("#criteria", SelectionList)
    prefix = "Met:" if met else "Not met:"
    for i in range(sl.option_count):
        option = sl.get_option_at_index(i)
        if str(option.value).startswith(prefix):
            sl.select(option.value)
            return str(option.value)
    raise AssertionError("no such criterion in the packet")


async def _confirm(pilot) -> None:  # type: ignore[no-untyped-def]
    """ctrl+s shows the reply; ctrl+s again queues it."""
    await pilot.press("ctrl+s")
    await settle(pilot)
    if isinstance(pilot.app.screen, DecisionModal) and pilot.app.screen.armed:
        await pilot.press("ctrl+s")
        await settle(pilot)


async def _decide(pilot, key: str, *, rationale: str = "", tick: bool = False, **fields: object) -> None:  # type: ignore[no-untyped-def]
    modal = await open_modal(pilot, key)
    assert isinstance(modal, DecisionModal)
    if rationale:
        modal.query_one(RationaleEditor).load_text(rationale)
    if tick:
        tick_first_criterion(modal)
    for wid, value in fields.items():
        widget = modal.query_one(f"#{wid}")
        if isinstance(widget, Input):
            widget.value = str(value)
        elif isinstance(widget, Select):
            widget.value = value
    await pilot.pause()
    await _confirm(pilot)


def _only_item(ctx: Context, pk: int):  # type: ignore[no-untyped-def]
    items = [o for o in ctx.store.outbox() if o.case_pk == pk]
    assert len(items) == 1
    return items[0]


@sync
async def test_approve_end_to_end(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    pk = pk_of(demo_ctx, "ACR-77305")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "a")
        agreement = str(app.screen.query_one("#agreement", Static).content)
        assert "APPROVE" in agreement and "agrees with the nurse" in agreement
        assert app.screen.query_one("#title", Static).content == "Approve — ACR-77305"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DecisionModal), "the first ctrl+s only shows the reply"
        preview = _preview(app)
        assert preview.startswith("To: ") and "\nSubject: Re: " in preview
        assert "Decision: APPROVE" in preview and "Licence: NY; licence no. DEMO-0000" in preview
        assert "ctrl+s again queues this reply" in _messages(app)
        assert demo_ctx.store.outbox() == [o for o in demo_ctx.store.outbox() if o.case_pk != pk]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, DecisionModal | CaseScreen)  # back to the queue
        assert "ACR-77305 approve saved — reply held 20 s (u to undo)" in _toasts(app)
        assert pk in app.changed and app.queue_changes >= 1
    item = _only_item(demo_ctx, pk)
    assert item.state is OutboxState.HELD
    assert demo_ctx.store.case(pk).status is CaseStatus.DECIDED
    assert b"APPROVE" in item.raw and b"ACR-77305" in item.raw


@sync
async def test_deny_with_rationale_and_prefilled_guideline(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004512")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "d")
        guideline = app.screen.query_one("#guideline", Input).value
        assert guideline == "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine (27th ed.)"
        assert "agrees with the nurse" in str(app.screen.query_one("#agreement", Static).content)
        app.screen.query_one(RationaleEditor).load_text(DENY_WHY)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "at least one criterion" in _messages(app)
        ticked = tick_first_criterion(app.screen)  # type: ignore[arg-type]
        await pilot.press("ctrl+s")
        await settle(pilot)
        # the demo reviewer practises internal medicine; this is an orthopaedic request
        assert "outside yours (Internal Medicine" in _messages(app)
        assert "Confirm: ctrl+s again sends it anyway" in _messages(app)
        assert f"- {ticked}" in _preview(app) and "same or a similar specialty" not in _preview(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, DecisionModal)
    (decision,) = demo_ctx.store.decisions(pk)
    assert decision.outcome is Outcome.DENY and decision.agrees_with_nurse is True
    assert decision.guideline.startswith("MCG A-0317") and "NSAIDs" in decision.rationale
    assert decision.criteria == (ticked,)
    item = _only_item(demo_ctx, pk)
    assert b"DENY" in item.raw and b"MCG A-0317" in item.raw and ticked.encode() in item.raw


@sync
async def test_deny_without_rationale_is_refused_and_nothing_queued(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004512")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await _decide(pilot, "d")
        assert isinstance(app.screen, DecisionModal)  # still open, error shown
        assert "a denial needs a rationale" in _messages(app)
        # boilerplate is refused too
        app.screen.query_one(RationaleEditor).load_text("Does not meet criteria.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "patient-specific rationale" in _messages(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
    assert demo_ctx.store.decisions(pk) == []
    assert [o for o in demo_ctx.store.outbox() if o.case_pk == pk] == []
    assert demo_ctx.store.case(pk).status is CaseStatus.OPEN


@sync
async def test_partial_needs_and_records_what_is_approved(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004533")
    why = ("Progress after six visits is documented but twelve more exceeds the shoulder "
           "guideline; six further visits are supported.")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await _decide(pilot, "p", rationale=why)
        assert "a partial approval needs what was approved" in _messages(app)
        app.screen.query_one("#portion", Input).value = "6 of 12 visits"
        await _confirm(pilot)
        assert "a partial approval needs what was denied" in _messages(app)
        app.screen.query_one("#denied", Input).value = "visits 7 to 12"
        await _confirm(pilot)
        assert "at least one criterion" in _messages(app)
        app.screen.query_one("#criterion", Input).value = "Not met: functional gain after 12 visits"
        await _confirm(pilot)
        assert not isinstance(app.screen, DecisionModal)
    (decision,) = demo_ctx.store.decisions(pk)
    assert decision.outcome is Outcome.PARTIAL and decision.approved_portion == "6 of 12 visits"
    assert decision.denied_portion == "visits 7 to 12"
    assert decision.agrees_with_nurse is True
    assert b"6 of 12 visits" in _only_item(demo_ctx, pk).raw


@sync
async def test_call_needed_keeps_the_case_open(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004520")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await _decide(pilot, "c", rationale="Please have the attending call about discharge plans.")
        assert isinstance(app.screen, CaseScreen)  # the case stays: its clock keeps running
        assert any("UM-2026-004520 call needed saved" in t for t in _toasts(app))
    assert demo_ctx.store.case(pk).status is CaseStatus.CALL_NEEDED
    assert b"CALL NEEDED" in _only_item(demo_ctx, pk).raw


@sync
async def test_decline_needs_a_reason(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    pk = pk_of(demo_ctx, "ACR-77322")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await _decide(pilot, "x")
        assert "declining a case needs a reason" in _messages(app)
        assert "No agreement question" in str(app.screen.query_one("#agreement", Static).content)
        app.screen.query_one("#reason", Select).value = DeclineReason.OUTSIDE_SPECIALTY
        await _confirm(pilot)
        assert not isinstance(app.screen, DecisionModal)
    (decision,) = demo_ctx.store.decisions(pk)
    assert decision.outcome is Outcome.DECLINE
    assert decision.decline_reason is DeclineReason.OUTSIDE_SPECIALTY
    assert b"DECLINED" in _only_item(demo_ctx, pk).raw


@sync
async def test_treatment_advice_needs_a_second_confirm(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "ACR-77305")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "a")
        editor = app.screen.query_one(RationaleEditor)
        editor.focus()
        await pilot.press(*"I would start aspirin")
        await pilot.pause()
        assert "reads as treatment advice" in _messages(app)  # live, as typed
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DecisionModal)
        assert "Confirm: ctrl+s again sends it anyway" in _messages(app)
        assert "not treatment advice" not in _preview(app), "never asserts the opposite of what is confirmed"
        assert app.screen.query_one("#statement", Input).display
        app.screen.query_one("#statement", Input).value = "My remark on aspirin is a comment on the records."
        await pilot.pause()
        assert not app.screen.armed, "an edit withdraws the preview"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "My remark on aspirin is a comment on the records." in _preview(app)
        assert demo_ctx.store.decisions(pk) == []
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, DecisionModal)
    assert len(demo_ctx.store.decisions(pk)) == 1
    assert b"My remark on aspirin is a comment on the records." in _only_item(demo_ctx, pk).raw
    audit = [e.detail for e in demo_ctx.store.audit_entries(case_pk=pk) if e.action == "decided"]
    assert "confirmed despite treatment-advice warning" in audit[0]


@sync
async def test_templates_insert_into_the_rationale(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock
) -> None:
    (tmp_path / "demo").mkdir()
    base = load_config(write_config(tmp_path, ui={"templates": {
        "imaging": "Imaging before six weeks of conservative care is not supported.",
    }}))
    ctx = open_demo(tmp_path, fixed_clock, base)
    app = Host(ctx, fixed_clock, open_pk=pk_of(ctx, "UM-2026-004512"))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "d")
        app.screen.query_one("#template", Select).value = "imaging"
        await pilot.pause()
        text = app.screen.query_one(RationaleEditor).text
        assert text == "Imaging before six weeks of conservative care is not supported."
    ctx.close()


@sync
async def test_ctrl_e_edits_the_rationale_in_editor(
    demo_ctx: Context, fixed_clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "Written in the editor." >> "$1"\n')
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "ACR-77305"))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "a")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert any("Set $EDITOR" in t for t in _toasts(app))
        monkeypatch.setenv("EDITOR", str(editor))
        app.screen.query_one(RationaleEditor).load_text("Typed first. ")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.screen.query_one(RationaleEditor).text == "Typed first. Written in the editor."
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("uq-rationale-*"))


@sync
async def test_undo_within_the_hold_sends_nothing(
    demo_ctx: Context, fixed_clock: FixedClock, tmp_path: Path
) -> None:
    pk = pk_of(demo_ctx, "ACR-77305")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await _decide(pilot, "a")
        assert not isinstance(app.screen, CaseScreen)
        fixed_clock.advance(seconds=5)  # still inside the 20 s hold
        app.push_screen(CaseScreen(pk))
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert any("decision undone, reply not sent" in t for t in _toasts(app))
    item = _only_item(demo_ctx, pk)
    assert item.state is OutboxState.UNDONE
    assert demo_ctx.store.case(pk).status is CaseStatus.OPEN
    fixed_clock.advance(seconds=60)
    folder = tmp_path / "sent"
    outbox.send_due(demo_ctx, transport=outbox.file_transport(folder))
    sent = sorted(folder.glob("*.eml")) if folder.exists() else []
    assert all(b"ACR-77305" not in p.read_bytes() for p in sent)
    assert _only_item(demo_ctx, pk).state is OutboxState.UNDONE


@sync
async def test_reply_reaches_smtp_after_the_hold(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock, smtp_server: SmtpServer
) -> None:
    (tmp_path / "demo").mkdir()
    path = write_config(tmp_path, smtp=smtp_server, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    path.write_text(path.read_text().replace("hold_seconds = 0", "hold_seconds = 3"))
    cfg = load_config(path)
    from uq.services.demo import load_demo

    ctx = Context.open(cfg, clock=fixed_clock)
    load_demo(ctx)
    fixed_clock.advance(seconds=4)
    assert outbox.send_due(ctx).sent == 1  # the demo's own call-needed reply goes first
    before = len(smtp_server.messages)
    pk = pk_of(ctx, "UM-2026-004512")
    app = Host(ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await _decide(pilot, "d", rationale=DENY_WHY, tick=True)
        assert "reply held 3 s" in " ".join(_toasts(app))
    assert outbox.send_due(ctx).sent == 0  # still held
    fixed_clock.advance(seconds=4)
    assert outbox.send_due(ctx).sent == 1
    assert len(smtp_server.messages) == before + 1
    mail_from, rcpts, raw = smtp_server.messages[-1]
    assert mail_from == "reviewer@example.test"
    assert rcpts == ["mlopez@reviews.example-um.com"]
    assert b"UM-2026-004512" in raw and b"DENY" in raw
    assert b"In-Reply-To: <case-4512.1@reviews.example-um.com>" in raw
    assert _only_item(ctx, pk).state is OutboxState.SENT
    ctx.close()


@sync
async def test_quit_with_a_held_reply_asks_and_send_now_delivers_before_exit(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock, smtp_server: SmtpServer
) -> None:
    """q with a reply on hold asks; "send now" ends the hold and the reply reaches the real
    SMTP server before uq exits (a held reply must never be left behind by quitting)."""
    from tests.tui.conftest import wait_for
    from uq.services import review
    from uq.tui.app import Opened, UqApp
    from uq.tui.screens.quit import QuitScreen

    path = write_config(tmp_path, smtp=smtp_server, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    path.write_text(path.read_text().replace("hold_seconds = 0", "hold_seconds = 600"))
    cfg = load_config(path)
    from uq.services.demo import load_demo

    ctx = Context.open(cfg, clock=fixed_clock)
    load_demo(ctx)
    fixed_clock.advance(seconds=700)
    outbox.send_due(ctx)  # the demo's own reply leaves first
    pk = pk_of(ctx, "UM-2026-004512")
    review.open_case(ctx, pk)
    review.decide(
        ctx, pk, Outcome.APPROVE, review.DecisionInput(rationale="Meets the criteria for the imaging requested.")
    )
    before = len(smtp_server.messages)
    assert [p.case_id for p in outbox.pending_replies(ctx)] == ["UM-2026-004512"]
    app = UqApp(cfg, opener=lambda: Opened(ctx=ctx, send=False), clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.ctx is not None and app.queue_screen.loaded)
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        assert "UM-2026-004512 approve · held" in str(app.screen.query_one("#quit-list").render())
        await pilot.press("escape")  # cancel: still running, still held
        await wait_for(pilot, lambda: app.screen is app.queue_screen)
        assert app.is_running and len(smtp_server.messages) == before
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("s")
        await wait_for(pilot, lambda: not app.is_running, timeout=30)
    assert len(smtp_server.messages) == before + 1
    assert b"UM-2026-004512" in smtp_server.messages[-1].raw
    assert outbox.pending_replies(ctx) == []
    ctx.close()
