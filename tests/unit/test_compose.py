"""The reply email: threading headers, body content per outcome, PHI minimum, templates."""

from __future__ import annotations

import dataclasses
import email
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from uq.config import ReviewerConfig
from uq.domain import (
    CallAttempt,
    CallOutcome,
    Case,
    CaseFields,
    CaseStatus,
    Decision,
    DeclineReason,
    NurseRecommendation,
    Outcome,
    ReplyContent,
)
from uq.errors import ConfigError, SendError, UqError
from uq.mail.compose import compose_reply, new_message_id, render_preview, reply_subject
from uq.services.reply_content import AttestationFacts, ReviewFacts, build_content

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
CASE_MSGID = "<case-004512.1@reviews.example-um.com>"
MSGID = "<uq.0123456789abcdef0123456789abcdef@example.org>"

FIELDS = CaseFields(
    case_id="UM-2026-004512",
    member_name="Jane Q. Doe",
    member_dob="03/04/1961",
    member_id="EHP123456789",
    diagnosis="M54.16 Radiculopathy, lumbar region",
    service="CPT 72148 MRI lumbar spine without contrast x1",
    guideline="MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine",
    nurse_recommendation=NurseRecommendation.DENY,
    provider_phone="(555) 201-3344",
)

CASE = Case(
    id=7,
    case_id="UM-2026-004512",
    sender="mlopez@reviews.example-um.com",
    sender_name="Maria Lopez RN",
    subject="UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine",
    status=CaseStatus.OPEN,
    arrived_at=datetime(2026, 11, 29, 13, 14, tzinfo=UTC),
    fields=FIELDS,
    message_id=CASE_MSGID,
    references=("<thread-root.1@reviews.example-um.com>",),
)

REVIEWER = ReviewerConfig(
    name="Ann Reviewer",
    credentials="MD, FAAOS",
    specialty="Orthopedic Surgery",
    email="ann.reviewer@example.org",
    phone="(555) 010-0100",
)

RATIONALE = (
    "Only three weeks of NSAIDs are documented and no physical therapy; the criterion "
    "requires six weeks of conservative care or a progressive deficit, neither present."
)


