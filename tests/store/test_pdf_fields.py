"""Fields only a PDF packet carries reach the case through the PDF pass after the sync."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

from tests.corpus_loader import CORPUS_DIR
from uq.config import parse_config
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services import sync
from uq.services.context import Context
from uq.services.pdf_pass import fill_pdf_texts

_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS_DIR / "make_corpus.py")
assert _spec and _spec.loader
mc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mc)

BODY = (
    "Case ID: PDF-777\nReview Type: Prospective\nUrgency: Standard\nReceived: 2026-11-29 07:50 ET\n"
    "Member: Test Person\nRequested Service: CPT 72148 MRI lumbar spine\nNurse Recommendation: Deny - see packet\n"
)
PACKET = mc.pdf([
    "Facility: Example Imaging Center",
    "Provider Phone: (555) 201-9999",
    "Due By: 2026-11-29 09:00 ET",
    "Diagnosis: M54.16 Radiculopathy, lumbar region",
])


def test_pdf_only_fields_fill_what_the_case_lacks(tmp_path: Path) -> None:
    raw = mc.multipart(
        mc.std("Nurse <nurse@example-um.com>", "UM Review Request - Case #PDF-777", "<pdf-777@example-um.com>"),
        [mc.part(BODY), mc.attachment("packet.pdf", PACKET)],
    )
    now = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
    ctx = Context.open(parse_config({}), clock=FixedClock(now), url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    sync.ingest_batch(ctx, "INBOX", 1, [FetchedMessage(1, now, raw, ())], extract_pdf_text=False)
    (case,) = ctx.store.cases()
    assert case.fields.facility is None, "the body had every core field: the PDF was not read during sync"
    before = ctx.store.queue_rows()[0].due_at

    assert fill_pdf_texts(ctx) == 1
    (case,) = ctx.store.cases()
    assert case.fields.facility == "Example Imaging Center"
    assert case.fields.provider_phone == "(555) 201-9999"
    assert case.fields.diagnosis == "M54.16 Radiculopathy, lumbar region"
    assert case.fields.service == "CPT 72148 MRI lumbar spine", "what the email said is never overwritten"
    due = ctx.store.queue_rows()[0].due_at
    assert due == datetime(2026, 11, 29, 14, 0, tzinfo=UTC) and due != before, "the explicit due time binds now"
    entry = [e for e in ctx.store.audit_entries() if e.action == "fields_from_pdf"]
    assert entry and "facility" in entry[0].detail and "Imaging" not in entry[0].detail, "names, never values"


def test_a_decided_case_keeps_its_fields(tmp_path: Path) -> None:
    from uq.domain import Outcome
    from uq.services import review

    raw = mc.multipart(
        mc.std("Nurse <nurse@example-um.com>", "UM Review Request - Case #PDF-778", "<pdf-778@example-um.com>"),
        [mc.part(BODY.replace("PDF-777", "PDF-778")), mc.attachment("packet.pdf", PACKET)],
    )
    now = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
    cfg = parse_config({"reviewer": {"email": "dr@example.org"}})
    ctx = Context.open(cfg, clock=FixedClock(now), url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    sync.ingest_batch(ctx, "INBOX", 1, [FetchedMessage(1, now, raw, ())], extract_pdf_text=False)
    (case,) = ctx.store.cases()
    review.open_case(ctx, case.id)
    review.decide(ctx, case.id, Outcome.APPROVE)
    assert fill_pdf_texts(ctx) == 1  # the text is still kept for display
    after = ctx.store.case(case.id)
    assert after is not None and after.fields == case.fields, "not changed behind the physician's decision"
    assert ctx.store.attachments(case.id)[0].text
