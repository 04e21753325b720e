"""Accepting an unverified update: the reviewer's say-so that a follow-up from someone
other than the case's sender may change the case.

Sync keeps such a message (raw kind "unverified", linked to the case) and applies none of
it; accepting it re-reads the stored bytes with the same parser and applies them by the
same merge rule (uq.intake) a trusted follow-up gets at sync.
"""

from __future__ import annotations

from dataclasses import replace

from uq import intake
from uq.domain import MessageKind
from uq.errors import UqError
from uq.mail.parse import parse_email
from uq.services import deadlines
from uq.services.context import Context


def accept_update(ctx: Context, case_pk: int, raw_pk: int) -> list[str]:
    """Apply unverified message `raw_pk` to case `case_pk`; returns the changed field names."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        found = tx.raw_message(raw_pk)
        if found is None or found[0].case_pk != case_pk or found[0].kind != "unverified":
            raise UqError(f"message {raw_pk} is not an unverified update of this case (see `uq show`)")
        info, raw = found
        parsed = parse_email(raw, tz=ctx.tz, parse=ctx.config.parse, extract_pdf_text=False,
                             zone_for=deadlines.zone_for(ctx))
        if parsed.kind is MessageKind.QUARANTINE:
            raise UqError(f"message {raw_pk} cannot be read ({parsed.reason}): nothing to apply")
        case = tx.case(case_pk)
        merged, changed = intake.merge_followup_fields(case.fields, parsed.fields)
        problems = tuple(p for p in case.problems if not intake.is_unverified_flag(p, raw_pk))
        case = replace(case, fields=merged, problems=problems, last_updated_at=now)
        body = f"\n\n--- update {now.isoformat()} (accepted from {info.sender}) ---\n{parsed.body_text}"
        tx.apply_followups([(case, changed, body if parsed.body_text else "", 1)])
        tx.set_problems([(case_pk, problems)])
        tx.add_attachments([(case_pk, raw_pk, replace(a, data=b"")) for a in parsed.attachments])
        tx.set_raw_kind(raw_pk, "updated", f"accepted by {ctx.user}")
        if tx.end_pend(case_pk, info.internaldate or info.ingested_at):  # it answers the request
            tx.audit(at=now, actor=ctx.user, action="information_received", case_pk=case_pk,
                     detail=f"accepted message {raw_pk} ended the pend")
        deadlines.refresh(ctx, tx, case_pk)
        detail = f"message {raw_pk} from another sender; changed: {', '.join(changed) or 'none'}"
        tx.audit(at=now, actor=ctx.user, action="update_accepted", case_pk=case_pk, detail=detail)
    return changed
