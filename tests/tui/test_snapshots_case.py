"""Screenshots (fixed clock) of the case screen, its raw view and every decision modal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tests.tui.case_host import Host, demo_ctx_fixture, pk_of, settle  # noqa: F401
from uq.queue.clock import FixedClock
from uq.services.context import Context

SIZE = (120, 40)


def _keys(*keys: str) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_case_screen(snap_compare, demo_ctx: Context, fixed_clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "UM-2026-004512"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys())


def test_case_screen_pdf_packet_scrolled(snap_compare, demo_ctx: Context, fixed_clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "ACR-77310"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("G"))


def test_case_screen_raw(snap_compare, demo_ctx: Context, fixed_clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "UM-2026-004512"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("r"))


@pytest.mark.parametrize("key", ["a", "d", "p", "c", "i", "x", "l"])
def test_decision_modal(snap_compare, demo_ctx: Context, fixed_clock: FixedClock, key: str) -> None:  # type: ignore[no-untyped-def]
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "UM-2026-004512"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys(key))


def test_deny_refused_shows_the_error(snap_compare, demo_ctx: Context, fixed_clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app = Host(demo_ctx, fixed_clock, open_pk=pk_of(demo_ctx, "UM-2026-004512"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("d", "ctrl+s"))
