"""Issue 11 by eye, automated: uq's TUI in a real tmux pane on hostile cases; the pane as
tmux holds it (`capture-pane -e`) has only colour escapes, the title and the clipboard
buffers are untouched, and the placeholders are drawn."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.hostile_mail import case_email
from uq.config import Config, DatabaseConfig
from uq.mail.imap import FetchedMessage
from uq.queue.clock import system_clock
from uq.services.context import Context
from uq.services.sync import ingest_batch


def _wait_for_pane(session: str, text: str, timeout: float = 45.0) -> bytes:
    """The pane (with its escapes) once it shows `text`; uq starts slowly on a busy machine."""
    end = time.monotonic() + timeout
    while True:
        pane = subprocess.run(["tmux", "capture-pane", "-t", session, "-e", "-p"], capture_output=True, check=True)
        if text.encode() in pane.stdout or time.monotonic() > end:
            return pane.stdout
        time.sleep(0.5)


def test_tmux_pane_holds_only_colour_escapes(uq_home: Any, tmp_path: Path) -> None:
    assert shutil.which("tmux"), "tmux is needed (tests/run.sh installs it)"
    db = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    ctx = Context.open(Config(database=DatabaseConfig(url=db)), clock=system_clock)
    ingest_batch(ctx, "INBOX", 1, [FetchedMessage(1, system_clock(), case_email(1), ())])
    ctx.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{db}"\n[security]\nlock_after_minutes = 0\n')
    session = f"uq-hostile-{tmp_path.name[-12:]}"
    env = " ".join(f"{k}='{v}'" for k, v in uq_home.env().items() if k.startswith("UQ_"))
    cmd = f"env {env} {sys.executable} -m uq.cli --config {cfg}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd], check=True)
    try:
        captures = []
        for keys, expect in (("", "UM-2026"), ("Enter", "Problems"), ("r", "pwned-title")):
            if keys:
                subprocess.run(["tmux", "send-keys", "-t", session, keys], check=True)
            captures.append(_wait_for_pane(session, expect))
        title = subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_title}"], capture_output=True).stdout
        buffers = subprocess.run(["tmux", "list-buffers"], capture_output=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert b"pwned" not in title and b"Y3Vyb" not in buffers, "no title set, no clipboard loaded"
    for pane in captures:
        assert not re.findall(rb"\x1b(?!\[[0-9;:]*m)", pane), "only SGR colour escapes in the pane"
        assert b"\x07" not in pane
    text = captures[-1].decode("utf-8")
    assert "␛]0;pwned-title␇" in text and "⟨RLO⟩" in text
