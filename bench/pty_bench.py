"""`uq run` in a real pseudo-terminal: spawn → first paint, idle CPU, RSS.

The config has no IMAP or SMTP host, so no network thread runs: what is measured is the
app idling on its queue (countdown ticks included)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path
from typing import Any

from bench.common import UQ, cpu_seconds, rss_mb
from bench.sync_bench import uq_env
from tests.fixtures.env import write_config

COLS, ROWS = 120, 40


class UqInPty:
    def __init__(self, db: Path, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.cfg = write_config(root, db_url=f"sqlite:///{db}", path=root / "config.toml")
        self.pid = -1
        self.fd = -1
        self.t0 = 0.0
        self.buf = bytearray()

    def spawn(self) -> None:
        env = uq_env(self.root)
        env.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
        env.pop("TEXTUAL", None)
        self.t0 = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child
            os.chdir(self.root)
            os.execve(UQ, [UQ, "--config", str(self.cfg), "run"], env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

    def pump(self, timeout: float) -> bool:
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.buf += data
        return True

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float:
        """Seconds from spawn until `needle` was first written to the terminal."""
        deadline = time.perf_counter() + timeout
        start = 0
        while time.perf_counter() < deadline:
            if needle in self.buf[start:]:
                return time.perf_counter() - self.t0
            start = max(0, len(self.buf) - len(needle))
            self.pump(0.005)
        raise TimeoutError(f"{needle!r} not painted in {timeout}s; tail: {bytes(self.buf[-300:])!r}")

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.pump(max(0.0, min(0.2, end - time.perf_counter())))
            if len(self.buf) > 1 << 20:
                del self.buf[: -(1 << 16)]

    def stop(self) -> None:
        if self.pid > 0:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(50):
                    done, _status = os.waitpid(self.pid, os.WNOHANG)
                    if done:
                        break
                    self.drain(0.05)
                else:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if self.fd >= 0:
            os.close(self.fd)
        self.pid = self.fd = -1


def first_paint(db: Path, root: Path) -> tuple[float, float]:
    """(first frame of the queue screen, first frame with case rows) in seconds."""
    app = UqInPty(db, root)
    app.spawn()
    try:
        frame = app.wait_for(b"uq")  # the title bar / header of the queue screen
        rows = app.wait_for(b"UM-2026-")
        return frame, rows
    finally:
        app.stop()


def idle_many(apps: list[tuple[Path, Path]], seconds: float) -> list[dict[str, Any]]:
    """Several `uq run` idling side by side over ONE window (they use ~0 CPU each, so they
    do not disturb each other): the issue's 60 s per figure, three runs per size, in ~1 min."""
    running = [UqInPty(db, root) for db, root in apps]
    try:
        for app in running:
            app.spawn()
        for app in running:  # fast-path rows first, then the full queue load
            app.wait_for(b"UM-2026-", timeout=180)
            app.wait_for("open · view".encode(), timeout=300)
        settle = time.perf_counter() + 2.0
        while time.perf_counter() < settle:
            for app in running:
                app.pump(0.01)
        c0 = [cpu_seconds(a.pid) for a in running]
        t0 = time.perf_counter()
        end = t0 + seconds
        while time.perf_counter() < end:
            for app in running:  # keep reading every pty so no app blocks on a full buffer
                app.pump(0.02)
                if len(app.buf) > 1 << 20:
                    del app.buf[: -(1 << 16)]
        t1 = time.perf_counter()
        return [
            {"cpu_pct": 100 * (cpu_seconds(a.pid) - c) / (t1 - t0), "rss_mb": rss_mb(a.pid)}
            for a, c in zip(running, c0, strict=True)
        ]
    finally:
        for app in running:
            app.stop()


def idle(db: Path, root: Path, seconds: float) -> dict[str, Any]:
    app = UqInPty(db, root)
    app.spawn()
    try:
        app.wait_for(b"UM-2026-", timeout=120)
        # the first rows come from the start-up fast path; wait for the full queue load
        # (the title switches from "loading the queue…" to "N open · view …")
        app.wait_for("open · view".encode(), timeout=180)
        app.drain(2.0)  # let the load settle
        c0, t0 = cpu_seconds(app.pid), time.perf_counter()
        app.drain(seconds)
        c1, t1 = cpu_seconds(app.pid), time.perf_counter()
        return {"cpu_pct": 100 * (c1 - c0) / (t1 - t0), "rss_mb": rss_mb(app.pid)}
    finally:
        app.stop()
