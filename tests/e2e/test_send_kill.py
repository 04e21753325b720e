"""`uq send` SIGKILLed at every point of the SMTP dialogue: no reply lost, no blind repeat.

The server (real aiosmtpd) holds the session at one point (tests.fixtures.smtp.POINTS)
until the test has killed the `uq send` process there; a rerun right away must name the
reply it left, and later runs must deliver it. A second copy may only exist where the
server had stored the first but uq had not heard its 250 (killed at STORED), always with
the same Message-ID, and never when the provider keeps a copy in the Sent folder that uq
searches.

The sender is a child forked from a fork server running `uq send` (see _fork_uq_send). Each point runs
UQ_KILL_RUNS times: `UQ_KILL_RUNS=20 pytest -m stress tests/e2e/test_send_kill.py` is the
full count. Unset (the normal suite): once per point, and with a Sent folder only from
DATA on, where the folder can matter.
"""

from __future__ import annotations

import email
import multiprocessing
import multiprocessing.process
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from tests.fixtures.smtp import POINTS, SmtpServer
from uq.cli import main

pytestmark = pytest.mark.stress

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload([__name__, "uq.services.outbox", "uq.services.context", "uq.store.repo"])
RUNS = int(os.environ.get("UQ_KILL_RUNS", "0"))
LEASE = 1.5
# the server has the message but uq has not heard the 250: the one point where a second
# copy may be right (at QUIT the 250 is in and recorded before QUIT is sent)
STORED_UNANSWERED = {"STORED"}


def _uq(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _copies(smtp: SmtpServer) -> Counter[str]:
    return Counter(str(email.message_from_bytes(m.raw)["Message-ID"]) for m in smtp.messages)


@pytest.mark.parametrize("sent_folder", [False, True], ids=["no-sent-folder", "sent-folder"])
def test_sigkill_at_every_point_of_the_dialogue(
    sent_folder: bool,
    dovecot_fn: Dovecot,
    smtp_server: SmtpServer,
    uq_home: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs = RUNS or 1
    points = POINTS[POINTS.index("DATA") :] if sent_folder and not RUNS else POINTS
    total = runs * len(points)
    dovecot_fn.append([case_email(n) for n in range(1, total + 1)])
    if sent_folder:
        dovecot_fn.create_folder("Sent", special_use="\\Sent")
        smtp_server.on_store = lambda raw: dovecot_fn.append(raw, folder="Sent")  # the provider's copy
    cfg = write_config(
        tmp_path,
        dovecot=dovecot_fn,
        smtp=smtp_server,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        imap={"sent_folder": "auto" if sent_folder else "", "after_ingest": "none"},
        sections={"smtp": {"timeout_seconds": 5.0, "lease_seconds": LEASE, "retry_seconds": 0.2}},
    )
    assert _uq(capsys, cfg, "sync", "--once")[0] == 0
    tally: Counter[str] = Counter()
    n = 0
    for point in points:
        for _ in range(runs):
            n += 1
            case_id = f"TEST-{n:04d}"
            assert _uq(capsys, cfg, "show", case_id)[0] == 0  # deciding needs the case opened
            assert _uq(capsys, cfg, "decide", case_id, "--approve")[0] == 0
            smtp_server.paused.clear()
            smtp_server.pause_at = point
            proc = _fork_uq_send(cfg, uq_home.env())
            assert smtp_server.paused.wait(30), f"{point}: the session never got there"
            proc.kill()  # SIGKILL
            killed = time.monotonic()
            proc.join(10)
            assert proc.exitcode == -signal.SIGKILL
            smtp_server.pause_at = None
            before = sum(_copies(smtp_server).values())
            _, out, _ = _uq(capsys, cfg, "send")  # at once: the rerun names the reply it left
            assert f"reply to {case_id}" in out or _state(capsys, cfg, case_id) == "sent", f"{point}: {out}"
            if time.monotonic() - killed < LEASE * 2 / 3:  # surely within the dead sender's lease
                assert "in flight" in out or "outcome unknown" in out or point == "QUIT", f"{point}: {out}"
                assert sum(_copies(smtp_server).values()) == before, f"{point}: resent within the lease"
            deadline = time.monotonic() + 30
            while _state(capsys, cfg, case_id) != "sent":
                assert time.monotonic() < deadline, f"{point}: reply to {case_id} never delivered"
                time.sleep(0.1)
                _uq(capsys, cfg, "send")
            mids = [mid for mid in _copies(smtp_server) if mid not in tally]
            assert len(mids) == 1, f"{point}: one Message-ID per reply"
            tally[mids[0]] = _copies(smtp_server)[mids[0]]
            copies = tally[mids[0]]
            if sent_folder or point not in STORED_UNANSWERED:
                assert copies == 1, f"{point}: {copies} copies"
            else:
                assert copies in (1, 2), f"{point}: {copies} copies"
            _record(point, sent_folder, copies)
    assert len(tally) == total, "every reply delivered"


def _run_uq_send(cfg: str, env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    raise SystemExit(main(["--config", cfg, "send"]))


def _fork_uq_send(cfg: Path, env: dict[str, str]) -> multiprocessing.process.BaseProcess:
    """`uq send` in a child forked from a fork server: the command's own code path, without
    paying Python's start-up for each of hundreds of kills, and without inheriting this
    process's threads or open SQLite connections (tests/e2e/test_decisions.py kills a real
    `python -m uq.cli send` process once)."""
    proc = _FORKS.Process(target=_run_uq_send, args=(str(cfg), env), daemon=True)
    proc.start()
    return proc


def _state(capsys: pytest.CaptureFixture[str], cfg: Path, case_id: str) -> str:
    import json

    code, out, _ = _uq(capsys, cfg, "outbox", "--json")
    assert code == 0
    return next(str(r["state"]) for r in json.loads(out) if r["case_id"] == case_id)


def _record(point: str, sent_folder: bool, copies: int) -> None:
    """Append one line per run to $UQ_KILL_REPORT (when set), for the full-count numbers."""
    path = os.environ.get("UQ_KILL_REPORT")
    if path:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(f"{'sent' if sent_folder else 'plain'} {point} {copies}\n")
