"""One syncer per mailbox (issues 10 and 14): concurrent `uq sync --once` runs and
watchers on one real Dovecot mailbox and one store (SQLite file or PostgreSQL) store every
case once and never fail; the lease row decides who syncs, the others follow."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.fixtures.dovecot import Dovecot, wait_until
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from uq.config import Config, load_config
from uq.errors import ConflictError
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services import sync
from uq.services.context import Context
from uq.store.convert import NewRaw
from uq.store.repo import Store

N = 500
_T0 = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp_path / 'uq.sqlite3'}" if backend == "sqlite" else str(request.getfixturevalue("pg_url"))


def _uq(cfg: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "uq.cli", "--config", str(cfg), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _counts(url: str) -> tuple[int, int, int]:
    store = Store.open(url)
    try:
        with store.read() as s:
            raws = s.execute(text("select count(*) from raw_message")).scalar_one()
            cases = s.execute(text("select count(*) from case_row")).scalar_one()
            ids = s.execute(text("select count(distinct case_id) from case_row")).scalar_one()
        return int(raws), int(cases), int(ids)
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_four_once_runs_and_two_watchers_store_every_case_once(
    backend: str, dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    dovecot_fn.append([case_email(n) for n in range(1, N + 1)])
    cfg = write_config(tmp_path, dovecot=dovecot_fn, db_url=url, imap={"batch_size": 50})
    env = uq_home.env()
    Store.open(url).close()  # the schema exists before the race (concurrent first opens are issue 14's)
    watchers = [_uq(cfg, env, "sync") for _ in range(2)]
    onces = [_uq(cfg, env, "sync", "--once") for _ in range(4)]
    try:
        outs = [p.communicate(timeout=120) for p in onces]
        for p, (out, err) in zip(onces, outs, strict=True):
            assert p.returncode == 0, err
            assert "Traceback" not in err and "Error" not in err, err
            assert out.startswith(("ingested", "another uq process")), out
        assert wait_until(lambda: _counts(url)[0] == N, timeout=60), _counts(url)
    finally:
        for w in watchers:
            w.send_signal(signal.SIGINT)
        wout = [w.communicate(timeout=90) for w in watchers]  # a loaded machine: IDLE ends at the socket timeout
    for w, (_, err) in zip(watchers, wout, strict=True):
        assert w.returncode == 0, err
        assert "Traceback" not in err and "Integrity" not in err and "fault" not in err, err[-6000:]
    assert _counts(url) == (N, N, N)
    # the watcher that did not sync followed the one that did, and said so
    assert any("following" in err for _, err in wout) or any("another uq process" in o for o, _ in outs)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_syncers_in_one_process_store_every_case_once(
    backend: str, dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    dovecot_fn.append([case_email(n) for n in range(1, 121)])
    cfg = load_config(write_config(tmp_path, dovecot=dovecot_fn, db_url=url, imap={"batch_size": 20}))
    ctxs = [Context.open(cfg), Context.open(cfg)]
    start = threading.Barrier(2)
    results: list[object] = []

    def run(ctx: Context) -> None:
        start.wait()
        try:
            results.append(sync.sync_once(ctx))
        except Exception as exc:  # recorded: the assertion below names it
            results.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in ctxs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, sync.SyncSummary) for r in results), results
    summaries = [r for r in results if isinstance(r, sync.SyncSummary)]
    assert sum(s.ingested for s in summaries) == 120 and sum(s.duplicates for s in summaries) == 0
    # once the mailbox is free again, a later pass takes the lease and finds nothing new
    again = sync.sync_once(ctxs[0])
    assert again.followed is None and again.total == 0
    assert _counts(url) == (120, 120, 120)
    for c in ctxs:
        c.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_lease_is_taken_renewed_fenced_released_and_expires(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    store = Store.open(url)
    clock = FixedClock(_T0)
    ctx = Context(config=Config(), store=store, clock=clock)
    one, two = sync.SyncLease(ctx, "INBOX"), sync.SyncLease(ctx, "INBOX")
    assert one.take() is None
    assert two.take() == one.holder  # held: the second follows
    assert one.renew() and not two.renew()
    with pytest.raises(sync.LeaseLost), store.tx() as tx:
        two.fence(tx)
    one.release()
    assert two.take() is None and one.take() == two.holder
    clock.advance(seconds=sync.LEASE_SECONDS + 1)  # the holder died: its lease runs out
    assert one.take() is None
    assert not two.renew()
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_unique_violation_is_a_conflict_not_an_internal_error(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = Store.open(_url(backend, tmp_path, request))
    raw = NewRaw("INBOX", 1, 7, None, b"x", "not_case", None, "a@b.example", "s", None, "h", _T0)
    with store.tx() as tx:
        tx.add_raws([raw])
    with pytest.raises(ConflictError, match="database conflict"), store.tx() as tx:
        tx.add_raws([raw])
    store.close()


def test_a_watcher_follows_the_holder_then_takes_over(dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    cfg = load_config(write_config(tmp_path, dovecot=dovecot_fn, db_url=url))
    holder_ctx, watcher_ctx = Context.open(cfg), Context.open(cfg)
    holder = sync.SyncLease(holder_ctx, cfg.imap.folder)
    assert holder.take() is None
    states: list[tuple[str, str]] = []
    batches: list[sync.SyncSummary] = []
    stop = threading.Event()
    t = threading.Thread(
        target=sync.watch,
        args=(watcher_ctx, stop),
        kwargs={"on_batch": batches.append, "on_state": lambda s, d: states.append((s, d)), "follow_seconds": 0.1},
    )
    t.start()
    try:
        assert wait_until(lambda: any(s == "following" for s, _ in states), timeout=10), states
        assert holder.holder in dict(states)["following"]
        # what the holder stores reaches the follower as batches (new and urgent case pks)
        msgs = [FetchedMessage(n, _T0, case_email(n), ()) for n in (1, 2)]
        stored, _ = sync.store_batch(holder_ctx, cfg.imap.folder, 1, msgs, sync.parse_many(
            [m.raw for m in msgs], holder_ctx.tz, cfg.parse, now=_T0), lease=holder)
        assert wait_until(lambda: sum(b.ingested for b in batches) == 2, timeout=10), batches
        assert sorted(pk for b in batches for pk in b.new_case_pks) == sorted(stored.new_case_pks)
        assert "connecting" not in [s for s, _ in states]  # never touched the mailbox meanwhile
        holder.release()  # the holder quits: the follower syncs the mailbox itself
        dovecot_fn.append(case_email(3))
        assert wait_until(lambda: any(s == "live" for s, _ in states), timeout=15), states
        assert wait_until(lambda: _counts(url)[1] == 3, timeout=15), _counts(url)
        assert holder.take() is not None  # now the former holder would follow
    finally:
        stop.set()
        t.join(20)
    assert not t.is_alive()
    for c in (holder_ctx, watcher_ctx):
        c.close()
