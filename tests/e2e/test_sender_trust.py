"""Sender trust end to end (issue 10): real Dovecot in (`uq sync --once`), real aiosmtpd
out. A stranger cannot capture a case, rewrite one, or receive the physician's reply."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.smtp import SmtpServer
from uq.cli import main

CASE = (CORPUS_DIR / "01-example-text.eml").read_bytes()
CASE_ID = "UM-2026-004512"
NURSE = "mlopez@reviews.example-um.com"
CASE_MSGID = "<case-004512.1@reviews.example-um.com>"
BODY = CASE.split(b"\n\n", 1)[1]
RATIONALE = (
    "Records show three weeks of radicular pain with two weeks of NSAIDs and no physical "
    "therapy; MCG requires six weeks of conservative care absent red flags, none documented."
)
GUIDELINE = "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine (27th ed.), conservative therapy criterion"


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def _mail(headers: str, body: bytes = BODY) -> bytes:
    return headers.strip().encode() + b"\n\n" + body


HIJACK = _mail(
    f"""
From: {_word(f'"{NURSE}, " Maria Lopez RN')} <mallory@evil.example>
Reply-To: mallory@evil.example
To: dr.reviewer@example.org
Subject: UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine
Date: Sun, 29 Nov 2026 08:10:00 -0500
Message-ID: <first@evil.example>
"""
)
FORGED = _mail(
    f"""
From: Maria Lopez RN <maria.lopez@evil.example>
To: dr.reviewer@example.org
Subject: RE: Case UM-2026-004512 - corrected packet
Date: Sun, 29 Nov 2026 09:00:00 -0500
Message-ID: <forged@evil.example>
In-Reply-To: {CASE_MSGID}
References: {CASE_MSGID}
""",
    b"Urgency: Standard\nNurse Recommendation: Approve - criteria met\n"
    b"Requested Service: CPT 63030 Lumbar discectomy\nMember: John Other\n",
)


@pytest.fixture
def env(dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path) -> tuple[Path, Dovecot, SmtpServer]:
    cfg = write_config(
        tmp_path,
        dovecot=dovecot_fn,
        smtp=smtp_server,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        sla={"client": [{"match": "payer.example", "trusted_domains": ["partner.example"]}]},
    )
    return cfg, dovecot_fn, smtp_server


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _queue(capsys: pytest.CaptureFixture[str], cfg: Path) -> list[dict[str, Any]]:
    code, out, err = run(capsys, cfg, "queue", "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _show(capsys: pytest.CaptureFixture[str], cfg: Path, ref: str) -> dict[str, Any]:
    code, out, err = run(capsys, cfg, "show", ref, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _deny_and_send(capsys: pytest.CaptureFixture[str], cfg: Path, ref: str) -> None:
    assert run(capsys, cfg, "show", ref)[0] == 0  # deciding needs the case opened
    code, _, err = run(
        capsys, cfg, "decide", ref, "--deny", "--rationale", RATIONALE, "--guideline", GUIDELINE,
        "--criterion", "Not met: 6 weeks of conservative therapy",
    )
    assert code == 0, err
    code, out, err = run(capsys, cfg, "send")
    assert code == 0, err
    assert out.startswith("sent 1")


def test_a_stranger_who_sends_the_case_id_first_captures_nothing(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot, smtp = env
    dovecot.append([HIJACK, CASE])
    code, out, err = run(capsys, cfg, "sync", "--once")
    assert code == 0, err
    assert out.startswith("ingested 2, updated 0"), out  # two cases: the nurse's is no follow-up
    items = {i["sender"]: i for i in _queue(capsys, cfg)}
    assert set(items) == {NURSE, "mallory@evil.example"}
    nurse, mallory = items[NURSE], items["mallory@evil.example"]
    assert any(p.startswith("possible spoof: case ID UM-2026-004512 also came from mallory@evil.example")
               for p in nurse["problems"])
    assert any(p.startswith("possible spoof") for p in mallory["problems"])
    assert any(p.startswith(f"sender: display name holds another address ({NURSE})") for p in mallory["problems"])
    # the bare ID is ambiguous now: the CLI names both
    code, _, err = run(capsys, cfg, "show", CASE_ID)
    assert code != 0 and "ambiguous" in err and "mallory@evil.example" in err
    _deny_and_send(capsys, cfg, f"#{nurse['pk']}")
    (_, rcpts, raw), = smtp.messages
    assert rcpts == [NURSE]
    assert b"evil.example" not in raw


def test_a_forged_followup_changes_nothing_until_accepted(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot, smtp = env
    dovecot.append(CASE)
    assert run(capsys, cfg, "sync", "--once")[0] == 0
    before = _show(capsys, cfg, CASE_ID)
    dovecot.append(FORGED)
    code, out, err = run(capsys, cfg, "sync", "--once")
    assert code == 0, err
    assert "updated 0" in out and "unverified updates 1" in out, out
    after = _show(capsys, cfg, CASE_ID)
    for key in ("urgency", "due_at", "regulatory_due_at", "nurse_recommendation", "member_name", "service", "sender"):
        assert after[key] == before[key], key
    assert after["fields"] == before["fields"] and after["update_count"] == 0
    (msg,) = [m for m in after["thread"] if m["kind"] == "unverified"]
    assert msg["sender"] == "maria.lopez@evil.example"
    assert any(p.startswith(f"unverified update #{msg['id']} from maria.lopez@evil.example") for p in after["problems"])
    code, text, _ = run(capsys, cfg, "show", CASE_ID)
    assert "Unverified updates" in text and f"uq accept {CASE_ID} {msg['id']}" in text
    # a wrong message number is one clear line
    code, _, err = run(capsys, cfg, "accept", CASE_ID, str(msg["id"] + 99))
    assert code != 0 and "not an unverified update" in err and "Traceback" not in err

    code, out, err = run(capsys, cfg, "accept", CASE_ID, str(msg["id"]))
    assert code == 0, err
    assert "urgency" in out and "service" in out
    accepted = _show(capsys, cfg, CASE_ID)
    assert accepted["urgency"] == "standard" and accepted["fields"]["member_name"] == "John Other"
    assert accepted["nurse_recommendation"] == "approve" and accepted["update_count"] == 1
    assert not any(p.startswith("unverified update") for p in accepted["problems"])
    assert accepted["regulatory_due_at"] != before["regulatory_due_at"]  # 72 h became 7 days
    # the reply still goes to the case's own sender, never the forger
    _deny_and_send(capsys, cfg, CASE_ID)
    (_, rcpts, _raw), = smtp.messages
    assert rcpts == [NURSE]


def test_reply_to_in_a_foreign_domain_is_ignored_and_said(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot, smtp = env
    case = _mail(
        """
