"""Replies a physician can sign, through the CLI with real Dovecot in and aiosmtpd out: every
attestation sentence rests on a recorded fact, advice is stopped wherever it would leave
uq, and --preview shows the exact reply without saving anything."""

from __future__ import annotations

import email
import email.policy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.e2e.test_decisions import config_file, outbox, run
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import to_toml
from tests.fixtures.smtp import SmtpServer

CASE = (CORPUS_DIR / "01-example-text.eml").read_bytes()  # UM-2026-004512, orthopaedic surgery, deny
PDF_CASE = (CORPUS_DIR / "40-body-and-pdf.eml").read_bytes()  # PB-2026-0040, body + clinicals.pdf
CASE_ID = "UM-2026-004512"
GUIDELINE = "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine (27th ed.)"
RATIONALE = (
    "Records show three weeks of radicular pain with two weeks of NSAIDs and no physical "
    "therapy; MCG requires six weeks of conservative care absent red flags, none documented."
)
NOT_MET = "Not met: 6 weeks of conservative therapy"
ALL_RECORDS = "I reviewed all the records submitted with this case."
SAME_SPECIALTY = "same or a similar specialty"
ADVICE = "suggest they just order a home sleep test and start CPAP"


def _body(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr,no-any-return]


@pytest.fixture
def start(
    dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Any:
    """start(*raw_emails, opened=CASE_ID, **reviewer) → the config path, with the emails
    synced in and the case `opened` shown (None: left unopened)."""

    def go(*raws: bytes, opened: str | None = CASE_ID, **reviewer: Any) -> Path:
        for raw in raws:
            dovecot_fn.append(raw)
        cfg = config_file(tmp_path / "config.toml", dovecot_fn, smtp_server)
        data = tomllib.loads(cfg.read_text())
        data["reviewer"].update({"license_states": ["NY"], "license_number": "NY-123456", **reviewer})
        cfg.write_text(to_toml(data))
        assert run(capsys, cfg, "sync", "--once")[0] == 0
        if opened:
            assert run(capsys, cfg, "show", opened)[0] == 0
        return cfg

    return go


def _sent(capsys: pytest.CaptureFixture[str], cfg: Path, smtp: SmtpServer) -> str:
    code, _, err = run(capsys, cfg, "send")
    assert code == 0, err
    return _body(smtp.messages[-1].raw)


def deny(capsys: pytest.CaptureFixture[str], cfg: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        capsys,
        cfg,
        "decide",
        CASE_ID,
        "--deny",
        "--rationale",
        RATIONALE,
        "--guideline",
        GUIDELINE,
        "--criterion",
        NOT_MET,
        *extra,
    )


# ------------------------------------------------------------------ opened or not


def test_deciding_an_unopened_case_is_refused(start: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = start(CASE, opened=None)
    code, _, err = deny(capsys, cfg)
    assert code == 7 and err.count("\n") == 1
    assert f"case {CASE_ID} was never opened" in err and f"uq show {CASE_ID}" in err
    code, _, err = run(capsys, cfg, "decide", CASE_ID, "--approve")
    assert code == 7 and "never opened" in err
    assert outbox(capsys, cfg) == []
    assert run(capsys, cfg, "show", CASE_ID)[0] == 0
    assert deny(capsys, cfg)[0] == 0


def test_packet_opened_but_not_its_pdf_claims_no_full_review(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(PDF_CASE, opened="PB-2026-0040")
    code, _, err = run(capsys, cfg, "decide", "PB-2026-0040", "--approve")
    assert code == 0, err
    assert "not every part was opened (1 of 1 attachments)" in err
    body = _sent(capsys, cfg, smtp_server)
    assert ALL_RECORDS not in body and "reviewed all" not in body
    assert "I reviewed the case packet." in body


def test_packet_and_pdf_opened_claims_the_full_review(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = start(PDF_CASE, opened="PB-2026-0040")
    code = run(capsys, cfg, "show", "PB-2026-0040", "--attachment", "1")[0]
    assert code == 0
    code, _, err = run(capsys, cfg, "show", "PB-2026-0040", "--attachment", "2")
    assert code == 1 and "no attachment #2" in err
    code, _, err = run(capsys, cfg, "decide", "PB-2026-0040", "--approve")
    assert code == 0 and "not every part" not in err
    assert ALL_RECORDS in _sent(capsys, cfg, smtp_server)
    code, out, _ = run(capsys, cfg, "audit", "export")
    actions = [(e["action"], e["detail"]) for e in json.loads(out)]
    assert ("opened_attachment", "attachment 1") in actions


def test_attest_reviewed_confirms_the_full_review_and_is_audited(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(PDF_CASE, opened="PB-2026-0040")
    code, _, err = run(capsys, cfg, "decide", "PB-2026-0040", "--approve", "--attest-reviewed")
    assert code == 0, err
    assert ALL_RECORDS in _sent(capsys, cfg, smtp_server)
    code, out, _ = run(capsys, cfg, "audit", "export")
    decided = [e["detail"] for e in json.loads(out) if e["action"] == "decided"]
    assert "reviewer attested all records reviewed" in decided[0]


# ------------------------------------------------------------------ specialty and licence


def test_cardiology_case_by_a_family_medicine_reviewer_needs_confirmation(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cardiology = CASE.replace(b"Alan Smith, MD (Orthopedic Surgery)", b"Alan Smith, MD (Cardiology)")
    assert cardiology != CASE
    cfg = start(cardiology, specialty="Family Medicine", similar_specialties=["Internal Medicine"])
    code, _, err = deny(capsys, cfg)
    assert code == 7 and err.count("\n") == 1
    assert "specialty (Cardiology) is outside yours (Family Medicine" in err and "--force" in err
    assert outbox(capsys, cfg) == []
    code, _, err = deny(capsys, cfg, "--force")
    assert code == 0, err
    body = _sent(capsys, cfg, smtp_server)
    assert SAME_SPECIALTY not in body
    assert "Specialty: Family Medicine" in body
    assert "Licence: NY; licence no. NY-123456" in body
    code, out, _ = run(capsys, cfg, "audit", "export")
    assert "confirmed outside specialty" in next(e["detail"] for e in json.loads(out) if e["action"] == "decided")


def test_matching_specialty_is_attested_and_licence_line_is_in_every_reply(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)  # Orthopedic Surgery on both sides
    assert deny(capsys, cfg)[0] == 0
    body = _sent(capsys, cfg, smtp_server)
    assert f"I practise in the {SAME_SPECIALTY} (Orthopedic Surgery)" in body
    assert "Licence: NY; licence no. NY-123456" in body
    assert ALL_RECORDS in body  # a plain-text case: the packet is every part


def test_a_case_in_a_state_without_licence_says_so(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    texas = CASE.replace(
        b"Provider Phone: (555) 201-3344",
        b"Facility: Example Spine Center, Austin, TX 78701\r\nProvider Phone: (555) 201-3344",
    )
    cfg = start(texas)
    code, _, err = deny(capsys, cfg)
    assert code == 0, err
    assert "the case names TX, where you hold no licence" in err
    body = _sent(capsys, cfg, smtp_server)
    assert "I am not licensed in TX, the state named in the case (licensed in: NY)." in body


# ------------------------------------------------------------------ treatment advice everywhere


def test_advice_in_a_marked_call_note_stops_the_send(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)
    # a private note (the default) never leaves uq, so it stops nothing
    assert run(capsys, cfg, "call", CASE_ID, "--attempt", "--outcome", "reached", "--note", ADVICE)[0] == 0
    code, out, err = deny(capsys, cfg, "--preview")
    assert code == 0 and ADVICE not in out and "warning" not in err
    assert (
        run(capsys, cfg, "call", CASE_ID, "--attempt", "--outcome", "reached", "--note", ADVICE, "--in-reply")[0] == 0
    )
    code, _, err = deny(capsys, cfg)
    assert code == 7 and "call note:" in err and "treatment advice" in err
    assert outbox(capsys, cfg) == []
    code, _, err = deny(capsys, cfg, "--force", "--statement", "The call notes are my record of the conversation.")
    assert code == 0, err
    body = _sent(capsys, cfg, smtp_server)
    assert body.count(ADVICE) == 1, "only the marked note is sent"
    assert "not treatment advice" not in body
    assert "The call notes are my record of the conversation." in body


def test_advice_in_an_approved_portion_stops_the_send(start: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = start(CASE)
    args = (
        "decide",
        CASE_ID,
        "--partial",
        "--rationale",
        RATIONALE,
        "--guideline",
        GUIDELINE,
        "--criterion",
        NOT_MET,
        "--approved",
        "X-ray now; a 6-week course of physical therapy would be the appropriate next step",
        "--denied",
        "MRI lumbar spine",
    )
    code, _, err = run(capsys, cfg, *args)
    assert code == 7 and "approved portion:" in err and "--force" in err
    assert outbox(capsys, cfg) == []


def test_advice_in_the_guideline_stops_the_send_and_forcing_never_says_not_advice(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)
    guideline = GUIDELINE + "; consider physical therapy first"
    args = ("decide", CASE_ID, "--deny", "--rationale", RATIONALE, "--guideline", guideline, "--criterion", NOT_MET)
    code, _, err = run(capsys, cfg, *args)
    assert code == 7 and "guideline:" in err
    assert outbox(capsys, cfg) == []
    code, _, err = run(capsys, cfg, *args, "--force")
    assert code == 0, err
    body = _sent(capsys, cfg, smtp_server)
    assert "not treatment advice" not in body
    assert "treatment decisions remain with the treating provider and the member" in body


# ------------------------------------------------------------------ criteria, call-back, preview


def test_denial_lists_the_criteria_relied_on_with_call_back_and_what_would_change(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)
    code, _, err = run(capsys, cfg, "decide", CASE_ID, "--deny", "--rationale", RATIONALE, "--guideline", GUIDELINE)
    assert code == 7 and "at least one criterion" in err
    code, _, err = deny(
        capsys,
        cfg,
        "--criterion",
        "Not met: Progressive neurologic deficit",
        "--would-change",
        "PT notes showing six weeks of therapy without improvement.",
    )
    assert code == 0, err
    body = _sent(capsys, cfg, smtp_server)
    block = body[body.index("Guideline relied on:") :]
    assert block.startswith(
        f"Guideline relied on: {GUIDELINE}\nCriteria relied on:\n- {NOT_MET}\n"
        "- Not met: Progressive neurologic deficit\n"
    )
    assert "What would change this decision: PT notes showing six weeks" in body
    assert "To discuss this determination, call (555) 010-7000 or email reviewer@example.test." in body


def test_a_guideline_without_edition_says_so(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)
    code, _, err = run(
        capsys, cfg, "decide", CASE_ID, "--deny", "--rationale", RATIONALE, "--criterion", NOT_MET
    )  # the nurse's guideline title, which names no edition
    assert code == 0, err
    body = _sent(capsys, cfg, smtp_server)
    assert "Guideline relied on: MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine (edition not stated)" in body


def test_preview_prints_the_exact_reply_and_queues_nothing(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)
    code, out, err = deny(capsys, cfg, "--preview")
    assert code == 0, err
    head, _, body = out.partition("\n\n")
    assert head == (
        "To: Maria Lopez RN <mlopez@reviews.example-um.com>\n"
        "Subject: Re: UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine"
    )
    assert outbox(capsys, cfg) == []
    code, out, _ = run(capsys, cfg, "queue", "--json")
    assert json.loads(out)[0]["status"] == "open"
    code, qout, _ = run(capsys, cfg, "audit", "export")
    assert "decided" not in [e["action"] for e in json.loads(qout)]
    assert deny(capsys, cfg)[0] == 0
    sent = _sent(capsys, cfg, smtp_server)
    # the same text, but for the time of the decision
    strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith("Decided:")]  # noqa: E731
    assert strip(sent) == strip(body)


def test_decline_other_needs_its_reason(
    start: Any, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = start(CASE)
    code, _, err = run(capsys, cfg, "decide", CASE_ID, "--decline", "--reason", "other")
    assert code == 7 and '"other" needs the reason in words' in err
    code, _, err = run(
        capsys, cfg, "decide", CASE_ID, "--decline", "--reason", "other", "--rationale", "I referred this member."
    )
    assert code == 0, err
    body = _sent(capsys, cfg, smtp_server)
    assert "Reason: other (explained below)" in body and "Reason for declining:\nI referred this member." in body
