"""Names and addresses: raw 8-bit (UTF-8 without RFC 2231) file names and headers are read
as UTF-8, else cp1252; a message whose body cannot be read still says who sent what."""

from __future__ import annotations

import base64
from zoneinfo import ZoneInfo

from tests.hostile.corpus import SENDER, fields, pdf, plain, text_page, with_parts
from uq.domain import MessageKind
from uq.mail.parse import headers_only, parse_email

TZ = ZoneInfo("America/New_York")


def _part(disposition: bytes) -> bytes:
    return (b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n" + disposition + b"\n\n"
            + base64.encodebytes(pdf([text_page(["Records"])])))


def test_a_raw_utf8_attachment_name_is_read_not_quarantined() -> None:
    raw = with_parts("N-1", fields("N-1"), [_part('Content-Disposition: attachment; filename="Résumé.pdf"'.encode())])
    p = parse_email(raw, tz=TZ)
    assert p.kind is MessageKind.CASE
    assert [a.filename for a in p.attachments] == ["Résumé.pdf"]


def test_a_raw_cp1252_attachment_name_falls_back() -> None:
    raw = with_parts("N-2", fields("N-2"), [_part(b'Content-Disposition: attachment; filename="R\xe9sum\xe9.pdf"')])
    assert [a.filename for a in parse_email(raw, tz=TZ).attachments] == ["Résumé.pdf"]


def test_raw_8bit_subject_and_from_are_utf8_else_cp1252() -> None:
    raw = plain("N-3", fields("N-3"), subject="Révision \u2013 Case N-3").replace(b"Nurse Example", "Zoë".encode())
    p = parse_email(raw, tz=TZ)
    assert (p.subject, p.sender_name, p.sender) == ("Révision \u2013 Case N-3", "Zoë", SENDER)
    raw = raw.replace("Révision \u2013 ".encode(), b"R\xe9vision \x96 ")  # cp1252 alone
    assert parse_email(raw, tz=TZ).subject == "Révision \u2013 Case N-3"


def test_an_unreadable_message_keeps_sender_subject_and_date() -> None:
    raw = plain("N-4", b"!!! not base64 @@@\n", subject="Révision Case N-4", cte="base64")
    p = parse_email(raw, tz=TZ)
    assert p.kind is MessageKind.QUARANTINE and p.reason == "undecodable body: invalid base64"
    assert (p.sender, p.subject) == (SENDER, "Révision Case N-4")
    assert p.date is not None and p.date.isoformat() == "2026-11-29T08:14:00-05:00"
    assert headers_only(raw).subject == "Révision Case N-4"
