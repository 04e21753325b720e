"""Start-up: the queue's head is on the first frame, before the full store has opened."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from tests.fixtures.env import write_config
from tests.tui.conftest import demo_opener, wait_for
from uq.config import load_config
from uq.queue.clock import FixedClock
from uq.services.context import Context
from uq.services.demo import demo_config, load_demo
from uq.tui import launch
from uq.tui.app import Opened


def test_first_frame_shows_rows_while_the_store_still_opens(
    uq_home: Any, tmp_path: Path, fixed_clock: FixedClock
) -> None:
    db = tmp_path / "uq.sqlite3"
    seeded = Context.open(
        demo_config(load_config(write_config(tmp_path)), tmp_path), clock=fixed_clock, url=f"sqlite:///{db}"
    )
    load_demo(seeded)
    seeded.close()
    cfg = load_config(write_config(tmp_path, db_url=f"sqlite:///{db}", path=tmp_path / "run.toml"))
    app, _ = launch.build_app(cfg, demo=False, clock=fixed_clock)
    assert app.initial_rows is not None and len(app.initial_rows) == 15  # read before Textual ran
    release = threading.Event()
    real = demo_opener(cfg, fixed_clock, tmp_path)

    def slow_opener() -> Opened:
        release.wait(30)  # SQLAlchemy "still importing"
        return real()

    app._opener = slow_opener

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.1)
            screen = app.queue_screen
            assert app.ctx is None
            assert [r.case_id for r in screen.queue_list.rows][:1] == ["UM-2026-004512"]
            assert len(screen.queue_list.rows) == 15
            release.set()
            await wait_for(
                pilot, lambda: app.ctx is not None and "loading" not in str(screen.query_one("#queue-title").render())
            )

    asyncio.run(run())
