"""Attachments are stored once, inside their raw message: the attachment row keeps the
part's position and the bytes are decoded from the raw message when asked for. The PDF
text comes from a pass after sync, and any reader that finds it missing runs that pass.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpus_loader import CORPUS_TZ, load_corpus
from tests.fixtures.env import TEST_AUDIT_KEY
from uq.config import Config, ReviewerConfig
from uq.mail.imap import FetchedMessage
from uq.mail.mime import part_data as part_bytes  # the one decoder, as the store's callers use it
from uq.mail.parse import parse_email
from uq.mail.pdf_text import is_pdf
from uq.queue.clock import FixedClock
from uq.services import case_files, queries, sync
from uq.services.context import Context
from uq.services.pdf_pass import fill_pdf_texts
from uq.store.repo import Store

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.gen import make_email  # noqa: E402

TZ = ZoneInfo(CORPUS_TZ)
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
RAWS = [raw for _n, raw, _e in load_corpus()] + [make_email(n, NOW)[0] for n in range(12)]


def test_part_bytes_equal_the_parsers_attachment_bytes() -> None:
    seen = 0
    for raw in RAWS:
        for att in parse_email(raw, tz=TZ).attachments:
            assert part_bytes(raw, att.part) == att.data, att.filename
            seen += 1
    assert seen >= 5


def test_part_bytes_of_a_missing_part_is_empty() -> None:
    raw = next(r for r in RAWS if parse_email(r, tz=TZ).attachments)
    assert part_bytes(raw, "9.9") == b""
    assert part_bytes(raw, "1.1.1.1") == b""


_PART = st.sampled_from(
    [
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n",
        b"Content-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment\r\n\r\nhello\r\n",
        b"Content-Type: text/plain\r\n\r\nCase ID: UM-1\r\n",
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n",
        b"Content-Type: message/rfc822\r\n\r\nFrom: x@example.org\r\nSubject: in\r\n\r\nbody\r\n",
    ]
)


@st.composite
def _nested(draw: st.DrawFn, depth: int = 0) -> bytes:
    b = f"b{depth}"
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.booleans()):
            parts.append(draw(_nested(depth + 1)))
        else:
            parts.append(draw(_PART))
    top = b"From: n@reviews.example-um.com\r\nSubject: Case UM-2\r\n" if depth == 0 else b""
    out = top + f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'.encode()
    for p in parts:
        out += f"--{b}\r\n".encode() + p + b"\r\n"
    return out + f"--{b}--\r\n".encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_nested())
def test_part_bytes_in_generated_nested_multiparts(raw: bytes) -> None:
    for att in parse_email(raw, tz=TZ).attachments:
        assert part_bytes(raw, att.part) == att.data


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    if request.param == "postgresql":
        from tests.fixtures.postgres import fresh_database

        gen = fresh_database()
        url = next(gen)
    else:
        url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    c = Context(
        config=Config(reviewer=ReviewerConfig(timezone=CORPUS_TZ, user="t")),
        store=Store.open(url, audit_key=lambda: TEST_AUDIT_KEY),
        clock=FixedClock(NOW),
    )
    yield c
    c.close()
    if request.param == "postgresql":
        gen.close()


def _ingest(ctx: Context, raws: list[bytes]) -> None:
    msgs = [FetchedMessage(i + 1, NOW - timedelta(minutes=5), raw, ()) for i, raw in enumerate(raws)]
    sync.ingest_batch(ctx, "INBOX", 1, msgs, extract_pdf_text=False)


def test_stored_attachments_decode_from_the_raw_message_and_the_pdf_pass_fills_text(ctx: Context) -> None:
    raws = [make_email(n, NOW)[0] for n in range(12)]
    _ingest(ctx, raws)
    want, lazy = {}, {}
    for raw in raws:
        p = parse_email(raw, tz=TZ)
        want[p.fields.case_id] = p.attachments
        lazy[p.fields.case_id] = parse_email(raw, tz=TZ, extract_pdf_text=False).attachments
    assert any(is_pdf(a) for atts in want.values() for a in atts)
    cases = ctx.store.cases(open_only=False)
    assert len(cases) == len(raws)
    for c in cases:
        got = case_files.attachments_with_data(ctx, c.id)
        assert [(a.filename, a.content_type, a.size, a.data) for a in got] == [
            (a.filename, a.content_type, a.size, a.data) for a in want[c.case_id]
        ]
        assert [a.text for a in got] == [a.text for a in lazy[c.case_id]]  # as sync parsed them
        assert all(a.data == b"" for a in ctx.store.attachments(c.id))  # bytes only on request

    pdfs = sum(1 for atts in lazy.values() for a in atts if is_pdf(a) and a.text is None)
    assert pdfs >= 2
    assert fill_pdf_texts(ctx) == pdfs
    assert fill_pdf_texts(ctx) == 0  # nothing left: the pass does not read a packet twice
    for c in cases:
        got = ctx.store.attachments(c.id)
        assert [a.text for a in got] == [a.text for a in want[c.case_id]]
        assert all(a.text for a in got if is_pdf(a))


def test_case_detail_runs_the_pdf_pass_for_its_case_only(ctx: Context) -> None:
    raws = [make_email(n, NOW)[0] for n in range(12)]
    _ingest(ctx, raws)
    with_pdf = [
        c
        for c in ctx.store.cases(open_only=False)
        if any(is_pdf(a) and a.text is None for a in ctx.store.attachments(c.id))
    ]
    assert len(with_pdf) >= 2
    detail = queries.case_detail(ctx, with_pdf[0].id)
    assert [a.text for a in detail.attachments if is_pdf(a)] and all(a.text for a in detail.attachments if is_pdf(a))
    other = ctx.store.attachments(with_pdf[1].id)
    assert all(a.text is None for a in other if is_pdf(a))


def test_an_opened_attachment_is_written_with_the_decoded_bytes(ctx: Context) -> None:
    from uq.services import review

    raw = next(r for r in (make_email(n, NOW)[0] for n in range(12)) if parse_email(r, tz=TZ).attachments)
    _ingest(ctx, [raw])
    (case,) = ctx.store.cases(open_only=False)
    path = case_files.private_copy(ctx, review.open_attachment(ctx, case.id, 0), 0)
    assert path.read_bytes() == parse_email(raw, tz=TZ).attachments[0].data
    assert path.stat().st_mode & 0o777 == 0o600


def test_part_data_of_the_mail_parser_equals_the_stores_decode() -> None:
    from uq.mail.mime import part_data

    for raw in RAWS:
        for att in parse_email(raw, tz=TZ).attachments:
            assert part_data(raw, att.part) == att.data
    assert part_data(b"", "1") == b""


def test_parse_many_drops_attachment_bytes_but_keeps_the_hash_and_part() -> None:
    raw = next(r for r in RAWS if parse_email(r, tz=TZ).attachments)
    (got,) = sync.parse_many([raw], TZ, Config().parse)
    full = parse_email(raw, tz=TZ, extract_pdf_text=False)
    assert got.content_hash == full.content_hash
    assert [(a.filename, a.part, a.size, a.data) for a in got.attachments] == [
        (a.filename, a.part, a.size, b"") for a in full.attachments
    ]
