"""Team mode in the TUI: opening a case claims it (renewed while open, given back on
leaving); a case another reviewer holds opens read-only, saying who and until when; the
queue shows a holder column."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.tui.case_host import sync
from tests.tui.conftest import loaded, wait_for
from uq.config import TeamConfig, parse_config
from uq.queue.clock import FixedClock
from uq.services import team
from uq.services.context import Context
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.decide import DecisionModal


async def _wait(pilot: Any, pred: Any) -> None:
    """Generous: these steps cross worker threads and a store, and CI shares two cores."""
    await wait_for(pilot, pred, timeout=30)


def _line(app: Any, pk: int) -> str:
    qlist = app.queue_screen.queue_list
    index = [r.pk for r in qlist.rows].index(pk)
    qlist.scroll_to(y=index, animate=False, immediate=True)
    strip = qlist.render_line(index - round(qlist.scroll_offset.y))
    return "".join(seg.text for seg in strip)


def _bob(app: Any, clock: FixedClock) -> Context:
    cfg = parse_config({"reviewer": {"email": "bob@example.org", "user": "bob"}})
    return Context.open(cfg, clock=clock, url=app.ctx.store.engine.url.render_as_string(hide_password=False))


@sync
async def test_opening_a_case_claims_it_renews_it_and_leaving_gives_it_back(
    make_app: Any, fixed_clock: FixedClock
) -> None:
    app = make_app(team=TeamConfig(mode="on"))
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        assert "HELD BY" in str(app.queue_screen.query_one("#queue-header").render())
        pk = app.queue_screen.queue_list.rows[0].pk
        app.queue_screen.queue_list.select_pk(pk)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.hold is not None)
        screen = app.screen
        assert screen.hold.mine and not screen.read_only
        case = app.ctx.store.case(pk)
        assert case.holder(fixed_clock()) == "demo" and case.claim_until == fixed_clock() + timedelta(minutes=30)
        await _wait(pilot, lambda: "yours until" in str(screen.query_one("#headline").render()))
        await _wait(pilot, lambda: " demo " in _line(app, pk))  # the queue behind shows the holder
        fixed_clock.advance(minutes=20)
        screen._renew()  # what the interval timer does every lease/3
        await _wait(pilot, lambda: app.ctx.store.case(pk).claim_until == fixed_clock() + timedelta(minutes=30))
        await pilot.press("escape")
        await _wait(pilot, lambda: app.ctx.store.case(pk).claimed_by is None)
        await _wait(pilot, lambda: " demo " not in _line(app, pk))


@sync
async def test_a_case_someone_else_holds_opens_read_only(make_app: Any, fixed_clock: FixedClock) -> None:
    app = make_app(team=TeamConfig(mode="on"))
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        pk = app.queue_screen.queue_list.rows[1].pk
        bob = _bob(app, fixed_clock)
        team.claim_case(bob, pk)
        app.queue_screen.reload()
        await _wait(pilot, lambda: " bob " in _line(app, pk))
        app.queue_screen.queue_list.select_pk(pk)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.hold is not None)
        screen = app.screen
        assert screen.read_only and screen.hold.holder == "bob"
        await _wait(pilot, lambda: "READ-ONLY: held by bob until " in str(screen.query_one("#headline").render()))
        await pilot.press("a")  # approve is refused: no decision modal
        await pilot.pause(0.2)
        assert not isinstance(app.screen, DecisionModal)
        await pilot.press("escape")
        await _wait(pilot, lambda: not isinstance(app.screen, CaseScreen))
        assert app.ctx.store.case(pk).holder(fixed_clock()) == "bob", "leaving never releases another's claim"
        bob.close()


@sync
async def test_no_holder_column_or_claims_outside_team_mode(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        assert "HELD BY" not in str(app.queue_screen.query_one("#queue-header").render())
        pk = app.queue_screen.queue_list.rows[0].pk
        app.queue_screen.queue_list.select_pk(pk)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.data is not None)
        assert app.screen.hold is None and app.ctx.store.case(pk).claimed_by is None


@sync
async def test_a_lease_lost_while_open_turns_the_case_read_only(make_app: Any, fixed_clock: FixedClock) -> None:
    """The laptop slept past the lease and bob took the case: the next renewal says so."""
    app = make_app(team=TeamConfig(mode="on"))
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        pk = app.queue_screen.queue_list.rows[0].pk
        app.queue_screen.queue_list.select_pk(pk)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.hold is not None)
        screen = app.screen
        assert screen.hold.mine
        fixed_clock.advance(minutes=31)
        bob = _bob(app, fixed_clock)
        assert team.claim_case(bob, pk).holder(fixed_clock()) == "bob"
        screen._renew()
        await _wait(pilot, lambda: screen.read_only)
        assert screen.hold.holder == "bob"
        await _wait(pilot, lambda: "READ-ONLY: held by bob" in str(screen.query_one("#headline").render()))
        await pilot.press("escape")
        await _wait(pilot, lambda: not isinstance(app.screen, CaseScreen))
        assert app.ctx.store.case(pk).holder(fixed_clock()) == "bob"
        bob.close()
