"""The store side of a FETCH batch, old vs new, side by side: parse aside, ms per message.

    .venv/bin/python bench/store_bench.py [--rounds N] [--base COMMIT] [--pg URL]

"old" is uq/store/repo.py, uq/services/deadlines.py and uq/services/sync.py as of --base
(loaded from git, per-message ORM path); "new" is the working tree's `sync.store_batch`.
Two scenarios per round, each into a fresh SQLite file: 500 new cases into an empty store,
then a second 500-message batch of 400 new cases, 50 re-sends with new Message-IDs
(duplicates) and 50 follow-ups (In-Reply-To) into a store that already holds the first.
Messages are parsed once, before any timing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gen import SENDERS, make_emails  # noqa: E402

BASE = "d975112"
NOW = datetime.now(UTC).replace(microsecond=0)


def _load_old(base: str) -> tuple[Any, Any]:
    """The old Store class and old sync module, compiled from git at `base`."""
    mods: dict[str, types.ModuleType] = {}
    for name, path in (
        ("uq_old_repo", "uq/store/repo.py"),
        ("uq_old_deadlines", "uq/services/deadlines.py"),
        ("uq_old_sync", "uq/services/sync.py"),
    ):
        src = subprocess.run(
            ["git", "show", f"{base}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        mod = types.ModuleType(name)
        mod.__file__ = f"<{base}:{path}>"
        sys.modules[name] = mod
        exec(compile(src, mod.__file__, "exec"), mod.__dict__)
        mods[name] = mod
    mods["uq_old_sync"].deadlines = mods["uq_old_deadlines"]
    return mods["uq_old_repo"].Store, mods["uq_old_sync"]


def _followup(n: int, parent_raw: bytes) -> bytes:
    """A reply to an earlier case email: same sender, In-Reply-To its Message-ID, new text."""
    head = parent_raw.split(b"\r\n\r\n", 1)[0].decode()
    hdr = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in head.split("\r\n"))}
    name, addr, _ = SENDERS[0]
    return (
        f"From: {hdr.get('from', f'{name} <{addr}>')}\r\nTo: dr.reviewer@example.org\r\n"
        f"Subject: Re: {hdr.get('subject', '')}\r\nDate: {NOW.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <followup-{n}@example-um.com>\r\nIn-Reply-To: {hdr['message-id']}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Urgency: Urgent\r\nClinical records attached for follow-up {n}.\r\n"
    ).encode()


def _resend(n: int, raw: bytes) -> bytes:
    """The same email sent again with a new Message-ID (caught by the content hash)."""
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"message-id:")]
    return b"\r\n".join([*lines, f"Message-ID: <resend-{n}@example-um.com>".encode()]) + b"\r\n\r\n" + body


def _batches() -> tuple[list[Any], list[Any]]:
    from uq.config import Config
    from uq.mail.imap import FetchedMessage
    from uq.mail.parse import parse_email

    cfg = Config()
    first = make_emails(500, now=NOW)
    fresh = make_emails(400, start=500, now=NOW)
    second = fresh + [_resend(i, first[i * 7]) for i in range(50)] + [_followup(i, first[i * 9 + 1]) for i in range(50)]
    out = []
    for uid0, raws in ((1, first), (501, second)):
        msgs = [FetchedMessage(uid0 + i, NOW - timedelta(minutes=5), r, ()) for i, r in enumerate(raws)]
        parsed = [parse_email(m.raw, tz=cfg.tz, parse=cfg.parse) for m in msgs]
        out.append(list(zip(msgs, parsed, strict=True)))
    return out[0], out[1]


def _ctx(store: Any) -> Any:
    from uq.config import Config
    from uq.queue.clock import FixedClock
    from uq.services.context import Context

    return Context(config=Config(), store=store, clock=FixedClock(NOW))


def _old_store_batch(old_sync: Any, ctx: Any, pairs: list[Any]) -> Any:
    """The old ingest_batch with the parse taken out."""
    summary = old_sync.SyncSummary()
    with ctx.store.tx() as tx:
        for m, p in pairs:
            if tx.has_uid("INBOX", 1, m.uid):
                continue
            old_sync.ingest_message(
                ctx, tx, mailbox="INBOX", uidvalidity=1, uid=m.uid, internaldate=m.internaldate,
                raw=m.raw, parsed=p, summary=summary,
            )
        tx.advance_cursor("INBOX", 1, max(m.uid for m, _ in pairs), ctx.clock())
    return summary


def _new_store_batch(ctx: Any, pairs: list[Any]) -> Any:
    from uq.services.sync import store_batch

    summary, _ = store_batch(ctx, "INBOX", 1, [m for m, _ in pairs], [p for _, p in pairs])
    return summary


def _floor_batch(db: Path, pairs: list[Any]) -> None:
    """The I/O floor: the same bytes (raw messages, attachments, case bodies) written by
    bare sqlite3 executemany into minimal tables in one transaction, WAL + NORMAL like uq."""
    import sqlite3

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE IF NOT EXISTS raw(id INTEGER PRIMARY KEY, uid INT, raw BLOB)")
    con.execute("CREATE TABLE IF NOT EXISTS att(id INTEGER PRIMARY KEY, data BLOB)")
    con.execute("CREATE TABLE IF NOT EXISTS cases(id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("BEGIN")
    con.executemany("INSERT INTO raw(uid, raw) VALUES (?, ?)", [(m.uid, m.raw) for m, _ in pairs])
    con.executemany("INSERT INTO att(data) VALUES (?)", [(a.data,) for _, p in pairs for a in p.attachments])
    con.executemany("INSERT INTO cases(body) VALUES (?)", [(p.body_text,) for _, p in pairs])
    con.execute("COMMIT")
    con.close()


def _url(work: Path, tag: str, pg: str | None) -> str:
    if pg:
        from sqlalchemy import create_engine, text

        eng = create_engine(pg)
        with eng.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        eng.dispose()
        return pg
    return f"sqlite:///{work / (tag + '.sqlite3')}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", default=BASE)
    ap.add_argument("--pg", default=None, help="a scratch PostgreSQL URL (its public schema is wiped)")
    args = ap.parse_args()
    from uq.store.repo import Store

    OldStore, old_sync = _load_old(args.base)
    first, second = _batches()
    work = Path(tempfile.mkdtemp(prefix="uqstorebench-"))
    times: dict[tuple[str, str], list[float]] = {}
    summaries: dict[tuple[str, str], str] = {}
    for r in range(args.rounds):
        for impl in ("old", "new"):
            url = _url(work, f"{impl}{r}", args.pg)
            store = OldStore.open(url) if impl == "old" else Store.open(url, audit_key=lambda: b"bench-audit-key")
            ctx = _ctx(store)
            for scen, pairs in (("500 new, empty store", first), ("400 new+50 dup+50 follow-up", second)):
                t0 = time.perf_counter()
                s = _old_store_batch(old_sync, ctx, pairs) if impl == "old" else _new_store_batch(ctx, pairs)
                times.setdefault((scen, impl), []).append((time.perf_counter() - t0) * 1000 / len(pairs))
                summaries[(scen, impl)] = str(s)
            store.close()
        if not args.pg:
            for scen, pairs in (("500 new, empty store", first), ("400 new+50 dup+50 follow-up", second)):
                t0 = time.perf_counter()
                _floor_batch(work / f"floor{r}.sqlite3", pairs)
                times.setdefault((scen, "floor"), []).append((time.perf_counter() - t0) * 1000 / len(pairs))
    print(f"store side of one 500-message batch, ms/message (median of {args.rounds}, min-max); "
          f"{'PostgreSQL' if args.pg else 'SQLite'}")
    print(f"{'scenario':32} {'old':>20} {'new':>20} {'speed-up':>9} {'bare sqlite3 floor':>20}")
    for scen in ("500 new, empty store", "400 new+50 dup+50 follow-up"):
        o, n = times[(scen, "old")], times[(scen, "new")]
        fmt = lambda v: f"{statistics.median(v):6.2f} ({min(v):.2f}-{max(v):.2f})"  # noqa: E731
        floor = fmt(times[(scen, "floor")]) if (scen, "floor") in times else "-"
        print(f"{scen:32} {fmt(o):>20} {fmt(n):>20} {statistics.median(o) / statistics.median(n):8.1f}x {floor:>20}")
        if summaries[(scen, "old")] != summaries[(scen, "new")]:
            print(f"  SUMMARY DIFFERS: old {summaries[(scen, 'old')]} / new {summaries[(scen, 'new')]}")
        else:
            print(f"  both: {summaries[(scen, 'new')]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
