"""A private note is kept with the case, shown on it, audited by its length only, and never
leaves uq: not in a queued reply, not in what the SMTP server receives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cases import add_bare_case
from tests.fixtures.env import write_config
from tests.fixtures.smtp import SmtpServer
from uq.cli import main
from uq.config import load_config
from uq.queue.clock import FixedClock
from uq.services.context import Context

NOW = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
NOTE = "Caller was rude; suspect the MRI was never done - PRIVNOTE-7f3a"
MARK = "PRIVNOTE-7f3a"


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _cases(cfg: Path, ids: list[str]) -> None:
    ctx = Context.open(load_config(str(cfg)), clock=FixedClock(NOW))
    try:
        for case_id in ids:
            add_bare_case(ctx, case_id, NOW)
    finally:
        ctx.close()


def test_a_note_is_shown_audited_by_length_and_never_sent(
    smtp_server: SmtpServer, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, smtp=smtp_server, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    _cases(cfg, ["UM-NOTE-1", "UM-NOTE-2"])
    code, out, err = run(capsys, cfg, "note", "UM-NOTE-1", NOTE)
    assert code == 0 and f"{len(NOTE)} characters" in out and "never sent" in out, err
    code, out, _ = run(capsys, cfg, "show", "UM-NOTE-1")
    assert "Private note (never sent)" in out and MARK in out
    code, out, _ = run(capsys, cfg, "show", "UM-NOTE-1", "--json")
    assert json.loads(out)["private_note"] == NOTE
    code, out, _ = run(capsys, cfg, "show", "UM-NOTE-2", "--json")
    assert json.loads(out)["private_note"] == ""
    for case_id, outcome in (("UM-NOTE-1", "--approve"), ("UM-NOTE-2", "--call-needed")):
        code, _, err = run(capsys, cfg, "decide", case_id, outcome, "--note", "Please send the PT notes.")
        assert code == 0, err
    code, out, err = run(capsys, cfg, "send")
    assert code == 0, err
    assert len(smtp_server.messages) == 2
    for m in smtp_server.messages:
        assert MARK.encode() not in m.raw
    code, out, _ = run(capsys, cfg, "outbox", "--json")
    ctx = Context.open(load_config(str(cfg)))
    try:
        assert all(MARK.encode() not in item.raw for item in ctx.store.outbox())
    finally:
        ctx.close()
    code, out, _ = run(capsys, cfg, "audit", "export")
    entries = json.loads(out)
    assert MARK not in out and "rude" not in out, "the trail holds the note's length only"
    [entry] = [e for e in entries if e["action"] == "note"]
    assert entry["detail"] == f"{len(NOTE)} characters"
    code, out, _ = run(capsys, cfg, "note", "UM-NOTE-1", "")
    assert code == 0 and "cleared" in out
    code, out, _ = run(capsys, cfg, "show", "UM-NOTE-1")
    assert MARK not in out
    code, out, err = run(capsys, cfg, "audit", "verify")
    assert code == 0, err
