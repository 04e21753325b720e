"""Outcomes that say what happened, through the CLI with real Dovecot in and aiosmtpd out:
call needed and pend are no determination (no agree/disagree sentence, not counted in
agreement), and a nurse recommendation that approves one part and denies another is a
partial."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.e2e.test_decisions import config_file, outbox, run
from tests.e2e.test_reply_facts import deny
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.smtp import SmtpServer

CASE = (CORPUS_DIR / "01-example-text.eml").read_bytes()
CASE_ID = "UM-2026-004512"
GUIDELINE = "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine (27th ed.)"
RATIONALE = (
    "Records show three weeks of radicular pain with two weeks of NSAIDs and no physical "
    "therapy; MCG requires six weeks of conservative care absent red flags, none documented."
)


def _body(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()  # type: ignore[union-attr,no-any-return]


def _start(dovecot: Dovecot, smtp: SmtpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes) -> Path:
    dovecot.append(raw)
    cfg = config_file(tmp_path / "config.toml", dovecot, smtp)
    assert run(capsys, cfg, "sync", "--once")[0] == 0
    assert run(capsys, cfg, "show", CASE_ID)[0] == 0
    return cfg


def _sent_bodies(capsys: pytest.CaptureFixture[str], cfg: Path, smtp: SmtpServer) -> list[str]:
    code, _, err = run(capsys, cfg, "send")
    assert code == 0, err
    return [_body(m.raw) for m in smtp.messages]


@pytest.mark.parametrize(
    ("flag", "label", "status"),
    [("--call-needed", "CALL NEEDED", "call_needed"), ("--pend", "PENDED - INFORMATION REQUESTED", "pended")],
)
def test_call_needed_and_pend_state_no_agreement(
    flag: str,
    label: str,
    status: str,
    dovecot_fn: Dovecot,
    smtp_server: SmtpServer,
    uq_home: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = _start(dovecot_fn, smtp_server, tmp_path, capsys, CASE)
    code, _, err = run(capsys, cfg, "decide", CASE_ID, flag, "--rationale", "Need the physical therapy notes.")
    assert code == 0, err
    (body,) = _sent_bodies(capsys, cfg, smtp_server)
    assert f"Decision: {label}" in body
    assert "No determination yet" in body
    assert "agree with" not in body and "disagree" not in body
    assert "not yet a coverage determination" in body
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert [c["status"] for c in json.loads(out)] == [status], "still in the queue"
    # the final determination is what counts, once
    code, _, err = deny(capsys, cfg)
    assert code == 0, err
    code, out, _ = run(capsys, cfg, "report", "--json")
    rep = json.loads(out)
    assert rep["decisions"] == 2
    assert rep["agreement_rate"] == 1.0
    assert [r["agrees_with_nurse"] for r in rep["rows"]] == [None, True]


def test_mixed_nurse_recommendation_reads_as_partial_and_a_partial_agrees(
    dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed = CASE.replace(
        b"Nurse Recommendation: Deny - conservative management not yet tried for 6 weeks",
        b"Nurse Recommendation: approve 1 day, deny day 5",
    )
    assert mixed != CASE
    cfg = _start(dovecot_fn, smtp_server, tmp_path, capsys, mixed)
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert json.loads(out)[0]["nurse_recommendation"] == "partial"
    code, _, err = run(
        capsys,
        cfg,
        "decide",
        CASE_ID,
        "--partial",
        "--rationale",
        RATIONALE,
        "--guideline",
        GUIDELINE,
        "--approved",
        "Day 1",
        "--denied",
        "Day 5",
        "--criterion",
        "Not met: 6 weeks of conservative therapy",
    )
    assert code == 0, err
    (body,) = _sent_bodies(capsys, cfg, smtp_server)
    assert "I agree with the nurse's preliminary recommendation (partial approval)." in body
    assert "disagree" not in body
    code, out, _ = run(capsys, cfg, "report", "--json")
    assert json.loads(out)["agreement_rate"] == 1.0
    assert outbox(capsys, cfg)[0]["state"] == "sent"
