"""Keep the store's denormalised deadline columns in step with the queue's clock rules.

The store indexes due_at so the queue's top-N read is ~1 ms at 100k cases (PERF_NOTES);
that only works if every change that moves a clock (ingest, follow-up, extension, pause,
status) recomputes it here, through the one pure function in uq.queue.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from uq.domain import Case, Deadlines
from uq.queue.sla import compute_deadlines, naive_zone
from uq.services.context import Context
from uq.store.tx import Tx


def deadlines_for(ctx: Context, case: Case) -> Deadlines:
    return compute_deadlines(case, ctx.config.sla, ctx.clock(), reviewer_tz=ctx.tz)


def zone_for(ctx: Context) -> Callable[[str, str | None], ZoneInfo] | None:
    """The parser's zone for times written without one: the client policy's, else the
    reviewer's. None (the reviewer's zone, no lookup) when no policy names a zone."""
    sla, tz = ctx.config.sla, ctx.tz
    if not any(p.timezone for p in sla.client):
        return None

    def resolve(sender: str, client: str | None) -> ZoneInfo:
        return naive_zone(sla, client=client, sender=sender, reviewer_tz=tz)

    return resolve


def case_zone(ctx: Context, case: Case) -> ZoneInfo:
    return naive_zone(ctx.config.sla, client=case.fields.client, sender=case.sender, reviewer_tz=ctx.tz)


def refresh(ctx: Context, tx: Tx, case_pk: int, case: Case | None = None) -> Deadlines:
    """Recompute and store; pass the case when the caller already holds its current state
    (saves re-reading the row)."""
    d = deadlines_for(ctx, case if case is not None else tx.case(case_pk))
    tx.set_deadlines(case_pk, d)
    return d
