"""Screenshots (fixed clock, demo cases) of the queue, the help screen and the lock screen.
Update after an intended change with `pytest tests/tui/test_snapshots_core.py --snapshot-update`."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import loaded

SIZE = (120, 40)


def test_queue_snapshot(make_app: Any, snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("j", "j")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_queue_filtered_urgent_view_snapshot(make_app: Any, snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("2", "s")
        await pilot.pause(2.5)  # let the "sorted by" toast go

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_help_snapshot(make_app: Any, snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_lock_snapshot(make_app: Any, snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("L")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)
