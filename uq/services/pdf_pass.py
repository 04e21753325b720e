"""The PDF pass: text of PDF packets, extracted after the sync that stored them.

Sync parses with extract_pdf_text=False (pypdf costs more than the rest of a message's
parse), so a stored PDF starts without text. This pass fills it in small transactions; it
runs after each sync pass, and any reader that finds a PDF without text (`uq show`, the
case screen) runs it for that case first.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

from uq.mail.mime import part_data
from uq.mail.parse import fields_from_pdf_text
from uq.mail.pdf_text import pdf_text
from uq.services import deadlines
from uq.services.context import Context
from uq.store.tx import Tx

BATCH = 32


def fill_pdf_texts(
    ctx: Context, *, case_pk: int | None = None, limit: int | None = None, pool: Executor | None = None
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
        half = len(todo) // 2 if pool is not None else 0
        # with a pool (sync's parse process), it reads one half while this process reads the other
        futs = [(pk, pool.submit(text_of, raw, part)) for pk, raw, part in todo[:half]] if pool else []
        texts = [(pk, text_of(raw, part)) for pk, raw, part in todo[half:]]
        texts += [(pk, _result(f, todo[i][1], todo[i][2])) for i, (pk, f) in enumerate(futs)]
        owners = ctx.store.attachment_owners(pk for pk, _ in texts)
        with ctx.store.tx() as tx:
            tx.set_attachment_texts(texts)
            for att_pk, text in texts:
                if text and att_pk in owners:
                    _complete_case(ctx, tx, *owners[att_pk], text)
        done += len(todo)
    return done


def _complete_case(ctx: Context, tx: Tx, case_pk: int, sender: str, text: str) -> None:
    """Fields only the PDF carries (facility, a due time, ...) fill what the case lacks."""
    fields = fields_from_pdf_text(text, tz=ctx.tz, parse=ctx.config.parse, sender=sender)
    changed = tx.fill_missing_fields(case_pk, fields)
    if changed:
        deadlines.refresh(ctx, tx, case_pk)
        tx.audit(at=ctx.clock(), actor="sync", action="fields_from_pdf", case_pk=case_pk, detail=", ".join(changed))


def text_of(raw: bytes, part: str) -> str | None:
    data = part_data(raw, part)
    return pdf_text(data) if data else None


def _result(fut: Future[str | None], raw: bytes, part: str) -> str | None:
    try:
        return fut.result()
    except Exception:  # the pool broke (its process was killed): read it here
        return text_of(raw, part)