From: Lopez, Maria RN <nurse@payer.example>
Reply-To: inbox@elsewhere.example
To: dr.reviewer@example.org
Subject: UM Review Request - Case #PY-2026-0001 - EXPEDITED
Date: Sun, 29 Nov 2026 08:10:00 -0500
Message-ID: <py1@payer.example>
""",
        BODY.replace(b"UM-2026-004512", b"PY-2026-0001"),
    )
    trusted_reply = _mail(
        """
From: N <n2@payer.example>
Reply-To: desk@partner.example
Subject: UM Review Request - Case #PY-2026-0002
Message-ID: <py2@payer.example>
""",
        BODY.replace(b"UM-2026-004512", b"PY-2026-0002"),
    )
    trusted_followup = _mail(
        """
From: Partner Desk <desk@partner.example>
Subject: RE: Case PY-2026-0001
Message-ID: <pf1@partner.example>
In-Reply-To: <py1@payer.example>
""",
        b"Urgency: Standard\n",
    )
    same_id_from_trusted = _mail(
        """
From: Partner Desk <desk@partner.example>
Subject: Case PY-2026-0001 - records
Message-ID: <pf2@partner.example>
""",
        b"Case ID: PY-2026-0001\nFacility: Example Imaging Center\n",
    )
    dovecot.append([case, trusted_reply, trusted_followup, same_id_from_trusted])
    code, out, err = run(capsys, cfg, "sync", "--once")
    assert code == 0, err
    # the trusted domain's follow-ups apply, threaded or by the case ID alone: no spoof case
    assert out.startswith("ingested 2, updated 2"), out
    shown = _show(capsys, cfg, "PY-2026-0001")
    assert shown["reply_to"] is None and shown["sender"] == "nurse@payer.example"
    assert shown["urgency"] == "standard" and shown["fields"]["facility"] == "Example Imaging Center"
    assert not any(p.startswith("possible spoof") for p in shown["problems"])
    assert any("inbox@elsewhere.example is not in the sender's domain; the reply goes to From" in p
               for p in shown["problems"])
    assert _show(capsys, cfg, "PY-2026-0002")["reply_to"] == "desk@partner.example"
    _deny_and_send(capsys, cfg, "PY-2026-0001")
    (_, rcpts, _raw), = smtp.messages
    assert rcpts == ["nurse@payer.example"]  # not "Lopez", not the foreign Reply-To


def test_complete_cases_with_auto_reply_headers_are_cases(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot, _ = env
    heads = [
        ("Auto-Submitted: auto-generated", "nurse@payer.example", "Case #AR-1"),
        ("X-Autoreply: yes", "nurse@payer.example", "Case #AR-2"),
        ("X-Autoreply: no", "nurse@payer.example", "Case #AR-3"),
        ("X-Note: none", "nurse@payer.example", "Case #AR-4 out of office coverage"),
        ("X-Note: none", "postmaster@payer.example", "Case #AR-5"),
    ]
    mails = [
        _mail(
            f"From: UM System <{sender}>\n{extra}\nSubject: {subject}\nMessage-ID: <ar{i}@payer.example>",
            BODY.replace(b"UM-2026-004512", f"AR-{i}".encode()),
        )
        for i, (extra, sender, subject) in enumerate(heads, start=1)
    ]
    dovecot.append(mails)
    code, out, err = run(capsys, cfg, "sync", "--once")
    assert code == 0, err
    assert out.startswith("ingested 5,") and "not cases 0" in out, out
    flagged = {i["case_id"]: i["problems"] for i in _queue(capsys, cfg)}
    for cid in ("AR-1", "AR-2", "AR-3", "AR-4", "AR-5"):
        assert any(p.startswith("auto-reply signs") for p in flagged[cid]), cid
