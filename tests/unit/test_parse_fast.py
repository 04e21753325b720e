"""The fast MIME path gives exactly what the stdlib `email` path gives, or steps aside."""

from __future__ import annotations

import base64
import binascii
import email
import importlib.util
import quopri
import sys
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uq.config import ParseConfig
from uq.domain import Attachment, MessageKind
from uq.mail.mime import load, payload_bytes, split_parts
from uq.mail.mimewalk import split_message
from uq.mail.parse import CORE_FIELDS, parse_email, parse_email_stdlib
from uq.mail.pdf_text import pdf_texts

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("corpus_loader", ROOT / "tests" / "corpus_loader.py")
assert _spec is not None and _spec.loader is not None
corpus_loader = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus_loader)
sys.path.insert(0, str(ROOT))
from bench.gen import make_email  # noqa: E402

CORPUS = corpus_loader.load_corpus()
RAWS = [raw for _n, raw, _e in CORPUS]
TZ = ZoneInfo(corpus_loader.CORPUS_TZ)
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
MIX = [make_email(n, NOW) for n in range(20)]
CFG = ParseConfig(aliases={"case_id": ["Ticket"]}, sender={"example-um.com": {"member_name": ["Pt"]}})
FAST = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _same_tree(a: Message, b: Message, path: str = "root") -> None:
    assert a.items() == b.items(), path
    assert a.get_content_type() == b.get_content_type(), path
    assert a.is_multipart() == b.is_multipart(), path
    if a.is_multipart():
        pa, pb = a.get_payload(), b.get_payload()
        assert isinstance(pa, list) and isinstance(pb, list)
        assert len(pa) == len(pb), path
        for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
            assert isinstance(x, Message) and isinstance(y, Message)
            _same_tree(x, y, f"{path}.{i}")
    else:
        assert vars(a)["_payload"] == vars(b)["_payload"], path


def _check_tree(raw: bytes) -> bool:
    fast = split_message(raw)
    if fast is not None:
        _same_tree(fast, email.message_from_bytes(raw, policy=compat32))
    return fast is not None


def _check_parse(raw: bytes, **kw: object) -> None:
    assert parse_email(raw, tz=TZ, **kw) == parse_email_stdlib(raw, tz=TZ, **kw)  # type: ignore[arg-type]


def test_fast_path_taken_for_the_bench_mix_and_well_formed_corpus() -> None:
    assert all(split_message(raw) is not None for raw, _kind in MIX)
    taken = [_check_tree(raw) for raw in RAWS]
    assert sum(taken) >= len(RAWS) - 3  # only the bounce report and the broken MIME step aside


def test_corpus_results_identical_on_both_paths() -> None:
    for _name, raw, exp in CORPUS:
        cfg = exp.get("config") or {}
        parse = ParseConfig(aliases=cfg.get("aliases", {}), sender=cfg.get("sender", {}))
        for with_pdf in (True, False):
            _check_parse(raw, parse=parse, extract_pdf_text=with_pdf)


def test_bench_mix_results_identical_on_both_paths() -> None:
    for raw, _kind in MIX:
        _check_parse(raw, extract_pdf_text=False)


def _mutate(raw: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(raw)
    junk = [b"\r", b"\n", b"\r\n", b"--", b"=", b"\n\n", b" ", b"\t", b"-", b"\x00", b"\xff", b"<![ x"]
    for op, a, b in ops:
        if not data:
            break
        i = a % len(data)
        if op == 0:
            del data[i:]
        elif op == 1:
            data[i] = b % 256
        elif op == 2:
            data[i:i] = junk[b % len(junk)]
        elif op == 3:  # insert a copy of a boundary line somewhere
            at = bytes(data).find(b"\n--", b % len(data))
            if at >= 0:
                end = bytes(data).find(b"\n", at + 1)
                data[i:i] = bytes(data[at : end if end > 0 else len(data)])
        elif op == 4:
            data = bytearray(bytes(data).replace(b"\r\n", b"\n"))
        elif op == 5:
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif op == 6:
            del data[i : i + b % 40]
        else:
            data = bytearray(bytes(data).replace(b"boundary=", b"boundary=zz", 1))
    return bytes(data)


OPS = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10**7), st.integers(0, 10**6)), min_size=1, max_size=5)
SMALL = [r for r in RAWS if len(r) < 20_000] + [r for r, k in MIX if k in ("text", "html-alt")]


