"""The TUI in-process under Textual's headless pilot: new mail → row on screen, event-loop
lag during ticks and a filter keystroke at 100k cases; and the decision service call."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import percentile
from bench.gen import make_email
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config

SIZE = (120, 40)


def _app(cfg_path: Path) -> Any:
    from uq.config import load_config
    from uq.tui.launch import build_app

    app, _ = build_app(load_config(cfg_path), demo=False)
    return app


async def _until(pred: Any, timeout: float, step: float = 0.005) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if pred():
            return True
        await asyncio.sleep(step)
    return False


def new_mail_to_screen(dv: Dovecot, root: Path, db: Path, mails: int = 20) -> dict[str, Any]:
    cfg = write_config(root, dovecot=dv, db_url=f"sqlite:///{db}", path=root / "config.toml")
    app = _app(cfg)
    lat: list[float] = []

    async def go() -> None:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            if not await _until(lambda: getattr(screen, "_sync_state", "") == "live", 30):
                raise RuntimeError(f"sync never went live: {getattr(screen, '_sync_state', '?')}")
            await pilot.pause(0.5)
            now = datetime.now(UTC)
            for i in range(mails):
                raw, _ = make_email(900_000 + i, now)
                case_id = f"UM-2026-{900_000 + i:06d}"
                ql = screen.queue_list
                t0 = time.perf_counter()
                await asyncio.to_thread(dv.append, raw)
                ok = await _until(lambda cid=case_id, lst=ql: any(r.case_id == cid for r in lst.rows), 15)
                if not ok:
                    raise RuntimeError(f"{case_id} never reached the queue")
                await pilot.pause()  # the repaint the new rows asked for
                lat.append(time.perf_counter() - t0)
                await asyncio.sleep(0.2)

    asyncio.run(go())
    return {"p50_s": round(percentile(lat, 50), 3), "p95_s": round(percentile(lat, 95), 3),
            "min_s": round(min(lat), 3), "max_s": round(max(lat), 3), "n": len(lat)}


def lag_and_filter(root: Path, db: Path, n_cases: int, lag_seconds: float = 8.0) -> dict[str, Any]:
    cfg = write_config(root, db_url=f"sqlite:///{db}", path=root / "config.toml")
    app = _app(cfg)
    out: dict[str, Any] = {}

    async def go() -> None:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            t0 = time.perf_counter()
            if not await _until(lambda: len(screen.queue_list.rows) >= n_cases, 180, 0.02):
                raise RuntimeError(f"queue never loaded {n_cases} rows")
            out["load_s"] = round(time.perf_counter() - t0, 3)
            await pilot.pause(0.5)
            # event-loop lag: a 10 ms sleeper, while the list ticks every second (the
            # cadence near a deadline) on top of the screen's own timer
            ql = screen.queue_list
            ticker = app.set_interval(1.0, ql.tick)
            lags: list[float] = []
            end = time.perf_counter() + lag_seconds
            while time.perf_counter() < end:
                a = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append((time.perf_counter() - a - 0.01) * 1000)
            ticker.stop()
            out["tick_lag_p99_ms"] = round(percentile(lags, 99), 2)
            out["tick_lag_p50_ms"] = round(percentile(lags, 50), 2)
            out["tick_lag_max_ms"] = round(max(lags), 2)
            # filter keystrokes: key press → list rebuilt and repainted
            await pilot.press("slash")
            await pilot.pause()
            # the pilot's own round trip (~100 ms of waits) is not the app's: time from
            # the key press to the end of the screen's filter pass instead
            applied: list[float] = []
            real_apply = screen._apply

            def timed_apply(*args: Any, **kw: Any) -> None:
                real_apply(*args, **kw)
                applied.append(time.perf_counter())

            screen._apply = timed_apply
            times: list[float] = []
            for key in ["0", "0", "4", "backspace", "backspace", "backspace", "M", "backspace"]:
                applied.clear()
                a = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                if applied:
                    times.append((applied[-1] - a) * 1000)
            screen._apply = real_apply
            out["filter_keystrokes_ms"] = [round(t, 1) for t in times]

    asyncio.run(go())
    return out


RATIONALE = (
    "Imaging is not yet indicated: symptoms began three weeks ago, there are no red-flag "
    "findings, and six weeks of conservative therapy have not been completed."
)


def decide_calls(root: Path, db: Path, count: int = 15) -> list[float]:
    """services.review.decide: decision row + composed reply in the outbox, one commit."""
    from uq.config import load_config
    from uq.domain import Outcome
    from uq.services import review
    from uq.services.context import Context

    cfg = write_config(root, db_url=f"sqlite:///{db}", path=root / "config.toml")
    ctx = Context.open(load_config(cfg))
    pks = [r.id for r in ctx.store.queue_rows()][: count + 1]
    given = review.DecisionInput(
        rationale=RATIONALE, guideline="MCG A-0317", criteria=("Not met: six weeks of conservative therapy",)
    )
    for pk in pks:
        review.open_case(ctx, pk)  # deciding needs the case opened
    review.decide(ctx, pks[0], Outcome.DENY, given, force=True)
    times = []
    for pk in pks[1:]:
        a = time.perf_counter()
        review.decide(ctx, pk, Outcome.DENY, given, force=True)
        times.append((time.perf_counter() - a) * 1000)
    ctx.close()
    return times


_ = threading  # the pilot runs in this thread; appends go through asyncio.to_thread
