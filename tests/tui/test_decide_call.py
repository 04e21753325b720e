"""Logging a peer-to-peer attempt from the case screen."""

from __future__ import annotations

from textual.widgets import Input, Select, Static, TextArea

from tests.tui.case_host import Host, demo_ctx_fixture, open_modal, pk_of, settle, sync  # noqa: F401
from uq.domain import CallOutcome
from uq.queue.clock import FixedClock
from uq.services.context import Context
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.decide import CallModal
from uq.tui.widgets.case_view import CaseView


@sync
async def test_call_attempt_logged_with_prefilled_number(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004520")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "l")
        modal = app.screen
        assert isinstance(modal, CallModal)
        assert modal.query_one("#number", Input).value == "(555) 220-9090"
        modal.query_one("#outcome", Select).value = CallOutcome.VOICEMAIL
        modal.query_one("#note", TextArea).text = "Left the call-back number"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert "voicemail · (555) 220-9090 · Left the call-back number" in app.screen.query_one(
            CaseView).text
        assert any("call attempt logged (voicemail)" in n.message for n in app._notifications)
    (call,) = demo_ctx.store.calls(pk)
    assert call.outcome is CallOutcome.VOICEMAIL and call.number == "(555) 220-9090"
    assert "call_attempt" in [e.action for e in demo_ctx.store.audit_entries(case_pk=pk)]


@sync
async def test_call_modal_escape_logs_nothing(demo_ctx: Context, fixed_clock: FixedClock) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004520")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "l")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
    assert demo_ctx.store.calls(pk) == []


@sync
async def test_call_modal_has_no_default_outcome_and_a_multiline_note(
    demo_ctx: Context, fixed_clock: FixedClock
) -> None:
    pk = pk_of(demo_ctx, "UM-2026-004520")
    app = Host(demo_ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_modal(pilot, "l")
        modal = app.screen
        assert isinstance(modal, CallModal)
        assert modal.query_one("#outcome", Select).value is Select.NULL
        await pilot.press("ctrl+s")  # a quick confirm logs no call that never happened
        await settle(pilot)
        assert app.screen is modal
        assert "choose an outcome" in str(modal.query_one("#messages", Static).render())
        assert demo_ctx.store.calls(pk) == []
        modal.query_one("#outcome", Select).value = CallOutcome.NO_ANSWER
        modal.query_one("#note", TextArea).focus()
        await pilot.press("R", "a", "n", "g", "enter", "t", "w", "i", "c", "e")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
    (call,) = demo_ctx.store.calls(pk)
    assert call.outcome is CallOutcome.NO_ANSWER and call.note == "Rang\ntwice"
