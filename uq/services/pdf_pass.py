"""The PDF pass: text of PDF packets, extracted after the sync that stored them.

Sync parses with extract_pdf_text=False (pypdf costs more than the rest of a message's
parse), so a stored PDF starts without text. This pass fills it in small transactions; it
runs after each sync pass, and any reader that finds a PDF without text (`uq show`, the
case screen) runs it for that case first.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from uq import intake
from uq.domain import Case
from uq.mail.mime import part_data
from uq.mail.parse import fields_from_pdf_text
from uq.mail.pdf_text import PdfLimits, PdfResult, cut_problem, pdf_limits, pdf_text
from uq.services import deadlines
from uq.services.context import Context
from uq.store.tx import Tx

BATCH = 32
log = logging.getLogger("uq.sync")


def fill_pdf_texts(
    ctx: Context, *, case_pk: int | None = None, limit: int | None = None
) -> int:
    """Extract and store the text of PDFs that have none yet (all of them, or one case's,
    at most `limit`); returns how many were read. Each small batch commits on its own, so
    a long pass never holds the write lock for long and an interruption loses little."""
    done = 0
    while limit is None or done < limit:
        size = BATCH if limit is None else min(BATCH, limit - done)
        todo = ctx.store.pdfs_without_text(limit=size, case_pk=case_pk)
        if not todo:
            break
        limits = pdf_limits(ctx.config.parse)
        results = [(pk, text_of(raw, part, limits)) for pk, raw, part in todo]
        texts = [(pk, got.text or None) for pk, got in results]
        owners = ctx.store.attachment_owners(pk for pk, _ in texts)
        with ctx.store.tx() as tx:
            tx.set_attachment_texts(texts)
            for pk, got in results:
                problem = cut_problem(owners[pk][2], got, limits) if pk in owners else None
                if problem:
                    tx.add_problems(owners[pk][0], [problem])
            found = [(owners[pk][:2], text) for pk, text in texts if text and pk in owners]
            cases = tx.cases_by_pk({case_pk for (case_pk, _), _ in found})
            for (case_pk, sender), text in found:
                if case_pk in cases:
                    try:
                        _complete_case(ctx, tx, cases[case_pk], sender, text)
                    except Exception as exc:  # one packet must not stop the pass (or `uq show`)
                        log.warning("pdf pass: case %d not completed (%s)", case_pk, type(exc).__name__)
        done += len(todo)
    return done


def _complete_case(ctx: Context, tx: Tx, case: Case, sender: str, text: str) -> None:
    """Fields only the PDF carries (facility, a due time, ...) fill what the case lacks;
    the usual packet repeats the email and costs one label scan, no write. A decided case
    is left as the physician saw it: its text is stored, its fields are not changed."""
    if not case.status.is_open:
        return
    zone = deadlines.case_zone(ctx, case)
    fields = fields_from_pdf_text(text, tz=zone, parse=ctx.config.parse, sender=sender, now=ctx.clock())
    merged, changed = intake.fill_missing(case.fields, fields)
    if changed:
        tx.set_case_fields(replace(case, fields=merged), changed)
        deadlines.refresh(ctx, tx, case.id)
        tx.audit(at=ctx.clock(), actor="sync", action="fields_from_pdf", case_pk=case.id, detail=", ".join(changed))


def text_of(raw: bytes, part: str, limits: PdfLimits) -> PdfResult:
    try:
        data = part_data(raw, part)
    except Exception as exc:
        log.warning("pdf pass: part not decoded (%s)", type(exc).__name__)
        return PdfResult("", "unreadable")
    return pdf_text(data, limits) if data else PdfResult("", "unreadable")
