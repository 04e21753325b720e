"""The audit hash chain stays one chain under concurrent writers and catches tampering."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from uq.config import parse_config
from uq.queue.clock import FixedClock
from uq.services import audit
from uq.services.context import Context

NY = ZoneInfo("America/New_York")


def _ctx(url: str) -> Context:
    clock = FixedClock(datetime(2026, 11, 29, 8, 0, tzinfo=NY))  # aware, deliberately not UTC
    return Context.open(parse_config({}), clock=clock, url=url)


def _hammer(ctx: Context, n_threads: int = 4, per_thread: int = 25) -> None:
    start = threading.Barrier(n_threads)

    def work(i: int) -> None:
        start.wait()
        for k in range(per_thread):
            with ctx.store.tx() as tx:
                tx.audit(at=ctx.clock(), actor=f"t{i}", action="opened", detail=f"{k}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_writers_keep_one_chain(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    ctx = _ctx(url)
    _hammer(ctx)
    ok, text = audit.verify(ctx)
    assert ok, text
    assert len(ctx.store.audit_entries()) == 100
    head = ctx.store.audit_head()
    assert head is not None and head.count == 100


def test_deleting_the_newest_entries_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "uq.sqlite3"
    ctx = _ctx(f"sqlite:///{db}")
    for k in range(3):
        with ctx.store.tx() as tx:
            tx.audit(at=ctx.clock(), actor="u", action="opened", detail=str(k))
    assert audit.verify(ctx)[0]
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)")
    ok, text = audit.verify(ctx)
    assert not ok and "3 entries recorded, 2 present" in text
