"""Time on case counts only while the case (or a decision on it) is in front and the
reviewer is not idle by the lock's rule; `uq report` uses it instead of wall time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tests.tui.conftest import loaded, wait_for
from uq.config import SecurityConfig
from uq.queue.active import ActiveTime
from uq.queue.clock import FixedClock
from uq.services.report import build_report
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.decide import DecisionModal
from uq.tui.screens.lock import LockScreen


def test_a_scripted_review_counts_its_two_minutes_not_the_idle_half_hour(
    make_app: Any, fixed_clock: FixedClock
) -> None:
    app = make_app(security=SecurityConfig(lock_after_minutes=10))
    found: dict[str, Any] = {}

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen))
            pk = app.screen.case_pk
            app.check_lock()
            for _ in range(4):  # two minutes of reading, scrolling now and then
                fixed_clock.advance(seconds=30)
                await pilot.press("j")
            fixed_clock.advance(minutes=30)  # away: the lock comes down after 10 of them
            app.check_lock()
            assert isinstance(app.screen, LockScreen)
            await pilot.press("space")
            await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen))
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal))
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")  # shows the reply
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal) and app.screen.armed)
            await pilot.press("ctrl+s")  # queues it
            assert app.ctx is not None
            ctx = app.ctx
            await wait_for(pilot, lambda: app.front_case() is None)  # back on the queue
            await wait_for(pilot, lambda: (ctx.store.case(pk) or found).active_seconds >= 120)  # type: ignore[union-attr]
            case = ctx.store.case(pk)
            assert case is not None
            found["active"] = case.active_seconds
            rows = [r for r in build_report(ctx, None, None).rows if r.case_key == str(pk)]
            found["minutes"] = rows[0].minutes_spent
            [decision] = ctx.store.decisions(pk)
            found["at_decision"] = decision.seconds_spent

    asyncio.run(main())
    assert found["active"] == 120, found  # 32 minutes of wall time, two of them on the case
    assert found["minutes"] == 2.0
    assert found["at_decision"] == 120  # what the decision saw, not the time since opening


def test_gaps_count_whole_below_the_idle_limit_and_not_at_all_above_it() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    at = ActiveTime(idle=timedelta(minutes=10))
    at.activity(7, t0)
    at.activity(7, t0 + timedelta(minutes=9))  # read for 9 minutes without a key: counted
    at.activity(7, t0 + timedelta(minutes=25))  # 16 minutes without a sign of life: nothing
    at.show(None, t0 + timedelta(minutes=26))  # back to the queue: the last minute counts
    at.activity(None, t0 + timedelta(minutes=40))  # time on the queue belongs to no case
    at.activity(8, t0 + timedelta(minutes=41))
    at.show(None, t0 + timedelta(minutes=41, seconds=30))
    assert at.take() == {7: 600, 8: 30}
    assert at.take() == {}
