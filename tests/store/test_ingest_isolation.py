"""One message can fail alone: whatever a message does to a step of ingest (decode, parse,
PDF text, clock computation, store), it is stored raw in quarantine with the step and the
exception type, and the rest of its batch and the cursor go on. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.hostile.corpus import SENDER, fields, pdf, pdf_part, plain, text_page, valid, with_parts
from uq.config import Config, ParseConfig, ReviewerConfig
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services import queries, sync
from uq.services.context import Context
from uq.services.pdf_pass import fill_pdf_texts
from uq.store.repo import Store

NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    gen = None
    if request.param == "postgresql":
        from tests.fixtures.postgres import fresh_database

        gen = fresh_database()
        url = next(gen)
    c = Context(config=Config(reviewer=ReviewerConfig(timezone="America/New_York", user="t")),
                store=Store.open(url), clock=FixedClock(NOW))
    yield c
    c.close()
    if gen is not None:
        gen.close()


def _msgs(raws: list[bytes], first_uid: int = 1, when: datetime | None = NOW) -> list[FetchedMessage]:
    return [FetchedMessage(first_uid + i, when, raw, ()) for i, raw in enumerate(raws)]


def _ingest(ctx: Context, raws: list[bytes], **kw: object) -> sync.SyncSummary:
    msgs = _msgs(raws, **kw)  # type: ignore[arg-type]
    parsed = sync.parse_many([m.raw for m in msgs], ctx.tz, ctx.config.parse, now=ctx.clock())
    summary, _ = sync.store_isolated(ctx, "INBOX", 1, msgs, parsed)
    return summary


def _case(ctx: Context, case_id: str) -> object:
    (found,) = ctx.store.find_cases(case_id)
    return found


def _cursor(ctx: Context) -> int | None:
    with ctx.store.tx() as tx:
        return tx.cursor("INBOX", 1)


def test_the_issues_bodies_and_dates_are_cases_with_problems_not_a_stalled_batch(ctx: Context) -> None:
    raws = [
        plain("H-UTF7", fields("H-UTF7", extra="Note: +2AA- end\n").encode(), charset="utf-7"),
        plain("H-UESC", fields("H-UESC", extra="Note: \\ud800 end\n"), charset="unicode-escape"),
        plain("H-DUE", fields("H-DUE", extra="Due: 12/31/9999\n")),
        plain("H-REC", fields("H-REC", received="12/31/9999 11:59 PM")),
        valid(1).raw,
    ]
    summary = _ingest(ctx, raws)
    assert (summary.ingested, summary.quarantined) == (5, 0)
    assert _cursor(ctx) == 5
    assert "\ufffd" in ctx.store.body_text(_case(ctx, "H-UTF7").id)  # type: ignore[attr-defined]
    due = _case(ctx, "H-DUE")
    assert due.fields.due_at is None  # type: ignore[attr-defined]
    assert "due_at: date out of range '12/31/9999'" in due.problems  # type: ignore[attr-defined]
    assert any(p.startswith("received_at: date out of range") for p in _case(ctx, "H-REC").problems)  # type: ignore[attr-defined]
    assert _case(ctx, "VALID-0001")


def test_a_server_date_in_year_9999_is_no_arrival_time(ctx: Context) -> None:
    _ingest(ctx, [valid(1).raw], when=datetime(9999, 12, 31, tzinfo=UTC))
    arrived = _case(ctx, "VALID-0001").arrived_at  # type: ignore[attr-defined]
    assert arrived == datetime(2026, 11, 29, 13, 14, tzinfo=UTC)  # the Date header's


@pytest.mark.parametrize(("spoil", "reason"), [
    # what a parser bug could hand the store: text no database takes, a clock beyond year 9999
    (lambda p: replace(p, fields=replace(p.fields, member_name="Pat \ud800")), "store failed: UnicodeEncodeError"),
    (lambda p: replace(p, fields=replace(p.fields, received_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC))),
     "clock failed: OverflowError"),
])
def test_a_message_no_step_can_store_is_quarantined_alone_with_its_step(
    ctx: Context, spoil: Callable[[object], object], reason: str
) -> None:
    raws = [valid(1).raw, plain("H-BAD", fields("H-BAD")), valid(2).raw]
    msgs = _msgs(raws)
    parsed = sync.parse_many(raws, ctx.tz, ctx.config.parse, now=NOW)
    parsed[1] = spoil(parsed[1])  # type: ignore[assignment]
    summary, to_mark = sync.store_isolated(ctx, "INBOX", 1, msgs, parsed)
    assert (summary.ingested, summary.quarantined) == (2, 1)
    assert to_mark == [1, 3]
    assert _cursor(ctx) == 3
    (q,) = ctx.store.raw_messages(kinds=["quarantined"])
    assert (q.uid, q.reason, q.sender, q.subject) == (2, reason, SENDER, "UM Review Request - Case H-BAD")
    assert "Pat" not in (q.reason or "")  # the exception's text never reaches the row
    assert [c.case_id for c in ctx.store.cases(open_only=False)] == ["VALID-0001", "VALID-0002"]
    # the next sync sees nothing new: the bad message is not retried for ever
    assert _ingest(ctx, [], first_uid=4).total == 0


def test_a_pdf_with_a_lone_surrogate_and_a_due_in_9999_neither_breaks_the_pass_nor_show(ctx: Context) -> None:
    cid = "H-PDFSUR"
    packet = pdf([text_page([f"Case ID: {cid}", "Due: 12/31/9999", "Note: A", "Facility: General Hospital"])],
                 tounicode={"41": "D800"})
    # the PDF alone (inline, as sync reads a packet-only email) and the body's fields plus
    # the PDF (read by the pass after the sync, then by `uq show`)
    only = with_parts("H-PDFONLY", "Case ID: H-PDFONLY\nPacket attached.", [pdf_part(packet)])
    raw = with_parts(cid, fields(cid), [pdf_part(packet)])
    sync.ingest_batch(ctx, "INBOX", 1, _msgs([only, raw, valid(1).raw]), extract_pdf_text=False)
    assert fill_pdf_texts(ctx) == 1
    for case_id in ("H-PDFONLY", cid):
        detail = queries.case_detail(ctx, _case(ctx, case_id).id)  # type: ignore[attr-defined]
        (att,) = detail.attachments
        assert att.text is not None and "\ufffd" in att.text and "Due: 12/31/9999" in att.text
        assert detail.case.fields.due_at is None
        assert detail.case.fields.facility == "General Hospital"
    assert fill_pdf_texts(ctx) == 0


def test_dates_before_1990_or_two_years_ahead_are_problems(ctx: Context) -> None:
    ahead = (NOW + timedelta(days=800)).strftime("%m/%d/%Y")
    soon = (NOW + timedelta(days=600)).strftime("%m/%d/%Y")
    raws = [plain("H-1989", fields("H-1989", received="12/31/1989 8:00 AM")),
            plain("H-AHEAD", fields("H-AHEAD", extra=f"Due: {ahead}\n")),
            plain("H-SOON", fields("H-SOON", extra=f"Due: {soon}\n"))]
    _ingest(ctx, raws)
    assert _case(ctx, "H-1989").fields.received_at is None  # type: ignore[attr-defined]
    assert _case(ctx, "H-AHEAD").problems[0].startswith("due_at: date out of range")  # type: ignore[attr-defined]
    assert _case(ctx, "H-SOON").fields.due_at is not None  # type: ignore[attr-defined]


def test_a_packet_the_pdf_pass_cuts_short_is_flagged_on_the_case(ctx: Context) -> None:
    ctx = replace(ctx, config=replace(ctx.config, parse=ParseConfig(pdf_pages=2)))
    packet = pdf([text_page([f"Page {i}", f"Facility: Site {i}"]) for i in range(5)])
    sync.ingest_batch(ctx, "INBOX", 1, _msgs([with_parts("H-CUT", fields("H-CUT"), [pdf_part(packet)])]),
                      extract_pdf_text=False)
    assert fill_pdf_texts(ctx) == 1
    case = _case(ctx, "H-CUT")
    assert case.fields.facility == "Site 0"  # type: ignore[attr-defined]
    assert case.problems == (  # type: ignore[attr-defined]
        "attachment packet.pdf: text cut after the first 2 pages; open the attachment for all of it",)
    assert ctx.store.raw_messages()[0].size > len(packet)  # the raw part is kept whole


def test_a_message_whose_case_key_is_taken_fails_alone(ctx: Context) -> None:
    """Found by the fuzz run: a reused Message-ID whose first message was no case lets a
    third message with no case ID map to the second one's placeholder ID; the key conflict
    stalled every later sync. Now that message is quarantined and the rest goes on."""
    head = f"From: {SENDER}\nSubject: hello\nMessage-ID: <same@x.example>\nDate: Sun, 29 Nov 2026 08:14:00 -0500\n\n"
    no_case = (head + "Thanks!\n").encode()
    no_id = (head + "Member: Pat Example\nRequested Service: MRI\nReview Type: Prospective\n").encode()
    no_id_again = (head + "Member: Sam Example\nRequested Service: CT\nReview Type: Concurrent\n").encode()
    summary = _ingest(ctx, [no_case, no_id, no_id_again, valid(1).raw])
    assert (summary.not_cases, summary.ingested, summary.quarantined) == (1, 2, 1)
    (q,) = ctx.store.raw_messages(kinds=["quarantined"])
    assert (q.uid, q.reason, q.sender) == (3, "store failed: ConflictError", SENDER)
    assert _cursor(ctx) == 4 and _case(ctx, "VALID-0001")
