"""The case screen and a decision inside the real App on the demo cases: enter, decide,
and the queue's cursor lands on the next most urgent case."""

from __future__ import annotations

from typing import Any

from tests.tui.case_host import settle, sync
from tests.tui.conftest import loaded, wait_for
from uq.domain import OutboxState
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.decide import DecisionModal
from uq.tui.widgets.case_view import CaseView


@sync
async def test_enter_decide_and_move_on(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        qlist = app.queue_screen.queue_list
        order = [r.pk for r in qlist.rows]
        target, after = order[2], order[3]
        qlist.select_pk(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.data is not None)
        assert app.screen.case_pk == target
        assert " Clinical summary " in app.screen.query_one(CaseView).text
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal) and app.screen.brief is not None)
        await pilot.press("ctrl+s")  # shows the reply
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal) and app.screen.armed)
        await pilot.press("ctrl+s")  # queues it
        await wait_for(pilot, lambda: not isinstance(app.screen, DecisionModal | CaseScreen))
        await wait_for(pilot, lambda: target not in [r.pk for r in qlist.rows])
        await settle(pilot)
        assert qlist.current_pk == after
        ctx = app.ctx
        assert ctx is not None
        assert "opened" in [e.action for e in ctx.store.audit_entries(case_pk=target)]
        items = [o for o in ctx.store.outbox() if o.case_pk == target]
        assert [o.state for o in items] == [OutboxState.HELD]
