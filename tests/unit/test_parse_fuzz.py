"""parse_email is total: random bytes and mangled corpus emails always give a ParsedEmail."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uq.config import ParseConfig
from uq.domain import MessageKind, ParsedEmail
from uq.mail.parse import parse_email

_spec = importlib.util.spec_from_file_location(
    "corpus_loader", Path(__file__).resolve().parents[1] / "corpus_loader.py")
assert _spec is not None and _spec.loader is not None
corpus_loader = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus_loader)

RAWS = [raw for _n, raw, _e in corpus_loader.load_corpus()]
TZ = ZoneInfo("America/New_York")
CHARSETS = ["utf-8", "windows-1252", "iso-8859-1", "x-nonsense", "utf-16", "ascii", ""]
CFG = ParseConfig(aliases={"case_id": ["Ticket", ""]}, sender={"example-um.com": {"x": ["y"]}})
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check(p: ParsedEmail) -> None:
    assert isinstance(p, ParsedEmail)
    assert isinstance(p.kind, MessageKind)
    if p.kind is not MessageKind.CASE:
        assert p.reason
    assert p.date is None or p.date.tzinfo is not None
    for when in (p.fields.received_at, p.fields.due_at):
        assert when is None or when.tzinfo is not None
    assert all(isinstance(x, str) for x in p.problems)
    assert len(p.content_hash) == 64


@FAST
@given(st.binary(max_size=4000))
def test_random_bytes(raw: bytes) -> None:
    _check(parse_email(raw, tz=TZ))


def _mutate(raw: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(raw)
    head_end = raw.find(b"\n\n")
    header_lines = raw[: max(head_end, 0)].split(b"\n")
    for op, a, b in ops:
        if not data:
            break
        i = a % len(data)
        if op == 0:  # truncate
            del data[i:]
        elif op == 1:  # flip a byte
            data[i] = b % 256
        elif op == 2:  # duplicate a header line
            line = header_lines[a % len(header_lines)] if header_lines else b"X: y"
            data[0:0] = line + b"\n"
        elif op == 3:  # remove a header line
            line = header_lines[a % len(header_lines)] if header_lines else b""
            if line:
                data = bytearray(bytes(data).replace(line + b"\n", b"", 1))
        elif op == 4:  # swap the charset for a random one
            cs = CHARSETS[b % len(CHARSETS)].encode()
            data = bytearray(bytes(data).replace(b"charset=utf-8", b"charset=" + cs)
                             .replace(b"charset=windows-1252", b"charset=" + cs))
        elif op == 5:  # insert random junk
            data[i:i] = bytes([b % 256]) * (a % 7 + 1)
        elif op == 6:  # break the multipart boundary
            data = bytearray(bytes(data).replace(b"boundary=", b"boundary=zz", 1))
        elif op == 7:  # CRLF everything
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
    return bytes(data)


@FAST
@given(st.sampled_from(RAWS),
       st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10**6), st.integers(0, 10**6)),
                min_size=1, max_size=6))
def test_mutated_corpus(raw: bytes, ops: list[tuple[int, int, int]]) -> None:
    _check(parse_email(_mutate(raw, ops), tz=TZ))
    _check(parse_email(_mutate(raw, ops), tz=TZ, parse=CFG, extract_pdf_text=False))


@FAST
@given(st.text(max_size=2000), st.sampled_from(CHARSETS[:3]))
def test_random_text_bodies(body: str, charset: str) -> None:
    head = (f"From: a@example-um.com\nSubject: Case X-1\nContent-Type: text/plain; "
            f"charset={charset}\n\n").encode()
    _check(parse_email(head + body.encode(charset or "utf-8", "replace"), tz=TZ))
