"""Exactly once against servers that misbehave: real aiosmtpd (STARTTLS + AUTH), real Dovecot.

Timeouts are configured small (a 1 s command timeout, an 8 s end-of-data wait, a 1.5 s
lease) so each test takes seconds; the server's delays are chosen around them.
"""

from __future__ import annotations

import email
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.fixtures.dovecot import Dovecot, wait_until
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from tests.fixtures.smtp import SmtpServer
from uq.cli import main
from uq.config import load_config
from uq.services import outbox
from uq.services.context import Context

CASE = (CORPUS_DIR / "01-example-text.eml").read_bytes()
CASE_ID = "UM-2026-004512"
FAST = {
    "timeout_seconds": 1.0,
    "data_timeout_seconds": 8.0,
    "lease_seconds": 1.5,
    "retry_seconds": 0.5,
}


def make_config(
    tmp_path: Path, dovecot: Dovecot, smtp: SmtpServer, name: str = "config.toml", **smtp_extra: Any
) -> Path:
    sent = smtp_extra.pop("sent_folder", "")
    return write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        path=tmp_path / name,
        imap={"sent_folder": sent},
        sections={"smtp": {**FAST, **smtp_extra}},
    )


def uq(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def decide(capsys: pytest.CaptureFixture[str], cfg: Path, case_id: str = CASE_ID) -> str:
    assert uq(capsys, cfg, "show", case_id)[0] == 0  # deciding needs the case opened
    code, out, err = uq(capsys, cfg, "decide", case_id, "--approve")
    assert code == 0, err
    return out


def items(capsys: pytest.CaptureFixture[str], cfg: Path) -> list[dict[str, Any]]:
    code, out, _ = uq(capsys, cfg, "outbox", "--json")
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def copies(smtp: SmtpServer, message_id: str) -> int:
    return sum(1 for m in smtp.messages if email.message_from_bytes(m.raw)["Message-ID"] == message_id)


@pytest.fixture
def one_case(
    dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Dovecot, SmtpServer]:
    dovecot_fn.append(CASE)
    cfg = make_config(tmp_path, dovecot_fn, smtp_server)
    assert uq(capsys, cfg, "sync", "--once")[0] == 0
    return cfg, dovecot_fn, smtp_server


# ------------------------------------------------------------ the three servers of the issue


def test_a_server_that_stores_then_answers_after_the_command_timeout_gets_one_copy(
    one_case: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _, smtp = one_case
    smtp.answer_delay = 2.5  # > the 1 s command timeout, < the end-of-data wait
    decide(capsys, cfg)
    for _ in range(3):
        code, _, err = uq(capsys, cfg, "send")
        assert code == 0, err
    [item] = items(capsys, cfg)
    assert item["state"] == "sent" and item["attempts"] == 1
    assert copies(smtp, item["message_id"]) == 1


def test_a_server_that_stores_only_while_the_client_waits_gets_one_copy(
    one_case: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _, smtp = one_case
    smtp.store_delay = 2.5  # stores after 2.5 s, and only if the client is still connected
    decide(capsys, cfg)
    for _ in range(3):
        assert uq(capsys, cfg, "send")[0] == 0
    [item] = items(capsys, cfg)
    assert item["state"] == "sent"
    assert copies(smtp, item["message_id"]) == 1


def test_a_slow_server_failing_the_first_data_with_a_second_sender_polling_gets_one_copy(
    one_case: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _, smtp = one_case
    smtp.command_delay = 0.35  # ~10 commands a session: each session outlives the 1.5 s lease
    smtp.fail_next(1)
    decide(capsys, cfg)
    stop = threading.Event()
    second = Context.open(load_config(cfg))
    results: list[outbox.SendSummary] = []
    poller = threading.Thread(target=outbox.run_sender, args=(second, stop, results.append, 0.1))
    poller.start()
    try:
        for _ in range(4):
            uq(capsys, cfg, "send")
        assert wait_until(lambda: items(capsys, cfg)[0]["state"] == "sent", timeout=30)
        for _ in range(2):
            assert uq(capsys, cfg, "send")[0] == 0
    finally:
        stop.set()
        poller.join(30)
        second.close()
    [item] = items(capsys, cfg)
    assert copies(smtp, item["message_id"]) == 1
    assert item["attempts"] >= 2  # the 451, then the one that went through


# ------------------------------------------------------------ uncertain sends


def test_no_reply_after_the_data_is_uncertain_resent_once_after_the_lease_and_said_so(
    one_case: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, dovecot, smtp = one_case
    short = make_config(cfg.parent, dovecot, smtp, name="short.toml", data_timeout_seconds=1.0, lease_seconds=4.0)
    smtp.answer_delay = 3.0  # stores, then answers after the end-of-data wait is over
    decide(capsys, short)
    code, out, err = uq(capsys, short, "send")
    assert code == 8 and "no reply within 1s after the message was sent" in err
    assert "outcome unknown" in out and "sent once more with the same Message-ID" in out
    [item] = items(capsys, short)
    assert item["state"] == "uncertain" and item["unknown_outcomes"] == 1
    assert uq(capsys, short, "send")[0] == 0  # within the lease: nothing is resent
    assert copies(smtp, item["message_id"]) == 1
    assert wait_until(lambda: uq(capsys, short, "send") and copies(smtp, item["message_id"]) == 2, timeout=20)
    # the resend was uncertain too: stopped after the one resend, never a third copy
    assert wait_until(lambda: uq(capsys, short, "send") and items(capsys, short)[0]["state"] == "stopped", timeout=20)
    assert copies(smtp, item["message_id"]) == 2
    [item] = items(capsys, short)
    assert "check with the recipient" in item["last_error"]
    ctx = Context.open(load_config(short))
    actions = [e.action for e in ctx.store.audit_entries()]
    assert actions.count("send_uncertain") == 2 and actions.count("resend_uncertain") == 1


def test_an_uncertain_reply_found_in_the_sent_folder_is_not_sent_again(
    one_case: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, dovecot, smtp = one_case
    dovecot.create_folder("Sent", special_use="\\Sent")
    sent = make_config(cfg.parent, dovecot, smtp, name="sent.toml", data_timeout_seconds=1.0, sent_folder="auto")
    smtp.on_store = lambda raw: dovecot.append(raw, folder="Sent")  # the provider keeps a copy
    smtp.answer_delay = 3.0
    decide(capsys, sent)
    assert uq(capsys, sent, "send")[0] == 8
    mid = items(capsys, sent)[0]["message_id"]
    assert wait_until(lambda: uq(capsys, sent, "send") and items(capsys, sent)[0]["state"] == "sent", timeout=15)
    code, _out, _ = uq(capsys, sent, "send")
    assert code == 0
    assert copies(smtp, mid) == 1
    ctx = Context.open(load_config(sent))
    assert "found_in_sent" in [e.action for e in ctx.store.audit_entries()]


# ------------------------------------------------------------ an unreachable server


def test_an_unreachable_server_is_tried_once_per_run_not_once_per_reply(
    dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot_fn.append([case_email(n) for n in range(1, 5)])
    cfg = make_config(tmp_path, dovecot_fn, smtp_server)
    assert uq(capsys, cfg, "sync", "--once")[0] == 0
    for n in range(1, 5):
        decide(capsys, cfg, f"TEST-{n:04d}")
    smtp_server.stop()
    code, _out, err = uq(capsys, cfg, "send")
    assert code == 8 and "connection refused" in err and err.count("\n") == 1
    rows = items(capsys, cfg)
    assert [r["state"] for r in rows] == ["failed", "queued", "queued", "queued"]
    assert [r["attempts"] for r in rows] == [0, 0, 0, 0]  # the server's fault, not the replies'
    smtp_server.start()
    assert uq(capsys, cfg, "send")[0] == 0
    assert len(smtp_server.messages) == 4