def decision(outcome: Outcome, **kw: object) -> Decision:
    base = Decision(
        id=3,
        case_pk=7,
        outcome=outcome,
        agrees_with_nurse=True,
        rationale=RATIONALE,
        guideline="MCG A-0317 (27th ed.), criterion 2: six weeks of conservative therapy",
        note="",
        decline_reason=None,
        approved_portion=None,
        reviewer="ann",
        decided_at=datetime(2026, 11, 29, 14, 2, tzinfo=UTC),
        seconds_spent=420,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


CALLS = [
    CallAttempt(
        id=2,
        case_pk=7,
        at=datetime(2026, 11, 29, 13, 55, tzinfo=UTC),
        number="(555) 201-3344",
        outcome=CallOutcome.NO_ANSWER,
        note="",
        reviewer="ann",
    ),
    CallAttempt(
        id=1,
        case_pk=7,
        at=datetime(2026, 11, 29, 13, 40, tzinfo=UTC),
        number="(555) 201-3344",
        outcome=CallOutcome.VOICEMAIL,
        note="left call-back number",
        reviewer="ann",
        in_reply=True,
    ),
    CallAttempt(
        id=3,
        case_pk=7,
        at=datetime(2026, 11, 29, 13, 58, tzinfo=UTC),
        number="(555) 201-3344",
        outcome=CallOutcome.REACHED,
        note="private: the attending sounded rushed",
        reviewer="ann",
    ),
]


ALL_OPENED = AttestationFacts(facts=ReviewFacts(packet_opened=True), specialty_matches=True)


def content_for(case: Case, dec: Decision, at: AttestationFacts = ALL_OPENED) -> ReplyContent:
    """The fact-based sentences as the review service builds them (every part opened, the
    specialty matched)."""
    return build_content(
        outcome=dec.outcome,
        agrees=dec.agrees_with_nurse,
        nurse=case.fields.nurse_recommendation,
        decline_reason=dec.decline_reason,
        guideline=dec.guideline or case.fields.guideline or "",
        reviewer=REVIEWER,
        at=at,
    )


def compose(
    case: Case = CASE,
    dec: Decision | None = None,
    calls: list[CallAttempt] | None = None,
    template_dir: Path | None = None,
) -> bytes:
    dec = dec or decision(Outcome.DENY)
    return compose_reply(
        case=case,
        decision=dec,
        content=content_for(case, dec),
        calls=calls or [],
        reviewer=REVIEWER,
        from_address="Ann Reviewer MD <ann.reviewer@example.org>",
        message_id=MSGID,
        now=NOW,
        tz=TZ,
        template_dir=template_dir,
    )


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def body_of(raw: bytes) -> str:
    part = parse(raw).get_body(("plain",))
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def unfold(value: str) -> str:
    return " ".join(value.split())


# ------------------------------------------------------------------ headers


def test_reply_threads_under_the_case_email() -> None:
    raw = compose()
    msg = parse(raw)
    assert msg["In-Reply-To"] == CASE_MSGID
    refs = unfold(msg["References"]).split(" ")
    assert refs == ["<thread-root.1@reviews.example-um.com>", CASE_MSGID]
    assert msg["Message-ID"] == MSGID
    assert msg["X-UQ-Case"] == "UM-2026-004512"
    assert msg["Subject"] == (
        "Re: UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine"
    )
    assert msg["From"].addresses[0].addr_spec == "ann.reviewer@example.org"
    to = msg["To"].addresses
    assert [a.addr_spec for a in to] == ["mlopez@reviews.example-um.com"]
    assert to[0].display_name == "Maria Lopez RN"
    assert "Auto-Submitted" not in msg


def test_raw_message_uses_crlf_and_the_reviewers_offset_in_date() -> None:
    raw = compose()
    assert raw.startswith(b"Subject: Re: UM Review Request")
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    msg = parse(raw)
    assert msg["Date"].datetime == NOW
    assert msg["Date"].endswith("-0500")


def test_long_references_are_kept_whole_after_unfolding() -> None:
    refs = tuple(f"<msg-{i:03d}.abcdefghijklmnop@reviews.example-um.com>" for i in range(40))
    raw = compose(case=dataclasses.replace(CASE, references=refs))
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert unfold(parse(raw)["References"]).split(" ") == [*refs, CASE_MSGID]


def test_references_do_not_repeat_the_case_message_id() -> None:
    case = dataclasses.replace(CASE, references=("<root@x>", CASE_MSGID))
    assert unfold(parse(compose(case=case))["References"]) == f"<root@x> {CASE_MSGID}"


def test_message_ids_without_brackets_are_bracketed() -> None:
    case = dataclasses.replace(CASE, message_id="case-1@x", references=("root@x",))
    msg = parse(compose(case=case))
    assert msg["In-Reply-To"] == "<case-1@x>"
    assert unfold(msg["References"]) == "<root@x> <case-1@x>"


def test_no_case_message_id_means_no_in_reply_to() -> None:
    case = dataclasses.replace(CASE, message_id=None, references=())
    msg = parse(compose(case=case))
    assert "In-Reply-To" not in msg
    assert "References" not in msg


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE: Case UM-1 - additional records", "Re: Case UM-1 - additional records"),
        ("Re: Re: Case UM-1", "Re: Case UM-1"),
        ("re:Case UM-1", "Re: Case UM-1"),
        ("  Case UM-1\r\n  folded", "Re: Case UM-1 folded"),
        ("Fwd: Case UM-1", "Re: Fwd: Case UM-1"),
        ("", "Re: Case UM-1"),
    ],
)
def test_subject_gets_re_exactly_once(subject: str, expected: str) -> None:
    assert reply_subject(subject, "UM-1") == expected
    case = dataclasses.replace(CASE, subject=subject, case_id="UM-1")
    assert parse(compose(case=case))["Subject"] == expected


def test_reply_goes_to_reply_to_when_present() -> None:
    case = dataclasses.replace(CASE, reply_to="um-desk@reviews.example-um.com")
    msg = parse(compose(case=case))
    assert [a.addr_spec for a in msg["To"].addresses] == ["um-desk@reviews.example-um.com"]


def test_non_ascii_subject_and_sender_name_are_encoded() -> None:
    case = dataclasses.replace(CASE, subject="Révision \u2013 Case UM-1", sender_name="María López")
    raw = compose(case=case)
    assert raw.isascii()
    msg = parse(raw)
    assert msg["Subject"] == "Re: Révision \u2013 Case UM-1"
    assert msg["To"].addresses[0].display_name == "María López"


def test_no_reply_address_is_a_clear_error() -> None:
    case = dataclasses.replace(CASE, sender="", reply_to=None)
    with pytest.raises(SendError, match=r"UM-2026-004512.*no address to reply to"):
        compose(case=case)


def test_missing_from_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="from_address"):
        compose_reply(
            case=CASE,
            decision=decision(Outcome.APPROVE),
            content=content_for(CASE, decision(Outcome.APPROVE)),
            calls=[],
            reviewer=REVIEWER,
            from_address=" ",
            message_id=MSGID,
            now=NOW,
            tz=TZ,
        )


