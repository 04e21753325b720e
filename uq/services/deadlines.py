"""Keep the store's denormalised deadline columns in step with the queue's clock rules.

The store indexes due_at so the queue's top-N read is ~1 ms at 100k cases (PERF_NOTES);
that only works if every change that moves a clock (ingest, follow-up, extension, pause,
status) recomputes it here, through the one pure function in uq.queue.
"""

from __future__ import annotations

from uq.domain import Case, Deadlines
from uq.queue.sla import compute_deadlines
from uq.services.context import Context
from uq.store.tx import Tx


def deadlines_for(ctx: Context, case: Case) -> Deadlines:
    return compute_deadlines(case, ctx.config.sla, ctx.clock(), reviewer_tz=ctx.tz)


def refresh(ctx: Context, tx: Tx, case_pk: int, case: Case | None = None) -> Deadlines:
    """Recompute and store; pass the case when the caller already holds its current state
    (saves re-reading the row)."""
    d = deadlines_for(ctx, case if case is not None else tx.case(case_pk))
    tx.set_deadlines(case_pk, d)
    return d
