"""Bounded work per message: the issue's slow inputs (quadratic before) parse in well under
a second each, since every pattern on untrusted text is linear. CPU time, so the
machine's other load does not count."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest

from tests.hostile.corpus import fields, plain
from uq.domain import MessageKind
from uq.mail.html_text import html_to_text
from uq.mail.labels import extract
from uq.mail.parse import parse_email

TZ = ZoneInfo("America/New_York")
HEAD = "From: n@example-um.com\nMessage-ID: <x@e>\nDate: Sun, 29 Nov 2026 08:14:00 -0500\n"


def _cpu(fn: object) -> float:
    t = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - t


@pytest.mark.parametrize("raw", [
    HEAD + "Subject: " + "case." * 40_000 + "\n\nhello\n",  # 200 KB subject, no ID in the body
    HEAD + "Subject: " + "Ref #a1" * 30_000 + "\n\nhello\n",
    HEAD + "Subject: Re: " + "AB-1" * 50_000 + "x\nIn-Reply-To: <p@e>\n\nhi\n",
    HEAD + "Subject: x\n\n" + "a*" * 150_000 + ":\n",  # 300 KB line of a*a*...
    HEAD + "Subject: x\n\nCase ID: X-1\nPlan " + "a*" * 150_000 + ": x\n",
    HEAD + "Subject: x\n\n" + " " * 60_000 + "x\n",  # 60 KB of spaces
    HEAD + "Subject: x\n\nCase ID: X-1\nMember:" + " " * 60_000 + "x  " * 20_000 + "\n",
    HEAD + "Subject: x\n\nCase ID: X-1\n" + "  Due:" * 50_000 + "\n",
], ids=["subject-case-dots", "subject-ref", "subject-bare-ids", "a-star", "label-a-star", "spaces",
        "label-spaces", "mid-labels"])
def test_the_slow_inputs_of_the_issue_are_fast(raw: str) -> None:
    assert _cpu(lambda: parse_email(raw.encode(), tz=TZ)) < 1.0


def test_html_tag_soup_is_linear_and_a_broken_section_still_gives_the_fields() -> None:
    soup = "<p>Case ID: X-1</p>" + "<a " * 100_000 + "<!--" * 10_000
    assert _cpu(lambda: html_to_text(soup)) < 1.0
    assert "Case ID: X-1" in html_to_text("<p>Case ID: X-1</p><p>Member: Pat</p><![ x")
    assert extract(html_to_text("<p>Case ID: X-1</p><p>Member: Pat</p><![ x"))["member_name"].value() == "Pat"


def test_only_the_first_lines_are_scanned_for_labels() -> None:
    text = "Case ID: X-1\n" + "filler\n" * 10 + "Member: Pat\n"
    assert "member_name" in extract(text)
    assert "member_name" not in extract(text, max_lines=5)


def test_labels_still_read_as_before_on_ordinary_lines() -> None:
    found = extract("**Case ID**: X-1\n# Member :  Pat   DOB: 01/02/1960\nReview Type * : Concurrent\n")
    assert {k: v.value() for k, v in found.items()} == {
        "case_id": "X-1", "member_name": "Pat", "member_dob": "01/02/1960", "review_type": "Concurrent"}


def test_an_absurd_case_id_is_a_problem_and_problems_quote_values_briefly() -> None:
    p = parse_email(plain("H-X", fields("H-X", received="9" * 100_000)), tz=TZ)
    assert p.kind is MessageKind.CASE
    (problem,) = [x for x in p.problems if x.startswith("received_at")]
    assert len(problem) < 120


def test_a_case_id_of_200_kb_is_no_id() -> None:
    p = parse_email(plain("H-X", fields("H-X").replace("Case ID: H-X", "Case ID: H-X" + "9" * 200_000),
                          subject="Hello"), tz=TZ)
    assert p.fields.case_id is None
    assert p.problems[0] == "case_id: too long to be an ID (200003 characters)"
