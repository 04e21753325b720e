"""A team on one PostgreSQL outbox: each reply leaves by its own reviewer's SMTP account.

Alice and Bob share the database and the SMTP server but log in with their own accounts.
Whoever runs `uq send`, a reply goes out with the login and From of the reviewer who
decided it; the other reviewer's replies wait for their own sender, and the run says so.
"""

from __future__ import annotations

import email
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from tests.fixtures.smtp import SmtpServer
from uq.cli import main
from uq.config import load_config
from uq.services import outbox
from uq.services.context import Context

pytestmark = pytest.mark.postgres


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def reviewer(tmp_path: Path, dovecot: Dovecot, smtp: SmtpServer, url: str, user: str) -> Path:
    smtp.add_account(user, f"{user}-pw")
    return write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp,
        db_url=url,
        path=tmp_path / f"{user}.toml",
        reviewer={"user": user, "name": f"Dr. {user.title()}", "email": f"{user}@example.test"},
        imap={"after_ingest": "none"},
        sections={
            "smtp": {
                "username": user,
                "from_address": f"{user}@example.test",
                "password_command": ["printf", "%s", f"{user}-pw"],
                "timeout_seconds": 2.0,
                "lease_seconds": 2.0,
            }
        },
    )


@pytest.fixture
def team(
    pg_url: str,
    dovecot_fn: Dovecot,
    smtp_server: SmtpServer,
    uq_home: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Path, Path, SmtpServer]:
    dovecot_fn.append([case_email(i) for i in range(1, 5)])
    alice = reviewer(tmp_path, dovecot_fn, smtp_server, pg_url, "alice")
    bob = reviewer(tmp_path, dovecot_fn, smtp_server, pg_url, "bob")
    assert run(capsys, alice, "sync", "--once")[0] == 0
    for cfg, case_id in ((alice, "TEST-0001"), (alice, "TEST-0002"), (bob, "TEST-0003"), (bob, "TEST-0004")):
        assert run(capsys, cfg, "show", case_id)[0] == 0  # deciding needs the case opened
        code, _, err = run(capsys, cfg, "decide", case_id, "--approve")
        assert code == 0, err
    return alice, bob, smtp_server


def _sent_by(smtp: SmtpServer) -> dict[str, tuple[str, str, str]]:
    """case id -> (SMTP login, envelope sender, From header) of each delivered reply."""
    out = {}
    for m in smtp.messages:
        msg = email.message_from_bytes(m.raw)
        case_id = next(f"TEST-{i:04d}" for i in range(1, 5) if f"<case-{i}@payer.example>" == msg["In-Reply-To"])
        out[case_id] = (m.login, m.mail_from, email.utils.parseaddr(str(msg["From"]))[1])
    return out


def test_each_reply_leaves_by_its_own_reviewers_account_whoever_runs_send(
    team: tuple[Path, Path, SmtpServer], capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob, smtp = team
    code, out, err = run(capsys, bob, "send")
    assert code == 0, err
    assert "sent 2" in out and "2 replies of other reviewers wait for their own senders" in out
    assert set(_sent_by(smtp)) == {"TEST-0003", "TEST-0004"}
    code, out, err = run(capsys, alice, "send")
    assert code == 0 and "sent 2" in out, err
    assert run(capsys, bob, "send")[1].startswith("sent 0")
    assert len(smtp.messages) == 4
    for case_id, (login, mail_from, from_header) in _sent_by(smtp).items():
        who = "alice" if case_id in ("TEST-0001", "TEST-0002") else "bob"
        assert (login, mail_from, from_header) == (who, f"{who}@example.test", f"{who}@example.test"), case_id
    code, out, _ = run(capsys, alice, "outbox", "--json")
    assert sorted((r["case_id"], r["reviewer"], r["state"]) for r in json.loads(out)) == [
        ("TEST-0001", "alice", "sent"),
        ("TEST-0002", "alice", "sent"),
        ("TEST-0003", "bob", "sent"),
        ("TEST-0004", "bob", "sent"),
    ]


def test_two_background_senders_on_the_shared_outbox_each_send_their_own_once(
    team: tuple[Path, Path, SmtpServer],
) -> None:
    alice, bob, smtp = team
    smtp.command_delay = 0.2  # sessions longer than a poll: the senders overlap
    stop = threading.Event()
    contexts = [Context.open(load_config(cfg)) for cfg in (alice, bob, alice, bob)]
    senders = [
        threading.Thread(target=outbox.run_sender, args=(ctx, stop, lambda _s: None, 0.05)) for ctx in contexts
    ]
    for t in senders:
        t.start()
    try:
        deadline = threading.Event()
        for _ in range(300):
            if len(smtp.messages) >= 4 and all(i.state.value == "sent" for i in contexts[0].store.outbox()):
                break
            deadline.wait(0.1)
        deadline.wait(1.0)  # any late duplicate would arrive now
    finally:
        stop.set()
        for t in senders:
            t.join(30)
        for ctx in contexts:
            ctx.close()
    assert sorted(_sent_by(smtp)) == ["TEST-0001", "TEST-0002", "TEST-0003", "TEST-0004"]
    assert len(smtp.messages) == 4
    assert {case_id: v[0] for case_id, v in _sent_by(smtp).items()} == {
        "TEST-0001": "alice",
        "TEST-0002": "alice",
        "TEST-0003": "bob",
        "TEST-0004": "bob",
    }
