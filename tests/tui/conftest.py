"""TUI test helpers: the App on the bundled demo cases in a tmp SQLite file, a fixed clock,
and waits that poll the real app state instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from uq.config import Config, SecurityConfig, UiConfig
from uq.queue.clock import FixedClock
from uq.tui.app import Opened, UqApp

AppFactory = Callable[..., UqApp]


def demo_opener(cfg: Config, clock: FixedClock, root: Path) -> Callable[[], Opened]:
    def open_() -> Opened:
        from uq.services.context import Context
        from uq.services.demo import demo_config, load_demo
        from uq.services.outbox import file_transport

        ctx = Context.open(demo_config(cfg, root), clock=clock)
        folder = load_demo(ctx)
        return Opened(ctx=ctx, send=True, transport=file_transport(folder),
                      notice="demo: replies → replies/", replies=folder, cleanup=[ctx.close])

    return open_


@pytest.fixture
def make_app(tmp_path: Path, fixed_clock: FixedClock, uq_home: Any) -> AppFactory:
    """make_app(ui=UiConfig(...), security=SecurityConfig(...), hooks=...) → a demo UqApp."""

    def factory(**sections: Any) -> UqApp:
        base = Config(ui=UiConfig(bell=False), security=SecurityConfig(lock_after_minutes=10))
        cfg = replace(base, **sections)
        return UqApp(cfg, opener=demo_opener(cfg, fixed_clock, tmp_path), clock=fixed_clock, demo=True)

    return factory


async def wait_for(pilot: Pilot[Any], pred: Callable[[], object], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, UqApp)
    await wait_for(pilot, lambda: app.ctx is not None and app.queue_screen.loaded)
    await pilot.pause()
