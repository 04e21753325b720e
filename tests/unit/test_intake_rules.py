"""The intake rules (uq.intake) on plain values, and the parser's raw-header addresses and
content-first classification that feed them. No database, no server."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from uq import intake
from uq.config import ClientPolicy, SlaConfig
from uq.domain import Case, CaseFields, CaseStatus, MessageKind, NurseRecommendation, ReviewType, Urgency
from uq.intake import Route
from uq.mail.mime import address
from uq.mail.parse import parse_email

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
FULL = CaseFields(
    case_id="UM-1",
    review_type=ReviewType.PROSPECTIVE,
    urgency=Urgency.URGENT,
    member_name="Jane Q. Doe",
    service="CPT 72148 MRI",
    nurse_recommendation=NurseRecommendation.DENY,
)
BODY = (
    "Case ID: UM-2026-000777\r\nReview Type: Prospective\r\nUrgency: Expedited\r\n"
    "Received: 11/29/2026 7:50 AM ET\r\nMember: Jane Q. Doe\r\n"
    "Requested Service: CPT 72148 MRI lumbar spine\r\nNurse Recommendation: Deny - not yet\r\n"
)


def _case(sender: str = "nurse1@payer.example", client: str | None = None) -> Case:
    return Case(1, "UM-1", sender, "s", CaseStatus.OPEN, NOW, FULL if client is None else CaseFields(client=client))


def _mail(head: str, body: str = BODY) -> bytes:
    return (head.strip("\n").replace("\n", "\r\n") + "\r\nMessage-ID: <m1@payer.example>\r\n\r\n" + body).encode()


# ---------------------------------------------------------------- addresses from the raw header


def _b64_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def test_an_encoded_display_name_never_becomes_the_address() -> None:
    name = _b64_word('"nurse1@payer.example, " Maria Lopez')
    raw = _mail(f"From: {name} <mallory@evil.example>\nSubject: Case UM-2026-000777")
    p = parse_email(raw, tz=TZ)
    assert p.sender == "mallory@evil.example"
    assert p.sender_name == '"nurse1@payer.example, " Maria Lopez'
    assert any(x.startswith("sender: display name holds another address (nurse1@payer.example)") for x in p.problems)


@pytest.mark.parametrize(
    ("raw", "name", "addr"),
    [
        ("Lopez, Maria RN <mlopez@payer.example>", "Lopez, Maria RN", "mlopez@payer.example"),
        ("Maria Lopez; RN <mlopez@payer.example>", "Maria Lopez; RN", "mlopez@payer.example"),
        ("Lopez [RN] <mlopez@payer.example>", "Lopez [RN]", "mlopez@payer.example"),
        ("Lopez <RN> <MLopez@Payer.example>", "Lopez <RN>", "mlopez@payer.example"),
        ('"Lopez, Maria" <mlopez@payer.example>', "Lopez, Maria", "mlopez@payer.example"),
        ("Maria (RN) <mlopez@payer.example>", "Maria (RN)", "mlopez@payer.example"),
        ("mlopez@payer.example", "", "mlopez@payer.example"),
        ("=?utf-8?q?Ren=C3=A9e_L=C3=B3pez?= <rl@payer.example>", "Renée López", "rl@payer.example"),
        ("A <a@payer.example>, B <b@payer.example>", "A", "a@payer.example"),
        ("nobody", "", ""),
    ],
)
def test_names_with_commas_brackets_and_semicolons_keep_the_address(raw: str, name: str, addr: str) -> None:
    assert address(raw) == (name, addr)


def test_a_raw_utf8_from_header_keeps_name_and_address() -> None:
    p = parse_email(_mail("From: Renée López <rl@payer.example>\nSubject: Case UM-2026-000777"), tz=TZ)
    assert (p.sender_name, p.sender) == ("Renée López", "rl@payer.example")


# ---------------------------------------------------------------- content first


@pytest.mark.parametrize(
    "head",
    [
        "From: N <n@payer.example>\nAuto-Submitted: auto-generated\nSubject: Case UM-2026-000777",
        "From: N <n@payer.example>\nX-Autoreply: yes\nSubject: Case UM-2026-000777",
        "From: N <n@payer.example>\nX-Autoreply: \nSubject: Case UM-2026-000777",
        "From: N <n@payer.example>\nSubject: Case UM-2026-000777 (I am out of office, sent by the system)",
        "From: Mail System <postmaster@payer.example>\nSubject: Case UM-2026-000777",
        "From: N <n@payer.example>\nPrecedence: auto_reply\nSubject: Case UM-2026-000777",
    ],
)
def test_a_whole_case_is_a_case_whatever_its_auto_reply_signs(head: str) -> None:
    p = parse_email(_mail(head), tz=TZ)
    assert p.kind is MessageKind.CASE
    assert p.fields.case_id == "UM-2026-000777"
    assert any(x.startswith("auto-reply signs (") for x in p.problems), p.problems


@pytest.mark.parametrize(
    "head",
    [
        "From: N <n@payer.example>\nAuto-Submitted: auto-replied\nSubject: Automatic reply: Case UM-2026-000777",
        "From: N <n@payer.example>\nSubject: Out of office: Case UM-2026-000777",
        "From: Mail System <postmaster@payer.example>\nSubject: Undeliverable: Case UM-2026-000777",
    ],
)
def test_signs_decide_for_what_is_not_recognisably_a_case(head: str) -> None:
    p = parse_email(_mail(head, "I am away until Monday.\r\nCase ID: UM-2026-000777\r\n"), tz=TZ)
    assert p.kind is MessageKind.NOT_CASE


def test_message_kind_rules() -> None:
    assert intake.message_kind(FULL, 6, automated="auto-reply (X-Autoreply)", reply=False, bulk=False).kind is (
        MessageKind.CASE
    )
    few = CaseFields(case_id="UM-1", urgency=Urgency.URGENT)
    v = intake.message_kind(few, 2, automated="out-of-office reply", reply=False, bulk=False)
    assert (v.kind, v.reason) == (MessageKind.NOT_CASE, "out-of-office reply")
    assert intake.message_kind(few, 2, automated=None, reply=False, bulk=False).kind is MessageKind.CASE
    none = CaseFields()
    assert intake.message_kind(none, 1, automated=None, reply=True, bulk=False).reason == "reply without case fields"
    assert intake.message_kind(none, 1, automated=None, reply=False, bulk=True).reason.startswith("newsletter")
    assert intake.message_kind(none, 3, automated=None, reply=False, bulk=False).kind is MessageKind.CASE


# ---------------------------------------------------------------- trust


def test_only_the_case_sender_or_a_trusted_domain_may_update() -> None:
    case = _case()
    assert intake.may_update("nurse1@payer.example", case, ())
    assert not intake.may_update("nurse2@payer.example", case, ())  # same domain is not enough
    assert not intake.may_update("mallory@evil.example", case, ())
    assert not intake.may_update("", case, ())
    assert intake.may_update("nurse2@payer.example", case, ("payer.example",))
    assert intake.may_update("x@um.payer.example", case, ("payer.example",))
    assert not intake.may_update("x@notpayer.example", case, ("payer.example",))


def test_trusted_domains_come_from_the_matching_client_policy() -> None:
    sla = SlaConfig(client=[ClientPolicy(match="payer.example", trusted_domains=["payer-partner.example"])])
    assert intake.trusted_domains(_case(), sla) == ("payer-partner.example",)
    assert intake.trusted_domains(_case("n@other.example"), sla) == ()


@pytest.mark.parametrize(
    ("reply_to", "trusted", "kept"),
    [
        (None, (), None),
        ("queue@payer.example", (), "queue@payer.example"),
        ("mallory@evil.example", (), None),
        ("intake@partner.example", ("partner.example",), "intake@partner.example"),
    ],
)
def test_reply_to_only_in_the_senders_or_a_trusted_domain(
    reply_to: str | None, trusted: tuple[str, ...], kept: str | None
) -> None:
    got, flag = intake.reply_address("nurse1@payer.example", reply_to, trusted)
    assert got == kept
    assert (flag is not None) == (reply_to is not None and kept is None)
    if flag:
        assert "the reply goes to From (nurse1@payer.example)" in flag


def test_route() -> None:
    case = _case()
    kw = {"thread_case": case, "same_sender_case": None, "trusted": ()}
    assert intake.route(MessageKind.CASE, automated=False, sender="nurse1@payer.example", **kw) == (Route.UPDATE, case)
    assert intake.route(MessageKind.CASE, automated=False, sender="m@evil.example", **kw) == (Route.UNVERIFIED, case)
    assert intake.route(MessageKind.NOT_CASE, automated=True, sender="m@evil.example", **kw) == (Route.NOT_CASE, None)
    none = {"thread_case": None, "same_sender_case": None, "trusted": ()}
    assert intake.route(MessageKind.CASE, automated=False, sender="m@evil.example", **none) == (Route.NEW, None)


def test_a_followup_merges_only_what_it_carries_and_never_the_id() -> None:
    new = CaseFields(case_id="OTHER", urgency=Urgency.STANDARD, service="", member_name=None)
    merged, changed = intake.merge_followup_fields(FULL, new)
    assert changed == ["urgency"]
    assert merged.case_id == "UM-1" and merged.urgency is Urgency.STANDARD and merged.service == FULL.service
    same, none = intake.merge_followup_fields(FULL, CaseFields())
    assert same is FULL and none == []


def test_flags_name_the_message_and_can_be_recognised() -> None:
    flag = intake.unverified_flag("m@evil.example", 12, "UM-1")
    assert "uq accept UM-1 12" in flag and intake.is_unverified_flag(flag, 12)
    assert not intake.is_unverified_flag(flag, 1)
    assert "nurse1@payer.example" in intake.spoof_flag("UM-1", ["nurse1@payer.example"])
    assert intake.sender_flags("m@evil.example", "Maria <nurse1@payer.example>")
    assert intake.sender_flags("nurse1@payer.example", "nurse1@payer.example") == ()


def test_a_pdf_fills_only_what_the_case_lacks() -> None:
    found = CaseFields(case_id="X", urgency=Urgency.STANDARD, facility="Example Imaging", service="")
    merged, changed = intake.fill_missing(FULL, found)
    assert changed == ["facility"]
    assert merged.urgency is Urgency.URGENT and merged.case_id == "UM-1" and merged.facility == "Example Imaging"


def test_only_a_plain_reply_among_non_cases_may_update() -> None:
    assert not intake.never_updates(MessageKind.NOT_CASE, intake.REPLY_WITHOUT_FIELDS)
    assert intake.never_updates(MessageKind.NOT_CASE, "auto-reply (X-Autoreply)")
    assert not intake.never_updates(MessageKind.CASE, None)


def test_a_colleague_at_a_trusted_domain_continues_the_case() -> None:
    sla = SlaConfig(client=[ClientPolicy(match="payer.example", trusted_domains=["payer.example"])])
    case = _case()
    assert intake.trusted_case("nurse2@payer.example", [case], sla) is case
    assert intake.trusted_case("mallory@evil.example", [case], sla) is None
    assert intake.trusted_case("nurse2@payer.example", [case], SlaConfig()) is None