@FAST
@given(st.sampled_from(SMALL), OPS)
def test_mutated_mail_same_tree_and_result(raw: bytes, ops: list[tuple[int, int, int]]) -> None:
    bad = _mutate(raw, ops)
    _check_tree(bad)
    _check_parse(bad, extract_pdf_text=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([r for r in RAWS if len(r) >= 20_000] + [r for r, k in MIX if "pdf" in k][:3]), OPS)
def test_mutated_pdf_mail_same_tree_and_result(raw: bytes, ops: list[tuple[int, int, int]]) -> None:
    bad = _mutate(raw, ops)
    _check_tree(bad)
    _check_parse(bad, extract_pdf_text=False)


_LINE = st.text(alphabet="ab-=: \tXY", max_size=12) | st.sampled_from(
    ["--b", "--b1", "--b--", "--b1--  ", "--=_x", "--b b", "a\rb", "a\r", "", " "]
)


@st.composite
def _mime(draw: st.DrawFn, depth: int = 0, nl: bytes = b"") -> bytes:
    """A random multipart message: boundaries that prefix each other, whitespace after
    boundary lines, preambles and epilogues, missing close lines, CRLF or LF."""
    nl = nl or draw(st.sampled_from([b"\r\n", b"\n"]))
    boundary = draw(st.sampled_from([["b", "=_x", "b b"], ["b1", "b-", "b"], ["b b", "b1x", "=_x"]][depth]))
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 2 and draw(st.booleans()):
            parts.append(draw(_mime(depth + 1, nl)))
        else:
            ctype = draw(st.sampled_from(["text/plain", "text/html", "application/pdf", "", "text/plain"]))
            head = (f"Content-Type: {ctype}" + nl.decode()) if ctype else ""
            body = nl.join(s.encode() for s in draw(st.lists(_LINE, max_size=4)))
            parts.append(head.encode() + nl + body)
    top = b"From: a@x.example-um.com" + nl + b"Subject: Case X-1" + nl if depth == 0 else b""
    out = top + f'Content-Type: multipart/mixed; boundary="{boundary}"'.encode() + nl + nl
    out += draw(st.sampled_from([b"", b"preamble" + nl]))
    for p in parts:
        out += b"--" + boundary.encode() + draw(st.sampled_from([b"", b"  ", b"", b"x"])) + nl + p + nl
    if draw(st.integers(0, 3)):
        out += b"--" + boundary.encode() + b"--" + draw(st.sampled_from([b"", b" ", nl, nl + b"epilogue"]))
    return out


@FAST
@given(_mime())
def test_generated_multiparts_same_tree_and_result(raw: bytes) -> None:
    _check_tree(raw)
    _check_parse(raw)


@FAST
@given(st.binary(max_size=300), st.sampled_from(["base64", "quoted-printable", "8bit", "x-uuencode", ""]))
def test_body_decoding_equals_get_payload_decode(body: bytes, cte: str) -> None:
    for text in (body, base64.encodebytes(body), quopri.encodestring(body)):
        for shaped in (text, text.replace(b"\n", b"\r\n"), text.rstrip(b"=\n"), text + b"=", text[:-3]):
            msg = email.message_from_bytes(
                b"Content-Transfer-Encoding: " + cte.encode() + b"\n\n" + shaped, policy=compat32
            )
            ref = email.message_from_bytes(
                b"Content-Transfer-Encoding: " + cte.encode() + b"\n\n" + shaped, policy=compat32
            )
            assert payload_bytes(msg) == payload_bytes(ref, fast=False)


