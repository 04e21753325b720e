"""A tolled row in the queue list shows both clocks: the reviewer's countdown in the DUE
cell, still running and breaching, and the paused regulatory clock's time left ("‖14d 21h")
at the head of the service cell, at 80 and at 120 columns (issue 13)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.tui.conftest import loaded
from uq.config import ClientPolicy, Config, SecurityConfig, SlaConfig, UiConfig
from uq.domain import Outcome, SlaState, Urgency
from uq.queue.clock import FixedClock
from uq.queue.countdown import countdown_text
from uq.services import queries, review
from uq.services.context import Context
from uq.services.demo import demo_config, load_demo
from uq.services.outbox import file_transport
from uq.store.rows import QueueRow
from uq.tui.app import Opened, UqApp
from uq.tui.rows import COUNTDOWN_WIDTH, cells, from_queue_row, service_width

NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)
ERISA = SlaConfig(client=[ClientPolicy(match="example health plan", standard="15d", toll_on_pend=True)])
SERVICE = "CPT 72148 MRI lumbar spine without contrast x1"


def _row(**changes: Any) -> QueueRow:
    """A pended ERISA pre-service case: its reviewer turnaround is due in 1 h 05 m."""
    row = QueueRow(
        1, "E-1", "pended", NOW + timedelta(hours=1, minutes=5), NOW - timedelta(hours=2), "reviewer",
        "standard", "prospective", "Example Health Plan", SERVICE, "deny", "Jane Q. Sample", 0, False,
        NOW - timedelta(hours=2), "n@x",
    )
    return replace(row, **changes)


# information requested 170 minutes into a 15-day clock: 14 d 21 h 10 m were left, frozen
TOLLED = {
    "regulatory_paused": True,
    "paused_due_at": NOW + timedelta(days=14, hours=21, minutes=10),
    "paused_since": NOW,
}


def test_a_tolled_row_shows_the_paused_regulatory_clock_beside_the_running_one() -> None:
    plain = from_queue_row(_row(), warning_fraction=0.25, warning_minutes=30)
    tolled = from_queue_row(_row(**TOLLED), warning_fraction=0.25, warning_minutes=30)
    assert tolled.paused_left == "14d 21h" and tolled.flags == "  T"
    assert plain.paused_left == "" and plain.flags == "  P"
    for width in (80, 120):
        service = service_width(width)
        line = cells(tolled, width)
        assert len(line) == len(cells(plain, width))  # columns keep their widths
        assert "‖14d 21h" in line
        assert cells(plain, width).count(SERVICE[: service - 1]) == 1  # untolled rows unchanged
    assert "‖14d 21h deny" in cells(tolled, 80)  # the narrowest service column: the mark whole
    assert "‖14d 21h CPT 72148 MRI" in cells(tolled, 120)  # then as much service as fits
    assert "|14d 21h" in cells(tolled, 120, ascii=True)
    # the reviewer's clock never pauses: it counts down and breaches as on any other row
    assert tolled.state(NOW, 0.25, 30) == (3900, SlaState.OK)
    assert tolled.state(NOW + timedelta(hours=2), 0.25, 30) == (-3300, SlaState.BREACHED)


def test_a_paused_flag_without_its_instants_draws_no_mark() -> None:
    """A row that says paused but comes without the toll's instants keeps its T flag and
    shows no time left rather than a guessed one."""
    row = from_queue_row(_row(regulatory_paused=True), warning_fraction=0.25, warning_minutes=30)
    assert row.flags == "  T" and row.paused_left == ""
    assert "‖" not in cells(row, 120)


def _due(line: str) -> list[str]:
    """The DUE cell's glyph and countdown, e.g. ["○", "1h 40m"]."""
    glyph, *countdown = line[:COUNTDOWN_WIDTH].split()
    return [glyph, " ".join(countdown)]


def _opener(cfg: Config, clock: FixedClock, root: Path, pended: list[int]) -> Callable[[], Opened]:
    """The demo with an ERISA-style policy on Example Health Plan and UM-2026-004533 pended."""

    def open_() -> Opened:
        ctx = Context.open(demo_config(cfg, root), clock=clock)
        ctx.config = replace(ctx.config, sla=ERISA)
        folder = load_demo(ctx)
        pk = ctx.store.find_cases("UM-2026-004533")[0].id
        review.set_facts(ctx, pk, urgency=Urgency.STANDARD)
        review.open_case(ctx, pk)  # deciding needs the case opened
        review.decide(ctx, pk, Outcome.PEND, review.DecisionInput(rationale="Please send the physical therapy notes."))
        pended.append(pk)
        return Opened(ctx=ctx, send=True, transport=file_transport(folder), notice="demo",
                      replies=folder, cleanup=[ctx.close])

    return open_


def test_the_queue_list_draws_both_clocks_of_a_pended_erisa_case(
    tmp_path: Path, fixed_clock: FixedClock, uq_home: Any
) -> None:
    cfg = Config(ui=UiConfig(bell=False), security=SecurityConfig(lock_after_minutes=0))
    for size in ((120, 30), (80, 30)):
        pended: list[int] = []
        root = tmp_path / f"w{size[0]}"
        clock = FixedClock(fixed_clock.now)
        app = UqApp(cfg, opener=_opener(cfg, clock, root, pended), clock=clock, demo=True)

        async def body(app: UqApp = app, clock: FixedClock = clock, pended: list[int] = pended,
                       width: int = size[0]) -> None:
            async with app.run_test(size=(width, 30)) as pilot:
                await loaded(pilot)
                ql = app.queue_screen.queue_list
                index = next(i for i, r in enumerate(ql.rows) if r.pk == pended[0])
                assert app.ctx is not None
                (d,) = [d for c, d in queries.queue(app.ctx) if c.id == pended[0]]
                assert d.regulatory_paused and d.binding.value == "reviewer"
                paused = "‖" + countdown_text(d.regulatory_seconds_left)  # what `uq queue --json` says
                line = ql.render_line(index).text
                assert len(line) == width
                assert _due(line) == ["○", countdown_text(d.seconds_left)] and paused in line, line
                others = [ql.render_line(i).text for i in range(len(ql.rows)) if i != index]
                assert not any("‖" in other for other in others)  # only the tolled row changes

                clock.advance(hours=2)  # past the reviewer's turnaround: it breaches, the toll holds
                ql.tick()
                (later,) = [d for c, d in queries.queue(app.ctx) if c.id == pended[0]]
                assert later.state is SlaState.BREACHED and later.regulatory_seconds_left == d.regulatory_seconds_left
                line = ql.render_line(index).text
                assert _due(line) == ["✖", countdown_text(later.seconds_left)] and paused in line, line
                assert later.seconds_left < 0

        asyncio.run(body())