def test_new_message_id_is_unique_and_well_formed() -> None:
    ids = {new_message_id("example.org") for _ in range(200)}
    assert len(ids) == 200
    for mid in ids:
        assert re.fullmatch(r"<uq\.[0-9a-f]{32}@example\.org>", mid)
    assert new_message_id("Dr Ann <ann@example.org>").endswith("@example.org>")
    assert new_message_id("").endswith("@localhost>")


# ------------------------------------------------------------------ body per outcome

COMMON = [
    "UM-2026-004512",
    "Member: J.D.",
    "CPT 72148 MRI lumbar spine without contrast x1",
    "Ann Reviewer, MD, FAAOS",
    "Orthopedic Surgery",
    "Decided: 2026-11-29 09:02 EST",
    "My compensation is not tied to the outcome of this review.",
]


def test_deny_body_carries_every_required_part() -> None:
    body = body_of(compose(dec=decision(Outcome.DENY)))
    for part in [
        *COMMON,
        "Decision: DENY",
        "I agree with the nurse's preliminary recommendation (deny).",
        RATIONALE,
        "MCG A-0317 (27th ed.), criterion 2: six weeks of conservative therapy",
        "I have no conflict of interest in this case.",
        "I reviewed all the records submitted with this case.",
        "same or a similar specialty (Orthopedic Surgery)",
        "This is a coverage determination, not treatment advice",
    ]:
        assert part in body, part


def test_approve_body_disagreeing_with_the_nurse() -> None:
    dec = decision(Outcome.APPROVE, agrees_with_nurse=False, rationale="", guideline="")
    body = body_of(compose(dec=dec))
    for part in COMMON:
        assert part in body, part
    assert "Decision: APPROVE" in body
    assert "I disagree with the nurse's preliminary recommendation (deny)." in body
    assert "Rationale:" not in body
    # no guideline of its own: the one the nurse cited is the one relied on
    assert "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine" in body
    assert "I have no conflict of interest in this case." in body


def test_partial_body_says_what_was_approved() -> None:
    dec = decision(Outcome.PARTIAL, approved_portion="MRI lumbar spine without contrast, 1 unit")
    body = body_of(compose(dec=dec))
    for part in COMMON:
        assert part in body, part
    assert "Decision: PARTIAL APPROVAL" in body
    assert "Approved: MRI lumbar spine without contrast, 1 unit" in body
    assert RATIONALE in body


def test_call_needed_body_gives_call_back_details_and_the_call_log() -> None:
    nurse_pend = dataclasses.replace(FIELDS, nurse_recommendation=NurseRecommendation.PEND)
    case = dataclasses.replace(CASE, fields=nurse_pend)
    dec = decision(Outcome.CALL_NEEDED, rationale="", note="Need the PT notes before deciding.")
    body = body_of(compose(case=case, dec=dec, calls=CALLS))
    for part in COMMON:
        assert part in body, part
    assert "Decision: CALL NEEDED" in body
    assert "peer-to-peer call" in body
    assert "call me back at (555) 010-0100 or email me at ann.reviewer@example.org" in body
    assert "No determination yet; the nurse's preliminary recommendation was: pend" in body
    assert "I agree" not in body and "I disagree" not in body
    assert "Need the PT notes before deciding." in body
    assert "not yet a coverage determination" in body
    log = body[body.index("Peer-to-peer call attempts:") :]
    first = log.index("2026-11-29 08:40 EST, (555) 201-3344: voicemail left; left call-back number")
    second = log.index("2026-11-29 08:55 EST, (555) 201-3344: no answer")
    assert first < second  # in time order, whatever order the store gave
    assert "2026-11-29 08:58 EST, (555) 201-3344: reached" in log
    assert "rushed" not in body, "a call note is private unless marked for the reply"


def test_call_needed_without_phone_or_email_still_asks_for_contact() -> None:
    body = render_preview(
        case=CASE,
        decision=decision(Outcome.CALL_NEEDED),
        content=content_for(CASE, decision(Outcome.CALL_NEEDED)),
        calls=[],
        reviewer=ReviewerConfig(name="Ann Reviewer"),
        tz=TZ,
    )
    assert "Please ask the provider to contact me." in body


def test_decline_for_conflict_of_interest_never_claims_no_conflict() -> None:
    dec = decision(
        Outcome.DECLINE,
        agrees_with_nurse=None,
        rationale="",
        guideline="",
        decline_reason=DeclineReason.CONFLICT_OF_INTEREST,
    )
    body = body_of(compose(dec=dec))
    assert "Decision: DECLINED" in body
    assert "Reason: conflict of interest" in body
    assert "no conflict of interest" not in body.lower()
    assert "I have a conflict of interest in this case" in body
    assert "reviewed all the records" not in body
    assert "I made no coverage determination" in body
    assert "neither agree nor disagree" in body


