"""Opening huge case emails in the TUI: a body of a million short lines (case screen and
raw view) and a 30 MB email (raw view). Each scenario runs in its own process so its
peak RSS is its own; time is from pushing the case screen (or pressing `r`) until the
view holds the text. Baseline: the old way (one Static holding a rich Text), at 100k
lines only, since the million-line Static froze the app for most of a minute.

    .venv/bin/python -m bench.big_body_bench
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SIZE = (120, 40)
HEAD = (
    "From: Nurse <nurse@reviews.example-um.com>\r\nTo: dr@example.org\r\n"
    "Subject: UM Review Request - Case #BIG-{n}\r\nDate: Sun, 29 Nov 2026 08:29:00 -0500\r\n"
    "Message-ID: <big-{n}@reviews.example-um.com>\r\nMIME-Version: 1.0\r\n"
)


def million_lines(n: int = 1_000_000) -> bytes:
    body = "Case ID: BIG-1\r\nUrgency: Standard\r\nReview Type: Prospective\r\n\r\n"
    body += "".join(f"line {i}\r\n" for i in range(n))
    return (HEAD.format(n=1) + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def thirty_mb() -> bytes:
    blob = base64.encodebytes(os.urandom(22_000_000)).replace(b"\n", b"\r\n")  # ~30 MB encoded
    return (
        HEAD.format(n=2).encode()
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        + b"Case ID: BIG-2\r\nUrgency: Standard\r\nReview Type: Prospective\r\n\r\n--b\r\n"
        + b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + blob
        + b"\r\n--b--\r\n"
    )


def _child(db: str, case_id: str, raw: bool, baseline: bool) -> dict[str, Any]:
    from rich.text import Text
    from textual.app import App
    from textual.widgets import Static

    from uq.config import Config, DatabaseConfig
    from uq.queue.clock import FixedClock
    from uq.services.context import Context
    from uq.tui.screens.case import CaseScreen
    from uq.tui.widgets.case_view import CaseView

    clock = FixedClock(datetime(2026, 11, 29, 15, 0, tzinfo=UTC))
    ctx = Context.open(Config(database=DatabaseConfig(url=db)), clock=clock)
    pk = next(r.id for r in ctx.store.iter_queue_rows(open_only=False) if r.case_id == case_id)

    class Host(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.ctx, self.config, self.clock, self.demo = ctx, ctx.config, clock, True

    out: dict[str, Any] = {}

    async def main() -> None:
        app = Host()
        async with app.run_test(size=SIZE) as pilot:
            if baseline:
                text = ctx.store.first_raw_for_case(pk).decode("utf-8", "replace")
                start = time.perf_counter()
                await app.mount(Static(Text(text)))
                await pilot.pause()
                out["open_s"] = time.perf_counter() - start
                return
            for key in ("case_screen_cold_s", "case_screen_s"):  # cold: the first open imports the services
                if key == "case_screen_s":
                    app.pop_screen()
                    await pilot.pause()
                start = time.perf_counter()
                await app.push_screen(CaseScreen(pk))
                view = app.screen.query_one(CaseView)
                while view.line_count < 3:
                    await pilot.pause(0.01)
                out[key] = time.perf_counter() - start
            if raw:
                start = time.perf_counter()
                await pilot.press("r")
                while not (view.showing_raw and view.line_count > 10):
                    await pilot.pause(0.01)
                await pilot.pause()
                out["raw_view_s"] = time.perf_counter() - start
                out["raw_lines"] = view.line_count
                start = time.perf_counter()
                await pilot.press("G")
                await pilot.pause()
                out["jump_to_end_s"] = time.perf_counter() - start

    asyncio.run(main())
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would show the parent's peak
    hwm = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmHWM"))
    out["peak_rss_mb"] = round(int(hwm.split()[1]) / 1024, 1)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], sys.argv[4] == "raw", sys.argv[5] == "baseline")))
        return
    from uq.config import Config, DatabaseConfig, ParseConfig
    from uq.mail.imap import FetchedMessage
    from uq.queue.clock import FixedClock
    from uq.services.context import Context
    from uq.services.sync import ingest_batch

    root = Path(tempfile.mkdtemp(prefix="uq-bigbody-"))
    os.environ.setdefault("UQ_DATA_DIR", str(root / "data"))
    db = f"sqlite:///{root / 'uq.sqlite3'}"
    clock = FixedClock(datetime(2026, 11, 29, 15, 0, tzinfo=UTC))
    # [parse] message_bytes set above 30 MB, as a reviewer would to take such an email as a case
    big_ok = Config(database=DatabaseConfig(url=db), parse=ParseConfig(message_bytes=64 << 20))
    ctx = Context.open(big_ok, clock=clock)
    small = million_lines(100_000).replace(b"BIG-1", b"BIG-3").replace(b"<big-1@", b"<big-3@")
    for uid, raw in ((1, million_lines()), (2, thirty_mb()), (3, small)):
        ingest_batch(ctx, "INBOX", 1, [FetchedMessage(uid, clock(), raw, ())])
    ctx.close()
    runs = [
        ("million-line body: case screen + raw view", "BIG-1", "raw", "new"),
        ("30 MB email: case screen + raw view", "BIG-2", "raw", "new"),
        ("100k-line body: raw view (new)", "BIG-3", "raw", "new"),
        ("100k-line body: one Static (old way, baseline)", "BIG-3", "raw", "baseline"),
    ]
    results = {}
    for name, case_id, mode, kind in runs:
        p = subprocess.run(
            [sys.executable, "-m", "bench.big_body_bench", "--child", db, case_id, mode, kind],
            capture_output=True,
            text=True,
            timeout=600,
            env=os.environ,
        )
        got = json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else {"error": p.stderr[-500:]}
        results[name] = got
        print(f"{name:<50} {json.dumps(got)}", flush=True)


if __name__ == "__main__":
    main()
