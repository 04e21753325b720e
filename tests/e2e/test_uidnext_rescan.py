"""A folder deleted and re-created with the same UIDVALIDITY (real Dovecot): UIDs start
over below the stored cursor, and the server's UIDNEXT is the only sign. The next sync
re-scans the folder instead of silently skipping the new mail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from uq.cli import main
from uq.config import load_config
from uq.services.context import Context


def _uq(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_uidnext_below_the_cursor_rescans_the_recreated_folder(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot_fn.create_folder("Cases")
    dovecot_fn.append([case_email(n) for n in (1, 2, 3)], folder="Cases")
    cfg = write_config(
        tmp_path, dovecot=dovecot_fn, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}", imap={"folder": "Cases"}
    )
    code, out, err = _uq(capsys, cfg, "sync", "--once")
    assert code == 0 and out.startswith("ingested 3,"), err
    with dovecot_fn.client() as c:
        uidvalidity = c.select_folder("Cases")[b"UIDVALIDITY"]
    dovecot_fn.doveadm("mailbox", "delete", "-u", dovecot_fn.user, "Cases")
    dovecot_fn.create_folder("Cases")
    dovecot_fn.set_uidvalidity(uidvalidity, folder="Cases")
    assert dovecot_fn.append([case_email(4), case_email(1)], folder="Cases") == [1, 2]
    with dovecot_fn.client() as c:
        info = c.select_folder("Cases")
        assert info[b"UIDVALIDITY"] == uidvalidity and info[b"UIDNEXT"] == 3  # below the cursor (3)
    code, out, err = _uq(capsys, cfg, "sync", "--once")
    assert code == 0, err
    code, out, _ = _uq(capsys, cfg, "queue", "--json")
    assert sorted(r["case_id"] for r in json.loads(out)) == ["TEST-0001", "TEST-0002", "TEST-0003", "TEST-0004"]
    ctx = Context.open(load_config(cfg))
    assert [e.action for e in ctx.store.audit_entries()].count("uidnext_below_cursor") == 1
    # the next message after the re-scan arrives normally, and nothing is re-scanned again
    dovecot_fn.append(case_email(5), folder="Cases")
    code, out, err = _uq(capsys, cfg, "sync", "--once")
    assert code == 0 and out.startswith("ingested 1,"), (out, err)
    assert [e.action for e in ctx.store.audit_entries()].count("uidnext_below_cursor") == 1
