"""Targeted parser rules: dates and zones, aliases, multi-field lines, sections, vocabularies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from uq.config import ParseConfig
from uq.domain import MessageKind, NurseRecommendation, ReviewType, Urgency
from uq.mail import values
from uq.mail.dates import parse_when
from uq.mail.html_text import html_to_text
from uq.mail.labels import FIELD_ALIASES, build_table, extract
from uq.mail.parse import parse_email

NY = ZoneInfo("America/New_York")
HEAD = b"From: N <n@x.example-um.com>\nSubject: s\nMessage-ID: <m@x>\n\n"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2026-11-29 08:14", datetime(2026, 11, 29, 8, 14, tzinfo=NY)),
        ("11/29/2026 8:14 AM ET", datetime(2026, 11, 29, 8, 14, tzinfo=NY)),
        ("11/29/2026 8:14 PM EST", datetime(2026, 11, 29, 20, 14, tzinfo=NY)),
        ("Nov 29, 2026 08:14 EST", datetime(2026, 11, 29, 8, 14, tzinfo=NY)),
        ("29 Nov 2026", datetime(2026, 11, 29, tzinfo=NY)),
        ("July 4, 2026 12:00 PM EDT", datetime(2026, 7, 4, 12, 0, tzinfo=NY)),
        ("11/29/26 07:00 CT", datetime(2026, 11, 29, 7, tzinfo=ZoneInfo("America/Chicago"))),
        ("2026-11-29 07:00 CDT", datetime(2026, 11, 29, 7, tzinfo=ZoneInfo("America/Chicago"))),
        ("2026-11-29 07:00 MST", datetime(2026, 11, 29, 7, tzinfo=ZoneInfo("America/Denver"))),
        ("2026-11-29 07:00 PT", datetime(2026, 11, 29, 7, tzinfo=ZoneInfo("America/Los_Angeles"))),
        ("2026-11-29 07:00 GMT", datetime(2026, 11, 29, 7, tzinfo=UTC)),
        ("2026-11-29T07:00:00Z", datetime(2026, 11, 29, 7, tzinfo=UTC)),
        ("2026-11-29 07:00 +0530", datetime(2026, 11, 29, 7,
                                            tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        ("Sun, 29 Nov 2026 08:14:00 -0500", datetime(2026, 11, 29, 8, 14, tzinfo=NY)),
        ("12 pm 2026-11-29", None),
        ("31/31/2026", None),
        ("2026-02-30", None),
        ("11/29/2026 13:00 PM", None),
        ("11/29/2026 8:00 XYZ", None),
        ("tomorrow", None),
    ],
)
def test_dates(text: str, want: datetime | None) -> None:
    got = parse_when(text, NY)
    assert got == want
    if got is not None:
        assert got.tzinfo is not None
        assert want is not None and got.utcoffset() == want.utcoffset()


def test_zone_abbreviation_means_iana_zone_at_that_date() -> None:
    summer = parse_when("07/01/2026 9:00 AM ET", NY)
    winter = parse_when("12/01/2026 9:00 AM ET", NY)
    assert summer is not None and summer.utcoffset() == timedelta(hours=-4)
    assert winter is not None and winter.utcoffset() == timedelta(hours=-5)


def test_no_zone_uses_reviewer_zone_and_date_only_deadline_is_end_of_day() -> None:
    la = ZoneInfo("America/Los_Angeles")
    assert parse_when("2026-11-29 08:00", la) == datetime(2026, 11, 29, 8, tzinfo=la)
    assert parse_when("11/30/2026", la, end_of_day=True) == datetime(2026, 11, 30, 23, 59,
                                                                     tzinfo=la)


def test_every_alias_maps_to_its_field_with_decorations() -> None:
    table = build_table()
    for field, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            for line in (f"{alias}: v1", f"**{alias}:** v1", f"  {alias.upper()} :  v1",
                         f"## {alias.lower()}: v1", f"**{alias}**: v1"):
                found = extract(line, table)
                assert list(found) == [field], line
                assert found[field].value() == "v1", line


def test_multi_field_line_and_prose_with_short_aliases() -> None:
    found = extract("Member: Jane Q. Doe    DOB: 03/04/1961\tMember ID: EHP1\n"
                    "The plan: review later with the RN: today\n")
    assert {k: v.value() for k, v in found.items()} == {
        "member_name": "Jane Q. Doe", "member_dob": "03/04/1961", "member_id": "EHP1"}


def test_label_needs_colon_and_line_start() -> None:
    assert extract("Plan to review the case with the RN.\nService was good.\n") == {}
    found = extract("Diagnosis: M54.16  see service: note\n")
    assert found["diagnosis"].value() == "M54.16  see service: note"


def test_sections_run_until_blank_line_then_label() -> None:
    text = ("Clinical Summary:\nLine one.\nLine two.\n\nSecond paragraph.\n\n"
            "Criteria Met:\n- a\n- b\nNurse Assessment: short\nwrapped\n\nTrailer text\n")
    found = extract(text)
    assert found["clinical_summary"].value() == "Line one.\nLine two.\n\nSecond paragraph."
    assert found["criteria_met"].value() == "- a\n- b"
    assert found["nurse_assessment"].value() == "short\nwrapped\n\nTrailer text"


def test_single_line_fields_join_wrapped_lines_and_stop_at_blank() -> None:
    found = extract("Diagnosis: M54.16 Radiculopathy,\n  lumbar region\n\nThanks\n")
    assert found["diagnosis"].value() == "M54.16 Radiculopathy, lumbar region"


def test_quoted_lines_and_signature_are_ignored() -> None:
    found = extract("Case ID: A-1\n> Member: Quoted Person\n-- \nPhone: 555-000-0000\n")
    assert set(found) == {"case_id"}


def test_configured_aliases_global_and_per_sender() -> None:
    cfg = ParseConfig(aliases={"member_id": ["Plan Member #"]},
                      sender={"special.example-um.com": {"case_id": ["Ticket"]},
                              "who@other.example-um.com": {"nurse_name": ["Sent By"]}})
    body = b"Ticket: T-100\nPlan Member #: PM-9\nSent By: Nobody\n"
    p = parse_email(b"From: a@special.example-um.com\nSubject: x\n\n" + body, tz=NY, parse=cfg)
    assert (p.fields.case_id, p.fields.member_id, p.fields.nurse_name) == ("T-100", "PM-9", None)
    q = parse_email(b"From: who@other.example-um.com\nSubject: x\n\n" + body, tz=NY, parse=cfg)
    assert (q.fields.case_id, q.fields.nurse_name) == (None, "Nobody")


@pytest.mark.parametrize(
    ("text", "want"),
    [("Prospective (pre-service)", ReviewType.PROSPECTIVE), ("Prior Authorization",
     ReviewType.PROSPECTIVE), ("Continued stay", ReviewType.CONCURRENT),
     ("Concurrent", ReviewType.CONCURRENT), ("Retro", ReviewType.RETROSPECTIVE),
     ("Post-service", ReviewType.RETROSPECTIVE), ("Other", ReviewType.UNKNOWN)],
)
def test_review_type(text: str, want: ReviewType) -> None:
    assert values.review_type(text) is want


@pytest.mark.parametrize(
    ("text", "want"),
    [("EXPEDITED", Urgency.URGENT), ("Stat", Urgency.URGENT), ("rush", Urgency.URGENT),
     ("Urgent", Urgency.URGENT), ("Non-urgent", Urgency.STANDARD),
     ("Routine", Urgency.STANDARD), ("standard", Urgency.STANDARD), ("soon", Urgency.UNKNOWN)],
)
def test_urgency(text: str, want: Urgency) -> None:
    assert values.urgency(text) is want


def test_expedited_label_takes_yes_no() -> None:
    assert values.urgency("Yes", flag_label=True) is Urgency.URGENT
    assert values.urgency("No", flag_label=True) is Urgency.STANDARD


@pytest.mark.parametrize(
    ("text", "want", "reason"),
    [("Deny - conservative management not yet tried", NurseRecommendation.DENY,
      "conservative management not yet tried"),
     ("Approve", NurseRecommendation.APPROVE, None),
     ("Partial approval: 8 of 12 visits", NurseRecommendation.PARTIAL, "8 of 12 visits"),
     ("Approve partially - 3 days", NurseRecommendation.PARTIAL, "3 days"),
     ("Pend, awaiting records", NurseRecommendation.PEND, "awaiting records"),
     ("Send to MD", NurseRecommendation.UNKNOWN, "Send to MD"),
     ("approve 1 day, deny day 5", NurseRecommendation.PARTIAL, "approve 1 day, deny day 5"),
     ("Approved x3 days; denied day 4", NurseRecommendation.PARTIAL, "Approved x3 days; denied day 4"),
     ("Deny - 6 visits approved last month, no gain", NurseRecommendation.DENY,
      "6 visits approved last month, no gain"),
     ("Deny day 5; approve days 1-4", NurseRecommendation.PARTIAL, "Deny day 5; approve days 1-4"),
     ("Approve - no reason to deny", NurseRecommendation.APPROVE, "no reason to deny"),
     ("Deny, does not meet criteria for approval", NurseRecommendation.DENY,
      "does not meet criteria for approval"),
     ("Deny - not approved by the PT plan", NurseRecommendation.DENY, "not approved by the PT plan")],
)
def test_recommendation(text: str, want: NurseRecommendation, reason: str | None) -> None:
    assert values.recommendation(text) == (want, reason)


def test_html_table_and_bold_lines_become_label_lines() -> None:
    text = html_to_text("<table><tr><td>Case ID</td><td>X-1</td><td>DOB:</td><td>1/2/1990"
                        "</td></tr></table><b>Member:</b> A&amp;B<br><script>x=1</script>")
    assert "Case ID: X-1    DOB: 1/2/1990" in text
    assert "Member: A&B" in text
    assert "x=1" not in text


def test_crlf_is_normalised() -> None:
    raw = (HEAD + b"Case ID: C-1\r\nMember: Ann\r\n").replace(b"\n", b"\r\n")
    p = parse_email(raw, tz=NY)
    assert (p.fields.case_id, p.fields.member_name) == ("C-1", "Ann")
    assert "\r" not in p.body_text


def test_content_hash_ignores_headers_and_whitespace() -> None:
    a = parse_email(HEAD + b"Case ID: C-1\nMember: Ann\n", tz=NY)
    b = parse_email(HEAD.replace(b"<m@x>", b"<other@x>") + b"Case ID:  C-1 \r\n\nMember: Ann",
                    tz=NY)
    c = parse_email(HEAD + b"Case ID: C-2\nMember: Ann\n", tz=NY)
    assert a.content_hash == b.content_hash != c.content_hash


def test_pdf_text_only_when_asked() -> None:
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    msg = MIMEMultipart()
    msg["From"] = "a@example-um.com"
    msg["Subject"] = "packet"
    msg.attach(MIMEText("see attached"))
    msg.attach(MIMEApplication(b"%PDF-1.4 not really a pdf", "pdf", Name="x.pdf"))
    raw = msg.as_bytes()
    with_text = parse_email(raw, tz=NY)
    without = parse_email(raw, tz=NY, extract_pdf_text=False)
    assert [a.filename for a in with_text.attachments] == ["x.pdf"]
    assert with_text.attachments[0].text is None  # unreadable PDF: no text, no exception
    assert without.attachments[0].data.startswith(b"%PDF")


@pytest.mark.parametrize("raw", [b"", b"\x00\xff", b"just text", b"\n\n\n"])
def test_garbage_is_quarantined_not_raised(raw: bytes) -> None:
    p = parse_email(raw, tz=NY)
    assert p.kind is MessageKind.QUARANTINE and p.reason


def test_non_bytes_input_does_not_raise() -> None:
    p = parse_email("not bytes", tz=NY)  # type: ignore[arg-type]
    assert p.kind is MessageKind.QUARANTINE and p.reason


def test_plain_8k_case_email_parses_in_a_few_ms() -> None:
    body = (b"Case ID: UM-1\nMember: Jane Doe    DOB: 01/01/1960\nReceived: 2026-11-29 08:00\n"
            b"Clinical Summary:\n" + b"Long clinical text line for the summary section.\n" * 150
            + b"\nNurse Recommendation: Approve\n")
    raw = HEAD + body
    assert 7000 < len(raw) < 9000
    runs = []
    for _ in range(30):
        t = time.perf_counter()
        parse_email(raw, tz=NY)
        runs.append(time.perf_counter() - t)
    assert sorted(runs)[len(runs) // 2] < 0.005  # median; target 1-3 ms, slack for slow spells
