"""Sync gaps end to end: the long-running `uq sync`, polling without IDLE, what after_ingest
does to the server's copy, and a broken email kept and shown."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.fixtures.dovecot import DOVECOT, Dovecot, started_dovecot, wait_until
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from uq.cli import main
from uq.config import load_config
from uq.mail.imap import INGESTED_KEYWORD
from uq.services import sync
from uq.services.context import Context

CASE = (CORPUS_DIR / "01-example-text.eml").read_bytes()
AUTO_REPLY = (CORPUS_DIR / "19-auto-reply.eml").read_bytes()
NEWSLETTER = (CORPUS_DIR / "26-newsletter.eml").read_bytes()
BROKEN = (CORPUS_DIR / "27-broken-mime.eml").read_bytes()

# Dovecot 2.3's post-login list, minus IDLE: a server that makes uq poll.
NO_IDLE = (
    "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT THREAD=REFERENCES "
    "MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC "
    "ESEARCH SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SPECIAL-USE\n"
)


def _cfg(tmp_path: Path, dovecot: Dovecot, **imap: Any) -> Path:
    return write_config(tmp_path, dovecot=dovecot, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}", imap=imap)


def _run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _norm(b: bytes) -> bytes:
    return b.replace(b"\r", b"")


# ------------------------------------------------------------------ uq sync (long-running)


class _Lines:
    """Read a pipe in a thread so the test can wait for a line with a timeout."""

    def __init__(self, stream: Any) -> None:
        self.q: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self.q.put(line)

    def wait_for(self, pred: Any, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            self.seen.append(line)
            if pred(line):
                return line
        return None


def test_sync_without_once_prints_a_line_per_batch_and_stops_on_ctrl_c(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path
) -> None:
    dovecot_fn.append(case_email(1))
    cfg = _cfg(tmp_path, dovecot_fn)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uq.cli", "--config", str(cfg), "sync"],
        env=uq_home.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = _Lines(proc.stdout), _Lines(proc.stderr)
        first = out.wait_for(lambda s: s.strip() != "", timeout=20)
        assert first == "ingested 1, updated 0, duplicates 0, not cases 0, quarantined 0\n", out.seen
        assert err.wait_for(lambda s: s.startswith("live"), timeout=10), err.seen
        time.sleep(0.3)  # IDLE is issued right after "live"
        dovecot_fn.append([case_email(2)])
        line = out.wait_for(lambda s: s.strip() != "", timeout=10)
        assert line == "ingested 1, updated 0, duplicates 0, not cases 0, quarantined 0\n", out.seen
        dovecot_fn.append([AUTO_REPLY])  # a batch with nothing new still gets its line
        line = out.wait_for(lambda s: s.strip() != "", timeout=10)
        assert line == "ingested 0, updated 0, duplicates 0, not cases 1, quarantined 0\n", out.seen
        assert proc.poll() is None, "runs until interrupted"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code in (0, 130)
    time.sleep(0.1)
    rest = "".join(err.seen) + "".join(iter_queue(err.q))
    assert "Traceback" not in rest, rest
    # stderr carries state changes only (and the interrupt note on 130): no noise, no trace
    assert set(rest.splitlines()) <= {"live", "uq: interrupted"}, rest
    ctx = Context.open(load_config(cfg))
    assert ctx.store.counts()["cases"] == 2


def iter_queue(q: queue.Queue[str]) -> Iterator[str]:
    while True:
        try:
            yield q.get_nowait()
        except queue.Empty:
            return


# ------------------------------------------------------------------ polling fallback


@pytest.fixture
def dovecot_no_idle() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        pytest.fail(f"{DOVECOT} is missing: the IMAP tests need a real Dovecot", pytrace=False)
    d = started_dovecot(extra_conf=NO_IDLE)
    try:
        yield d
    finally:
        d.stop()


def test_server_without_idle_is_polled(dovecot_no_idle: Dovecot, uq_home: Any, tmp_path: Path) -> None:
    c = dovecot_no_idle.client()
    assert b"IDLE" not in c.capabilities(), "the fixture server must not offer IDLE"
    assert b"MOVE" in c.capabilities()
    cfg = _cfg(tmp_path, dovecot_no_idle, poll_seconds=5)
    ctx = Context.open(load_config(cfg))
    stop = threading.Event()
    states: list[str] = []
    batches: list[sync.SyncSummary] = []
    t = threading.Thread(
        target=sync.watch,
        args=(ctx, stop),
        kwargs={"on_batch": batches.append, "on_state": lambda s, d: states.append(s)},
    )
    t.start()
    try:
        assert wait_until(lambda: "polling" in states, timeout=10), states
        assert "live" not in states and "offline" not in states, states
        t0 = time.monotonic()
        dovecot_no_idle.append(case_email(9))
        assert wait_until(lambda: ctx.store.counts()["cases"] == 1, timeout=12), "a poll picks the case up"
        assert time.monotonic() - t0 <= 5 + 4.0  # one poll interval, with slack for a loaded machine
        assert wait_until(lambda: bool(batches), timeout=5)  # reported after the server marking
        assert [b.ingested for b in batches] == [1]
    finally:
        stop.set()
        t.join(15)
    assert not t.is_alive(), "stop ends the poll wait at once"
    assert states[-1] == "stopped"
    assert set(states) <= {"connecting", "polling", "stopped"}, states


# ------------------------------------------------------------------ after_ingest


def _flags_by_message_id(dovecot: Dovecot, folder: str) -> dict[str, set[str]]:
    c = dovecot.client()
    c.select_folder(folder, readonly=True)
    uids = c.search("ALL")
    out: dict[str, set[str]] = {}
    for _, item in c.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).items():
        header = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().strip()
        mid = header.partition(":")[2].strip()
        out[mid] = {f.decode() if isinstance(f, bytes) else f for f in item[b"FLAGS"]} - {"\\Recent"}
    return out


def _mid(raw: bytes) -> str:
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.lower().startswith("message-id:"):
            return line.partition(":")[2].strip()
    raise AssertionError("no Message-ID")


MIXED = [CASE, AUTO_REPLY, NEWSLETTER]


@pytest.mark.parametrize("mode", ["flag", "move", "none"])
def test_after_ingest_touches_case_messages_only(
    mode: str, dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot_fn.append(MIXED)
    imap: dict[str, Any] = {"after_ingest": mode}
    if mode == "move":
        imap["move_to"] = "UQ/Ingested"  # does not exist yet: uq creates it
    code, out, err = _run(capsys, _cfg(tmp_path, dovecot_fn, **imap), "sync", "--once")
    assert code == 0, err
    assert out.strip() == "ingested 1, updated 0, duplicates 0, not cases 2, quarantined 0"
    inbox = _flags_by_message_id(dovecot_fn, "INBOX")
    untouched: dict[str, set[str]] = {_mid(AUTO_REPLY): set(), _mid(NEWSLETTER): set()}
    if mode == "flag":
        assert inbox == {**untouched, _mid(CASE): {"\\Seen", INGESTED_KEYWORD}}
    elif mode == "move":
        assert inbox == untouched
        assert _flags_by_message_id(dovecot_fn, "UQ/Ingested").keys() == {_mid(CASE)}
    else:
        assert inbox == {**untouched, _mid(CASE): set()}
        folders = {f[2] for f in dovecot_fn.client().list_folders()}
        assert folders == {"INBOX"}


# ------------------------------------------------------------------ broken email kept


def test_broken_email_is_quarantined_listed_and_kept_byte_for_byte(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot_fn.append([CASE, BROKEN])
    cfg = _cfg(tmp_path, dovecot_fn)
    code, out, err = _run(capsys, cfg, "sync", "--once")
    assert code == 0, err
    assert out.strip().endswith("quarantined 1")
    code, out, err = _run(capsys, cfg, "quarantine", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 1
    row = rows[0]
    assert row["kind"] == "quarantined"
    assert "broken mime" in (row["reason"] or "").lower()
    assert row["message_id"] == "<br1@broken.example-um.com>" and row["uid"] == 2
    assert row["subject"] == "Case BR-1" and row["size"] == len(BROKEN.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    kept = Context.open(load_config(cfg)).store.raw_bytes(row["id"])
    assert _norm(kept) == _norm(BROKEN)
    # not a case, and the broken message is not marked as ingested on the server
    code, out, _ = _run(capsys, cfg, "queue", "--json")
    assert [i["case_id"] for i in json.loads(out)] == ["UM-2026-004512"]
    assert _flags_by_message_id(dovecot_fn, "INBOX")["<br1@broken.example-um.com>"] == set()
    code, out, _ = _run(capsys, cfg, "quarantine")
    assert code == 0 and "broken" in out.lower() and out.count("\n") == 1
    assert os.stat(str(tmp_path / "uq.sqlite3")).st_mode & 0o077 == 0
