"""A shared team queue (PostgreSQL): claim a case so two reviewers never work it at once."""

from __future__ import annotations

from uq.domain import Case
from uq.errors import UqError, UsageError
from uq.services import queries
from uq.services.context import Context
from uq.services.review import resolve_case


def claim(ctx: Context, case_ref: str | None, *, next_case: bool = False) -> Case:
    if next_case == bool(case_ref):
        raise UsageError("uq claim needs a CASE_ID or --next")
    if next_case:
        for case, _ in queries.queue(ctx):
            if case.claimed_by is None and _try(ctx, case.id):
                return case
        raise UqError("no unclaimed open case")
    assert case_ref is not None
    case = resolve_case(ctx, case_ref)
    if not _try(ctx, case.id):
        current = ctx.store.case(case.id)
        raise UqError(f"{case.case_id} is claimed by {current.claimed_by if current else '?'}")
    return case


def _try(ctx: Context, case_pk: int) -> bool:
    with ctx.store.tx() as tx:
        ok = tx.claim(case_pk, ctx.user)
        if ok:
            tx.audit(at=ctx.clock(), actor=ctx.user, action="claimed", case_pk=case_pk)
    return ok


def release(ctx: Context, case_ref: str) -> Case:
    case = resolve_case(ctx, case_ref)
    if case.claimed_by not in (None, ctx.user):
        raise UqError(f"{case.case_id} is claimed by {case.claimed_by}, not you")
    with ctx.store.tx() as tx:
        tx.claim(case.id, None)
        tx.audit(at=ctx.clock(), actor=ctx.user, action="released", case_pk=case.id)
    return case
