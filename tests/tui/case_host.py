"""A minimal host App for the case screen and the decision modals.

It offers what those screens use from the real App (ctx, config, clock, demo,
report_error) and records the messages they post, so the tests drive the screens
through the pilot without the queue screen or background workers in the way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from tests.fixtures.env import UqHome
from uq.config import Config
from uq.queue.clock import FixedClock
from uq.services.context import Context
from uq.services.demo import demo_config, load_demo
from uq.tui.messages import CaseChanged, QueueChanged
from uq.tui.screens.case import CaseScreen


class Host(App[None]):
    def __init__(self, ctx: Context, clock: FixedClock, *, open_pk: int | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.config = ctx.config
        self.clock = clock
        self.demo = True
        self.open_pk = open_pk
        self.errors: list[BaseException] = []
        self.changed: list[int] = []
        self.queue_changes = 0

    def compose(self) -> ComposeResult:
        yield Static("host queue", id="host")

    def on_mount(self) -> None:
        if self.open_pk is not None:
            self.push_screen(CaseScreen(self.open_pk))

    def report_error(self, exc: BaseException) -> None:
        self.errors.append(exc)
        self.notify(str(exc), severity="error")

    def on_case_changed(self, message: CaseChanged) -> None:
        self.changed.append(message.case_pk)

    def on_queue_changed(self, _message: QueueChanged) -> None:
        self.queue_changes += 1


async def settle(pilot: Pilot[None], rounds: int = 4) -> None:
    """Let thread workers finish and their call_from_thread callbacks run."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_modal(pilot: Pilot[None], key: str) -> Screen[object]:
    """Press a decision/call key once the case has settled, and return the modal it opens."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    return pilot.app.screen


def pk_of(ctx: Context, case_id: str) -> int:
    return ctx.store.find_cases(case_id)[0].id


def open_demo(tmp_path: Path, clock: FixedClock, base: Config | None = None) -> Context:
    ctx = Context.open(demo_config(base or Config(), tmp_path / "demo"), clock=clock)
    load_demo(ctx)
    return ctx


@pytest.fixture(name="demo_ctx")
def demo_ctx_fixture(uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock) -> Iterator[Context]:
    (tmp_path / "demo").mkdir()
    ctx = open_demo(tmp_path, fixed_clock)
    yield ctx
    ctx.close()


def sync(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async pilot test on its own event loop (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]

    return run
