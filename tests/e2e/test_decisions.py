"""Decisions and replies end to end: real Dovecot in, real aiosmtpd (STARTTLS + AUTH) out."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.fixtures.dovecot import Dovecot, wait_until
from tests.fixtures.env import to_toml, write_config
from tests.fixtures.smtp import SmtpServer, _Handler
from uq.cli import main
from uq.config import load_config
from uq.services.context import Context
from uq.services.outbox import send_due

CASE = (CORPUS_DIR / "01-example-text.eml").read_bytes()
CASE_MSGID = "<case-004512.1@reviews.example-um.com>"
RATIONALE = (
    "Records show three weeks of radicular pain with two weeks of NSAIDs and no physical "
    "therapy; MCG requires six weeks of conservative care absent red flags, none documented."
)
CRITERION = "Not met: 6 weeks of conservative therapy"
GUIDELINE = "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine (27th ed.), conservative therapy criterion"


@pytest.fixture
def setup(
    dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Dovecot, SmtpServer]:
    dovecot_fn.create_folder("Sent", special_use="\\Sent")
    dovecot_fn.append(CASE)
    cfg = config_file(tmp_path / "config.toml", dovecot_fn, smtp_server)
    assert main(["--config", str(cfg), "sync", "--once"]) == 0
    assert main(["--config", str(cfg), "show", "UM-2026-004512"]) == 0  # deciding needs it opened
    capsys.readouterr()
    return cfg, dovecot_fn, smtp_server


def config_file(path: Path, dovecot: Dovecot, smtp: SmtpServer, **smtp_extra: Any) -> Path:
    cfg = write_config(
        path.parent,
        dovecot=dovecot,
        smtp=smtp,
        db_url=f"sqlite:///{path.parent / 'uq.sqlite3'}",
        path=path,
        imap={"sent_folder": "auto"},
        reviewer={
            "name": "Dr. Test Reviewer",
            "credentials": "MD",
            "specialty": "Orthopedic Surgery",
            "phone": "(555) 010-7000",
            "user": "reviewer",
        },
    )
    data = tomllib.loads(cfg.read_text())
    data["smtp"].update({"timeout_seconds": 2.0, "lease_seconds": 3.0, **smtp_extra})
    cfg.write_text(to_toml(data))
    return cfg


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def outbox(capsys: pytest.CaptureFixture[str], cfg: Path) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, cfg, "outbox", "--json")
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def test_deny_reply_threads_to_the_case_and_carries_every_part(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot, smtp = setup
    code, out, err = run(
        capsys, cfg, "decide", "UM-2026-004512", "--deny", "--rationale", RATIONALE, "--guideline", GUIDELINE,
        "--criterion", CRITERION
    )
    assert code == 0, err
    code, out, err = run(capsys, cfg, "send")
    assert code == 0, err
    assert out.startswith("sent 1")
    assert len(smtp.messages) == 1
    mail_from, rcpts, raw = smtp.messages[0]
    assert rcpts == ["mlopez@reviews.example-um.com"] and mail_from == "reviewer@example.test"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["In-Reply-To"] == CASE_MSGID
    assert CASE_MSGID in " ".join(str(msg["References"]).split())
    assert msg["Subject"] == "Re: UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine"
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for part in (
        "UM-2026-004512",
        "J.D.",
        "CPT 72148",
        "DENY",
        "agree",
        RATIONALE[:40],
        "MCG A-0317",
        "Dr. Test Reviewer",
        "MD",
        "Orthopedic Surgery",
        "conflict of interest",
        "2026",
    ):
        assert part in body, part
    assert "Jane" not in body and "03/04/1961" not in body, "minimum necessary PHI"
    assert outbox(capsys, cfg)[0]["state"] == "sent"
    # the Sent copy landed in Dovecot's special-use \Sent folder, same Message-ID
    c = dovecot.client()
    c.select_folder("Sent")
    uids = c.search("ALL")
    assert len(uids) == 1
    sent = email.message_from_bytes(c.fetch(uids, ["BODY.PEEK[]"])[uids[0]][b"BODY[]"])
    assert sent["Message-ID"] == msg["Message-ID"]
    c.logout()
    code, out, _ = run(capsys, cfg, "audit", "verify")
    assert code == 0 and "intact" in out


def test_denial_without_rationale_is_refused_and_nothing_queued(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, _ = setup
    code, _, err = run(capsys, cfg, "decide", "UM-2026-004512", "--deny", "--guideline", GUIDELINE)
    assert code == 7 and err.count("\n") == 1 and "rationale" in err
    code, _, err = run(
        capsys,
        cfg,
        "decide",
        "UM-2026-004512",
        "--deny",
        "--rationale",
        "Does not meet criteria.",
        "--guideline",
        GUIDELINE,
    )
    assert code == 7 and "rationale" in err
    assert outbox(capsys, cfg) == []
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert json.loads(out)[0]["status"] == "open"


def test_treatment_advice_needs_force(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, _ = setup
    advice = RATIONALE + " You should prescribe a course of physical therapy first."
    code, _, err = run(
        capsys, cfg, "decide", "UM-2026-004512", "--deny", "--rationale", advice, "--guideline", GUIDELINE,
        "--criterion", CRITERION
    )
    assert code == 7 and "--force" in err and outbox(capsys, cfg) == []
    code, _, err = run(
        capsys, cfg, "decide", "UM-2026-004512", "--deny", "--rationale", advice, "--guideline", GUIDELINE,
        "--criterion", CRITERION, "--force"
    )
    assert code == 0 and "warning" in err
    assert len(outbox(capsys, cfg)) == 1


def test_smtp_down_keeps_decision_then_sends_exactly_once(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, smtp = setup
    assert run(capsys, cfg, "decide", "UM-2026-004512", "--approve")[0] == 0
    smtp.stop()
    code, _, err = run(capsys, cfg, "send")
    assert code == 8 and err.count("\n") == 1 and "kept in the outbox" in err
    items = outbox(capsys, cfg)
    assert [i["state"] for i in items] == ["failed"] and items[0]["last_error"]
    smtp.start()
    assert run(capsys, cfg, "send")[0] == 0
    assert run(capsys, cfg, "send")[0] == 0
    assert len(smtp.messages) == 1
    assert outbox(capsys, cfg)[0]["state"] == "sent"


def test_451_is_tried_once_per_run_with_back_off_then_sent(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, smtp = setup
    assert run(capsys, cfg, "decide", "UM-2026-004512", "--approve")[0] == 0
    smtp.fail_next(2)
    code, out, err = run(capsys, cfg, "send")
    assert code == 8 and "451 4.3.0 Try again later" in err
    [item] = outbox(capsys, cfg)
    assert item["state"] == "failed" and item["attempts"] == 1 and item["next_try"]
    assert "try 1 of 8 failed" in out and "next try at" in out
    ctx = Context.open(load_config(cfg))
    assert send_due(ctx).sent == 0, "the back-off holds for a background sender"
    assert len(smtp.messages) == 0
    assert run(capsys, cfg, "send")[0] == 8  # `uq send` asks now: one more try, not several
    assert run(capsys, cfg, "send")[0] == 0
    assert len(smtp.messages) == 1
    [item] = outbox(capsys, cfg)
    assert item["state"] == "sent" and item["attempts"] == 3


def test_max_attempts_then_stopped_with_the_servers_words(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot, smtp = setup
    two = config_file(cfg.parent / "two.toml", dovecot, smtp, max_attempts=2)
    assert run(capsys, two, "decide", "UM-2026-004512", "--approve")[0] == 0
    smtp.fail_next(5)
    assert run(capsys, two, "send")[0] == 8
    code, out, err = run(capsys, two, "send")
    assert code == 8 and "gave up after 2 tries" in err
    for _ in range(3):
        run(capsys, two, "send")
    [item] = outbox(capsys, two)
    assert item["state"] == "stopped" and item["attempts"] == 2
    assert "451 4.3.0 Try again later" in item["last_error"]
    code, out, _ = run(capsys, two, "outbox")
    assert "stopped" in out and "451 4.3.0" in out
    smtp._failures.clear()
    assert run(capsys, two, "send", "--retry", "UM-2026-004512")[0] == 0
    assert len(smtp.messages) == 1 and outbox(capsys, two)[0]["state"] == "sent"


def test_a_5xx_is_stopped_for_the_reviewer_not_held_for_years(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, smtp = setup
    assert run(capsys, cfg, "decide", "UM-2026-004512", "--approve")[0] == 0
    smtp.fail_next(1, "550 5.7.1 Sender address rejected: not owned by user")
    code, _, err = run(capsys, cfg, "send")
    assert code == 8 and "550 5.7.1 Sender address rejected" in err
    assert run(capsys, cfg, "send")[0] == 0
    [item] = outbox(capsys, cfg)
    assert item["state"] == "stopped" and item["next_try"] is None
    assert "550 5.7.1 Sender address rejected: not owned by user" in item["last_error"]
    assert smtp.messages == []


def test_undo_within_hold_sends_nothing(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, smtp = setup
    held = config_file(cfg.parent / "held.toml", setup[1], smtp, hold_seconds=300)
    code, out, _ = run(capsys, held, "decide", "UM-2026-004512", "--approve")
    assert code == 0 and "held" in out
    assert run(capsys, held, "send")[0] == 0
    assert smtp.messages == []
    code, out, err = run(capsys, held, "undo", "UM-2026-004512")
    assert code == 0, err
    assert outbox(capsys, held)[0]["state"] == "undone"
    assert run(capsys, cfg, "send")[0] == 0  # even with the hold over: nothing to send
    assert smtp.messages == []
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert json.loads(out)[0]["status"] == "open"
    code, _, err = run(capsys, cfg, "undo", "UM-2026-004512")
    assert code != 0 and "nothing to undo" in err


def test_call_needed_logs_attempts_and_keeps_case_in_queue(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, smtp = setup
    code, _, err = run(capsys, cfg, "decide", "UM-2026-004512", "--call-needed", "--note", "Need the PT notes.")
    assert code == 0, err
    code, out, _ = run(
        capsys, cfg, "call", "UM-2026-004512", "--attempt", "--outcome", "voicemail", "--note", "left VM"
    )
    assert code == 0 and "(555) 201-3344" in out
    assert run(capsys, cfg, "send")[0] == 0
    body = email.message_from_bytes(smtp.messages[0].raw, policy=email.policy.default)
    text = body.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "CALL NEEDED" in text and "(555) 010-7000" in text
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert json.loads(out)[0]["status"] == "call_needed"
    code, _, err = run(capsys, cfg, "decide", "UM-2026-004512", "--approve")
    assert code == 0, err
    assert run(capsys, cfg, "send")[0] == 0
    assert len(smtp.messages) == 2
    final = email.message_from_bytes(smtp.messages[1].raw, policy=email.policy.default)
    assert "voicemail" in final.get_body(("plain",)).get_content().lower()  # type: ignore[union-attr]
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert json.loads(out) == []


def test_sigkill_after_server_accepted_resends_once_with_same_message_id(
    setup: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, uq_home: Any
) -> None:
    cfg, _, smtp = setup
    assert run(capsys, cfg, "decide", "UM-2026-004512", "--approve")[0] == 0
    original = _Handler.handle_DATA

    async def accept_then_stall(self: _Handler, *args: Any) -> str:
        answer = await original(self, *args)
        await asyncio.sleep(8)  # the message is accepted; the client never hears the 250 in time
        return answer

    monkeypatch.setattr(_Handler, "handle_DATA", accept_then_stall)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uq.cli", "--config", str(cfg), "send"],
        env=uq_home.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert wait_until(lambda: len(smtp.messages) == 1, timeout=20)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    monkeypatch.setattr(_Handler, "handle_DATA", original)
    assert outbox(capsys, cfg)[0]["state"] == "uncertain"
    code, out, _ = run(capsys, cfg, "send")  # the lease still holds: no second copy yet
    assert code == 0 and "reply to UM-2026-004512: outcome unknown" in out and "Sent folder" in out
    assert len(smtp.messages) == 1
    ctx = Context.open(load_config(cfg))
    time.sleep(ctx.config.smtp.lease_seconds + 0.5)
    assert run(capsys, cfg, "send")[0] == 0
    assert run(capsys, cfg, "send")[0] == 0
    assert len(smtp.messages) == 2, "at most one resend"
    ids = [email.message_from_bytes(m.raw)["Message-ID"] for m in smtp.messages]
    assert ids[0] == ids[1]
    assert any(e.action == "resend_uncertain" for e in ctx.store.audit_entries())
