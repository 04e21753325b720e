"""PDF text is read in a worker process with real limits: a token bomb is stopped by the
time limit, a huge string by the memory limit, and what was read before stays. The
worker comes back for the next packet."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest

from tests.hostile.corpus import fields, pdf, pdf_huge_string, pdf_part, pdf_token_bomb, text_page, with_parts
from uq.config import ParseConfig, parse_config
from uq.errors import ConfigError
from uq.mail.mime import load, split_parts
from uq.mail.parse import parse_email
from uq.mail.pdf_text import PdfLimits, pdf_text

TZ = ZoneInfo("America/New_York")
PACKET = pdf([text_page(["Case ID: P-1", "Member: Pat Example"])])


def _pdf_of(raw: bytes) -> bytes:
    return split_parts(load(raw)).attachments[0].data


def test_a_token_bomb_is_cut_by_the_time_limit_and_the_worker_comes_back() -> None:
    bomb = _pdf_of(pdf_token_bomb().raw)
    t = time.monotonic()
    got = pdf_text(bomb, PdfLimits(seconds=0.5))
    assert got.cut == "time"
    assert time.monotonic() - t < 15  # the kill (and a worker start on a loaded machine), not pypdf's minutes
    assert pdf_text(PACKET, PdfLimits()).text == "Case ID: P-1\nMember: Pat Example"


def test_a_70_mb_string_is_cut_short_within_the_limits() -> None:
    got = pdf_text(_pdf_of(pdf_huge_string().raw), PdfLimits(seconds=3, memory_mb=256))
    assert got.cut in ("memory", "time") and got.text == ""
    assert pdf_text(PACKET, PdfLimits()).cut == ""


def test_pages_and_characters_are_bounded_and_the_pages_read_are_kept() -> None:
    many = pdf([text_page([f"Page {i}"]) for i in range(40)])
    got = pdf_text(many, PdfLimits(pages=3))
    assert (got.text, got.cut) == ("Page 0\n\nPage 1\n\nPage 2", "pages")
    got = pdf_text(many, PdfLimits(chars=15))
    assert got.cut == "characters" and got.text.startswith("Page 0") and len(got.text) <= 15


def test_a_packet_cut_short_is_a_problem_on_the_case() -> None:
    packet = pdf([text_page([f"Page {i}"]) for i in range(5)])
    raw = with_parts("P-2", "Case ID: P-2\nPacket attached.", [pdf_part(packet)])
    p = parse_email(raw, tz=TZ, parse=ParseConfig(pdf_pages=2), extract_pdf_text=False)
    assert p.attachments[0].text == "Page 0\n\nPage 1"
    assert "attachment packet.pdf: text cut after the first 2 pages; open the attachment for all of it" in p.problems


def test_one_time_budget_for_all_the_pdfs_of_a_message() -> None:
    bomb = pdf_token_bomb().raw
    part = bomb[bomb.index(b"Content-Type: application/pdf"): bomb.rindex(b"--=_hostile_b--")]
    raw = with_parts("P-3", "Case ID: P-3\nPackets attached.", [part, part, part])
    t = time.monotonic()
    p = parse_email(raw, tz=TZ, parse=ParseConfig(pdf_seconds=0.6))
    assert time.monotonic() - t < 15  # three packets share 0.6 s (plus a worker start)
    assert sum("time limit" in x for x in p.problems) == 3


def test_a_message_over_message_bytes_is_quarantined_with_its_headers() -> None:
    raw = with_parts("P-4", fields("P-4"), [])
    p = parse_email(raw, tz=TZ, parse=ParseConfig(message_bytes=100))
    assert p.kind.value == "quarantine" and p.reason is not None and "message_bytes" in p.reason
    assert p.subject == "Review packet - Case P-4" and p.sender == "nurse@hostile.example-um.com"


def test_a_header_block_over_header_bytes_is_cut_and_flagged() -> None:
    raw = with_parts("P-5", fields("P-5"), [])
    raw = raw.replace(b"MIME-Version", b"".join(b"X-F%d: v\n" % i for i in range(2000)) + b"MIME-Version")
    p = parse_email(raw, tz=TZ, parse=ParseConfig(header_bytes=4096))
    assert p.fields.case_id == "P-5"
    assert "headers: cut at 4096 bytes ([parse] header_bytes)" in p.problems


@pytest.mark.parametrize(("key", "value", "message"), [
    ("pdf_seconds", 0, "'parse.pdf_seconds' must be more than 0"),
    ("pdf_memory_mb", 64, "'parse.pdf_memory_mb' must be at least 128"),
    ("lines_scanned", 0, "'parse.lines_scanned' must be at least 1"),
    ("pdf_pages", "30", "'parse.pdf_pages' must be a whole number"),
    ("pdf_secs", 1, "unknown key 'parse.pdf_secs' (did you mean 'pdf_seconds'?)"),
])
def test_parse_limits_are_validated(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse_config({"parse": {key: value}})
