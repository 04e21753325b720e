"""The reviewer's private note on a case: kept with the case, shown on it, never sent.

The note is never handed to the reply composer (which takes the decision, not the case's
notes), and the audit trail records only that it changed and its length: the text may
name the patient or say what the reviewer thinks of the caller.
"""

from __future__ import annotations

from uq.errors import UsageError
from uq.services.context import Context

MAX_NOTE = 20_000


def set_note(ctx: Context, case_pk: int, text: str) -> str:
    """Save (or, with empty text, clear) the reviewer's note; returns the text kept."""
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise UsageError(f"note too long: {len(text):,} characters (at most {MAX_NOTE:,})")
    now = ctx.clock()
    with ctx.store.tx() as tx:
        tx.set_note(case_pk, ctx.user, text, now)
        tx.audit(at=now, actor=ctx.user, action="note", case_pk=case_pk, detail=f"{len(text)} characters")
    return text


def note(ctx: Context, case_pk: int) -> str:
    return ctx.store.note(case_pk, ctx.user)