def test_base64_fast_path_is_the_strict_decode() -> None:
    for n in range(0, 40):
        data = bytes(range(n))
        enc = base64.encodebytes(data).replace(b"\n", b"\r\n")
        msg = email.message_from_bytes(b"Content-Transfer-Encoding: base64\n\n" + enc, policy=compat32)
        assert payload_bytes(msg) == (data, False)
        assert binascii.a2b_base64(enc.replace(b"\r\n", b""), strict_mode=True) == data


def test_html_alternative_is_not_converted_when_the_plain_part_has_the_fields() -> None:
    raw = next(r for r, k in MIX if k == "html-alt")
    mime = split_parts(load(raw))
    assert mime.plain is not None and "Case ID:" in mime.plain
    assert mime.html_source is not None and mime.html_converted is None
    parsed = parse_email(raw, tz=TZ, extract_pdf_text=False)
    assert parsed.kind is MessageKind.CASE and "Case ID:" in parsed.body_text
    assert mime.html is not None and "Case ID: UM-2026-" in mime.html  # converts on first use


def test_a_marked_section_that_breaks_htmlparser_is_read_with_its_tags_stripped() -> None:
    raw = (
        b"From: a@x.example-um.com\nSubject: s\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        b"Case ID: X-1\nMember: A\nReview Type: Concurrent\n--b\nContent-Type: text/html\n\n"
        b"<p>x</p><![ x\n--b--\n"
    )
    got = parse_email(raw, tz=TZ)
    assert got == parse_email_stdlib(raw, tz=TZ)
    assert got.kind is MessageKind.CASE and got.fields.case_id == "X-1"


def _by_kind(kind: str) -> bytes:
    return next(r for r, k in MIX if k == kind)


def test_pdf_text_skipped_when_the_body_has_the_core_fields_and_filled_later() -> None:
    raw = _by_kind("text+pdf")
    lazy = parse_email(raw, tz=TZ, extract_pdf_text=False)
    eager = parse_email(raw, tz=TZ, extract_pdf_text=True)
    assert [a.text for a in lazy.attachments] == [None]
    assert lazy.fields == eager.fields and lazy.content_hash == eager.content_hash
    filled = pdf_texts(lazy.attachments)
    assert filled == list(eager.attachments)
    assert filled[0].text is not None and "Case ID: UM-2026-" in filled[0].text


def test_pdf_packet_with_a_short_body_is_read_even_without_extract_pdf_text() -> None:
    raw = _by_kind("pdf-packet+pdf")
    got = parse_email(raw, tz=TZ, extract_pdf_text=False)
    assert got == parse_email(raw, tz=TZ, extract_pdf_text=True)
    assert got.fields.member_name is not None and got.fields.service is not None  # from the PDF
    assert got.attachments[0].text is not None
    corpus_packet = next(r for n, r, _e in CORPUS if n.startswith("06-"))
    assert parse_email(corpus_packet, tz=TZ, extract_pdf_text=False).fields.client == "Example Employer Plan (ERISA)"


def test_core_fields_are_case_fields() -> None:
    from uq.domain import CaseFields

    names = set(CaseFields.__dataclass_fields__)
    assert set(CORE_FIELDS) <= names | {"nurse_recommendation"}


def test_pdf_texts_leaves_non_pdfs_and_filled_texts_alone() -> None:
    txt = Attachment(filename="a.txt", content_type="text/plain", size=1, data=b"x")
    done = Attachment(filename="p.pdf", content_type="application/pdf", size=1, data=b"%PDF", text="kept")
    broken = Attachment(filename="q.pdf", content_type="application/octet-stream", size=3, data=b"bad")
    assert pdf_texts([txt, done, broken]) == [txt, done, broken]  # unreadable PDF keeps text None


def test_config_aliases_apply_on_the_fast_path() -> None:
    raw = _by_kind("text").replace(b"Member: ", b"Pt: ")
    assert parse_email(raw, tz=TZ, parse=CFG) == parse_email_stdlib(raw, tz=TZ, parse=CFG)