def test_decline_outside_specialty_does_not_claim_same_specialty() -> None:
    dec = decision(
        Outcome.DECLINE,
        agrees_with_nurse=None,
        rationale="",
        guideline="",
        decline_reason=DeclineReason.OUTSIDE_SPECIALTY,
    )
    body = body_of(compose(dec=dec))
    assert "Reason: outside my specialty" in body
    assert "same or a similar specialty" not in body
    assert "I have no conflict of interest in this case" in body
    assert "outside my specialty (Orthopedic Surgery)" in body


def test_unknown_nurse_recommendation_is_said_plainly() -> None:
    unknown = dataclasses.replace(FIELDS, nurse_recommendation=NurseRecommendation.UNKNOWN)
    case = dataclasses.replace(CASE, fields=unknown)
    body = body_of(compose(case=case, dec=decision(Outcome.APPROVE, agrees_with_nurse=None)))
    assert "did not state a preliminary nurse recommendation" in body
    assert "I agree" not in body
    assert "I disagree" not in body


@pytest.mark.parametrize("outcome", list(Outcome))
def test_body_never_carries_member_name_dob_or_member_id(outcome: Outcome) -> None:
    dec = decision(
        outcome,
        approved_portion="1 unit",
        decline_reason=DeclineReason.OTHER if outcome is Outcome.DECLINE else None,
    )
    raw = compose(dec=dec, calls=CALLS)
    body = body_of(raw)
    for secret in ("Jane", "Doe", "03/04/1961", "1961", "EHP123456789"):
        assert secret not in body
        assert secret.encode() not in raw


def test_member_id_stands_in_when_there_is_no_name() -> None:
    no_name = dataclasses.replace(FIELDS, member_name=None)
    body = body_of(compose(case=dataclasses.replace(CASE, fields=no_name)))
    assert "Member: EHP123456789" in body


def test_preview_is_the_body_of_the_message() -> None:
    dec = decision(Outcome.DENY)
    preview = render_preview(
        case=CASE, decision=dec, content=content_for(CASE, dec), calls=CALLS, reviewer=REVIEWER, tz=TZ
    )
    assert body_of(compose(dec=dec, calls=CALLS)) == preview
    assert preview.endswith("\n")
    assert not preview.endswith("\n\n")
    assert "\n\n\n" not in preview


def test_non_ascii_body_round_trips() -> None:
    dec = decision(Outcome.DENY, rationale=RATIONALE + " Résumé of PT: none — 0 visits.")
    raw = compose(dec=dec)
    assert raw.isascii()
    assert "Résumé of PT: none — 0 visits." in body_of(raw)


# ------------------------------------------------------------------ templates


def test_user_template_overrides_the_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "reply.txt.j2").write_text(
        "{{ decision }} for {{ case_id }} ({{ member }}) by {{ reviewer.name }}\n"
        "{% for line in attestation %}* {{ line }}\n{% endfor %}",
        encoding="utf-8",
    )
    body = body_of(compose(template_dir=tmp_path))
    assert body.startswith("DENY for UM-2026-004512 (J.D.) by Ann Reviewer\n")
    assert "* I have no conflict of interest in this case." in body
    assert "Rationale:" not in body


def test_a_template_dir_without_the_file_falls_back_to_the_bundled_one(tmp_path: Path) -> None:
    assert body_of(compose(template_dir=tmp_path)) == body_of(compose())


def test_template_syntax_error_is_a_one_line_config_error(tmp_path: Path) -> None:
    path = tmp_path / "reply.txt.j2"
    path.write_text("Case {{ case_id }}\n{% if outcome %}\nno endif\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        compose(template_dir=tmp_path)
    message = str(err.value)
    assert message.startswith(f"reply template {path}: ")
    assert "(line 3)" in message
    assert "\n" not in message


def test_undefined_name_in_template_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "reply.txt.j2"
    path.write_text("Case {{ case_id }}\n\nMember: {{ member_name }}\n", encoding="utf-8")
    with pytest.raises(UqError) as err:
        compose(template_dir=tmp_path)
    assert isinstance(err.value, ConfigError)
    message = str(err.value)
    assert message == f"reply template {path}: 'member_name' is undefined (line 3)"


def test_a_runtime_failure_in_a_template_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "reply.txt.j2"
    path.write_text("Case {{ case_id }}\n{{ calls + 1 }}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^reply template .*\(line 2\)$"):
        compose(template_dir=tmp_path)


def test_a_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    path = tmp_path / "reply.txt.j2"
    path.write_text("{{ case_id.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reply template"):
        compose(template_dir=tmp_path)


def test_bundled_template_is_package_data() -> None:
    from importlib.resources import files

    source = files("uq").joinpath("templates", "reply.txt.j2").read_text(encoding="utf-8")
    assert "attestation" in source
    assert "member_name" not in source.replace("no member name", "")
