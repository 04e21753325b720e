"""Pilot tests for every queue key: motion, open, filter, sort, views, help, palette, undo,
decision keys, quit, and the keymap from config."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.command import CommandPalette

from tests.tui.conftest import loaded, wait_for
from uq.config import Config, UiConfig
from uq.domain import OutboxState, Outcome
from uq.errors import ConfigError
from uq.tui.app import UqApp
from uq.tui.rows import sort_rows


def approve_outside(app: UqApp, pk: int) -> None:
    """A decision saved the way the modal saves it, then announced to the app."""
    from uq.services import review
    from uq.tui.messages import CaseChanged

    assert app.ctx is not None
    review.open_case(app.ctx, pk)
    review.decide(
        app.ctx,
        pk,
        Outcome.APPROVE,
        review.DecisionInput(
            guideline="MCG A-0317 (27th ed.)",
            rationale="Conservative therapy documented for eight weeks; criteria met.",
        ),
    )
    app.post_message(CaseChanged(pk))


def run(app: UqApp, body: Any, size: tuple[int, int] = (120, 40)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await loaded(pilot)
            await body(pilot)

    asyncio.run(main())


def test_motion_keys_move_the_cursor(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        ql = app.queue_screen.queue_list
        assert ql.cursor == 0 and len(ql.rows) == 15
        await pilot.press("j", "j", "down")
        assert ql.cursor == 3
        await pilot.press("k", "up")
        assert ql.cursor == 1
        await pilot.press("G")
        assert ql.cursor == 14
        await pilot.press("j")  # clamps at the end
        assert ql.cursor == 14
        await pilot.press("g")
        assert ql.cursor == 0
        await pilot.press("k")  # clamps at the top
        assert ql.cursor == 0
        # the list is in due order: first row is the most overdue
        dues = [r.due_at for r in ql.rows]
        assert dues == sorted(dues)

    run(app, body)


def test_enter_opens_the_highlighted_case_and_esc_returns(make_app: Any) -> None:
    from uq.tui.screens.case import CaseScreen

    app = make_app()

    async def body(pilot: Any) -> None:
        ql = app.queue_screen.queue_list
        await pilot.press("j")
        pk = ql.current_pk
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen))
        assert app.screen.case_pk == pk  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.queue_screen)
        assert ql.current_pk == pk

    run(app, body)


def test_filter_is_incremental_over_id_member_client_service(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        screen = app.queue_screen
        ql = screen.queue_list
        await pilot.press("slash")
        await pilot.press(*"UM-2026")
        assert ql.rows and all("um-2026" in r.haystack for r in ql.rows)
        assert len(ql.rows) < len(screen.all_rows)
        await pilot.press("enter")  # keeps the filter, back to the list
        assert ql.has_focus and screen.filter_text == "UM-2026"
        await pilot.press("escape")  # clears it
        assert screen.filter_text == "" and len(ql.rows) == len(screen.all_rows)
        # client and service text match too; member names match but are never displayed
        await pilot.press("slash", *"summit")
        assert ql.rows and all(r.client.lower().startswith("summit") for r in ql.rows)
        await pilot.press("escape")
        await pilot.press("slash", *"mri")
        assert any("MRI" in r.service for r in ql.rows)
        await pilot.press("escape")
        member_row = screen.all_rows[0]
        assert member_row.initials  # J.S. style
        first_name = member_row.haystack.split("\n")[1].split()[0]
        await pilot.press("slash", *first_name)
        assert member_row.pk in [r.pk for r in ql.rows]
        text = "\n".join(ql.render_line(i).text for i in range(len(ql.rows)))
        assert first_name not in text.lower()

    run(app, body)


def test_sort_cycles_due_urgency_arrival_client(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        screen = app.queue_screen
        ql = screen.queue_list
        seen = []
        for _ in range(4):
            await pilot.press("s")
            seen.append(screen.sort_key)
            assert [r.pk for r in ql.rows] == [r.pk for r in sort_rows(screen.all_rows, screen.sort_key)]
        assert seen == ["urgency", "arrival", "client", "due"]
        await pilot.press("s")
        urg = [r.urgency for r in ql.rows]
        assert urg[: urg.count("urgent")] == ["urgent"] * urg.count("urgent")

    run(app, body)


def test_saved_views_from_config(make_app: Any) -> None:
    app = make_app(ui=UiConfig(bell=False, views={"8": "urgent"}))

    async def body(pilot: Any) -> None:
        screen = app.queue_screen
        ql = screen.queue_list
        total = len(screen.all_rows)
        await pilot.press("2")
        assert screen.view == "urgent" and ql.rows and all(r.urgent for r in ql.rows)
        await pilot.press("3")
        assert screen.view == "breached" and len(ql.rows) == 2
        await pilot.press("4")
        assert screen.view == "warning" and len(ql.rows) == 3
        await pilot.press("5")
        assert [r.case_id for r in ql.rows] == ["SHR-26-1052"]
        await pilot.press("6")
        assert ql.rows and all(r.updated for r in ql.rows)
        await pilot.press("7")
        assert ql.rows and all(r.problems for r in ql.rows)
        await pilot.press("8")
        assert screen.view == "urgent"
        await pilot.press("1")
        assert screen.view == "all" and len(ql.rows) == total

    run(app, body)


def test_help_lists_keys_as_bound_including_rebinds(make_app: Any) -> None:
    from uq.tui.screens.help import HelpScreen, bound_keys

    app = make_app(ui=UiConfig(bell=False, keymap={"approve": "A", "sort": "S"}))

    async def body(pilot: Any) -> None:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        found = bound_keys(app.queue_screen)
        rows = {label: keys for keys, label, _name in found}
        names = {label: name for _keys, label, name in found}
        assert names["Approve"] == "approve" and names["Redraw screen"] == "redraw"
        assert "Focus Next" not in rows and "Copy selected text" not in rows  # framework internals
        assert rows["Approve"] == "A"
        assert rows["Sort"] == "S"
        assert rows["Down"] == "j, ↓"
        assert rows["Help"] == "?"
        assert "q" in rows["Back / Quit"].split(", ")  # with Textual's own ctrl+q
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.queue_screen)
        # the rebound keys work, the old ones no longer do
        await pilot.press("S")
        assert app.queue_screen.sort_key == "urgency"
        await pilot.press("s")
        assert app.queue_screen.sort_key == "urgency"

    run(app, body)


def test_palette_runs_actions_and_finds_cases(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"View: breached")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.queue_screen.view == "breached")
        await pilot.press("1")
        from uq.tui.screens.case import CaseScreen

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"SHR-26-1052")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen))
        pk = next(r.pk for r in app.queue_screen.all_rows if r.case_id == "SHR-26-1052")
        assert app.screen.case_pk == pk  # type: ignore[attr-defined]

    run(app, body)


def test_decision_keys_push_the_modals_for_the_highlighted_case(make_app: Any) -> None:
    from uq.tui.screens.decide import CallModal, DecisionModal

    app = make_app()

    async def body(pilot: Any) -> None:
        from uq.services import review

        ql = app.queue_screen.queue_list
        await pilot.press("j")
        pk = ql.current_pk
        assert pk is not None and app.ctx is not None
        # a case never opened cannot be decided from the list: a clear notice, no modal left
        await pilot.press("d")
        await wait_for(pilot, lambda: any("was never opened" in n.message for n in app._notifications))
        await wait_for(pilot, lambda: app.screen is app.queue_screen)
        assert app.ctx.store.decisions(pk) == []
        review.open_case(app.ctx, pk)
        for key, outcome in (
            ("a", Outcome.APPROVE),
            ("d", Outcome.DENY),
            ("p", Outcome.PARTIAL),
            ("c", Outcome.CALL_NEEDED),
            ("i", Outcome.PEND),
            ("x", Outcome.DECLINE),
            ("X", Outcome.DECLINE),
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal))
            assert (app.screen.case_pk, app.screen.outcome) == (pk, outcome)  # type: ignore[attr-defined]
            await pilot.pause(0.3)
            assert isinstance(app.screen, DecisionModal), "an opened case keeps its modal"
            if key == "X":
                assert app.screen.query_one("#reason").value == "outside_specialty"
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.queue_screen)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, CallModal))
        assert app.screen.case_pk == pk  # type: ignore[attr-defined]

    run(app, body)


def test_after_a_decision_the_cursor_moves_to_the_next_case_and_u_undoes(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        screen = app.queue_screen
        ql = screen.queue_list
        await pilot.press("j")
        decided = ql.current_pk
        following = ql.rows[2].pk
        assert decided is not None and app.ctx is not None
        approve_outside(app, decided)
        await wait_for(pilot, lambda: decided not in [r.pk for r in ql.rows])
        assert ql.current_pk == following
        # `u` reaches the held reply although the case has left the list
        await pilot.press("u")
        await wait_for(pilot, lambda: decided in [r.pk for r in ql.rows])
        assert ql.current_pk == decided
        items = [o for o in app.ctx.store.outbox() if o.case_pk == decided]
        assert [o.state for o in items] == [OutboxState.UNDONE]

    run(app, body)


def test_u_undoes_the_last_decided_case_not_the_highlighted_row(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        assert app.ctx is not None
        ql = app.queue_screen.queue_list
        (demo_held,) = app.ctx.store.outbox(states=[OutboxState.HELD])  # the demo's call-needed reply
        decided = ql.current_pk
        assert decided is not None and decided != demo_held.case_pk
        approve_outside(app, decided)
        await wait_for(pilot, lambda: decided not in [r.pk for r in ql.rows])
        while ql.current_pk != demo_held.case_pk:  # rest the cursor on the other held case
            await pilot.press("j")
        await pilot.press("u")
        await wait_for(pilot, lambda: decided in [r.pk for r in ql.rows])
        states = {o.case_pk: o.state for o in app.ctx.store.outbox()}
        assert states[decided] is OutboxState.UNDONE and states[demo_held.case_pk] is OutboxState.HELD
        case = app.ctx.store.case(decided)
        assert case is not None
        assert any(f"Undone: approve on {case.case_id}" in str(n.message) for n in app._notifications)

    run(app, body)


def test_status_line_counts_down_the_soonest_held_reply(make_app: Any, fixed_clock: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        assert app.ctx is not None
        screen = app.queue_screen
        (demo_held,) = app.ctx.store.outbox(states=[OutboxState.HELD])
        demo_case = app.ctx.store.case(demo_held.case_pk)
        assert demo_case is not None
        left = round((demo_held.not_before - fixed_clock()).total_seconds())
        status = lambda: screen.status.render_info().plain  # noqa: E731
        await wait_for(pilot, lambda: f"{demo_case.case_id} call needed · {left} s u" in status())
        fixed_clock.advance(seconds=5)  # well inside the idle lock
        await wait_for(pilot, lambda: f"{demo_case.case_id} call needed · {left - 5} s u" in status())
        decided = screen.queue_list.current_pk
        assert decided is not None
        approve_outside(app, decided)  # the soonest still leads, the new one is "+1"
        await wait_for(pilot, lambda: f"{demo_case.case_id} call needed · {left - 5} s u +1" in status())
        fixed_clock.advance(seconds=left - 4)  # the demo hold ran out: the new reply leads
        (new,) = [o for o in app.ctx.store.outbox(states=[OutboxState.HELD]) if o.case_pk == decided]
        rest = round((new.not_before - fixed_clock()).total_seconds())
        case = app.ctx.store.case(decided)
        assert case is not None and rest > 0
        leads = f"{case.case_id} approve · {rest} s u"
        await wait_for(pilot, lambda: status().count(" s u") == 1 and leads in status())
        fixed_clock.advance(seconds=rest)
        await wait_for(pilot, lambda: " s u" not in status())

    run(app, body)


def test_hold_text_is_sanitised_and_names_the_soonest() -> None:
    from datetime import UTC, datetime, timedelta

    from uq.tui.widgets.status_bar import Hold, hold_text

    now = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)
    holds = (
        Hold("NS-2\x1b[31m", "deny", now + timedelta(seconds=9.2)),
        Hold("NS-1", "approve", now + timedelta(seconds=30)),
        Hold("NS-0", "approve", now - timedelta(seconds=1)),  # already gone
    )
    text = hold_text(holds, now)
    assert text.startswith("NS-2") and text.endswith("deny · 10 s u +1")
    assert "\x1b" not in text
    assert hold_text(holds, now + timedelta(seconds=31)) == ""


def test_undo_with_nothing_held_says_so(make_app: Any) -> None:
    app = make_app()

    async def body(pilot: Any) -> None:
        assert app.ctx is not None
        # the demo's call-needed reply is held: undo it first, then there is nothing left
        await pilot.press("u")
        await wait_for(pilot, lambda: not app.ctx.store.outbox(states=[OutboxState.HELD]))  # type: ignore[union-attr]
        await pilot.press("u")
        await wait_for(pilot, lambda: any("nothing to undo" in str(n.message) for n in app._notifications))

    run(app, body)


def test_q_quits_once_no_reply_waits(make_app: Any, fixed_clock: Any) -> None:
    from uq.services import outbox

    app = make_app()

    async def body(pilot: Any) -> None:
        assert app.ctx is not None
        fixed_clock.advance(seconds=120)  # past the demo reply's hold, before the idle lock
        await wait_for(pilot, lambda: not outbox.pending_replies(app.ctx))
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)

    run(app, body)


def test_q_on_a_case_goes_back_and_ctrl_l_redraws(make_app: Any) -> None:
    from uq.tui.screens.case import CaseScreen

    app = make_app()

    async def body(pilot: Any) -> None:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen))
        await pilot.press("ctrl+l")  # a redraw, not the lock
        await pilot.pause()
        assert not app.locked and isinstance(app.screen, CaseScreen)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is app.queue_screen)
        assert app.is_running

    run(app, body)


@pytest.mark.parametrize(
    ("keymap", "needle"),
    [({"approve": "j"}, "key 'j' is bound twice"), ({"aprove": "A"}, "unknown action 'aprove'")],
)
def test_keymap_is_validated_before_start(keymap: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        UqApp(Config(ui=UiConfig(keymap=keymap)), opener=lambda: None)  # type: ignore[arg-type,return-value]


def test_unknown_view_and_theme_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown view 'urgnet'"):
        UqApp(Config(ui=UiConfig(views={"2": "urgnet"})), opener=lambda: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigError, match="unknown theme 'nope'"):
        UqApp(Config(ui=UiConfig(theme="nope")), opener=lambda: None)  # type: ignore[arg-type,return-value]


def test_a_pended_row_still_counts_down_and_breaches() -> None:
    """The reviewer's turnaround never pauses: a pend (information requested) shows as P
    (T when the policy tolls its regulatory clock) and its row keeps its countdown."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from uq.domain import SlaState
    from uq.store.rows import QueueRow
    from uq.tui.rows import from_queue_row

    now = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)
    pended = QueueRow(
        1,
        "P-1",
        "pended",
        now - timedelta(hours=1),
        now - timedelta(hours=3),
        "reviewer",
        "standard",
        "prospective",
        "Plan",
        "svc",
        "deny",
        "A B",
        0,
        False,
        now,
        "n@x",
    )
    row = from_queue_row(pended, warning_fraction=0.25, warning_minutes=30)
    assert row.state(now, 0.25, 30) == (-3600, SlaState.BREACHED)
    assert row.flags == "  P"
    tolled = from_queue_row(replace(pended, regulatory_paused=True), warning_fraction=0.25, warning_minutes=30)
    assert tolled.flags == "  T"  # the regulatory clock is paused: marked, the row's countdown runs on
    assert tolled.state(now, 0.25, 30) == (-3600, SlaState.BREACHED)
