"""A shared team queue: a claim is a lease so two reviewers never work a case at once, and
a reviewer whose laptop dies holds nothing for longer than [team] lease_minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from uq.domain import Case, CaseStatus
from uq.errors import UqError, UsageError
from uq.queue.assign import Qualifications, best_first
from uq.services.context import Context
from uq.services.review import resolve_case

CANDIDATES = 200  # how far down the queue --next looks for a case matching the reviewer


def lease_end(ctx: Context, now: datetime) -> datetime:
    return now + timedelta(minutes=ctx.config.team.lease_minutes)


def claim(ctx: Context, case_ref: str | None, *, next_case: bool = False) -> Case:
    """Claim one case (or the best free one for this reviewer); the lease is in the result."""
    if next_case == bool(case_ref):
        raise UsageError("uq claim needs a CASE_ID or --next")
    if next_case:
        return claim_next(ctx)
    assert case_ref is not None
    case = resolve_case(ctx, case_ref)
    return claim_case(ctx, case.id)


def claim_case(ctx: Context, case_pk: int) -> Case:
    claimed = _try(ctx, case_pk)
    if claimed is None:
        current = ctx.store.case(case_pk)
        if current is None:
            raise UqError(f"case #{case_pk} is gone")
        holder = current.holder(ctx.clock())
        if holder is None:
            raise UqError(f"{current.case_id} is {current.status.value}: nothing to claim")
        raise UqError(f"{current.case_id} is claimed by {holder} until {_local(ctx, current.claim_until)}")
    return claimed


def claim_next(ctx: Context) -> Case:
    """The best free case for this reviewer among the first CANDIDATES of the queue."""
    reviewer = ctx.config.reviewer
    quals = Qualifications(reviewer.specialty, tuple(reviewer.license_states))
    for pk in best_first(ctx.store.claim_candidates(ctx.clock(), CANDIDATES), quals):
        claimed = _try(ctx, pk, skip_busy=True)  # taken meanwhile by another reviewer: the next one
        if claimed is not None:
            return claimed
    raise UqError("no unclaimed open case")


@dataclass(frozen=True)
class Hold:
    """Who holds a case the reviewer just opened, as the case screen shows it."""

    holder: str | None  # None: nobody (a decided case is not claimed on opening)
    until: datetime | None
    mine: bool
    keep: bool  # ours before this opening (`uq claim`): leaving the case does not release it


def hold_on_open(ctx: Context, case_pk: int) -> Hold:
    """Team mode: opening a case claims it, unless someone else holds it (then read-only)."""
    now = ctx.clock()
    before = ctx.store.case(case_pk)
    if before is None:
        raise UqError(f"case #{case_pk} is gone")
    keep = before.holder(now) == ctx.user
    if before.status is CaseStatus.DECIDED:
        return Hold(before.holder(now), before.claim_until, keep, keep)
    claimed = _try(ctx, case_pk)
    if claimed is not None:
        return Hold(ctx.user, claimed.claim_until, True, keep)
    current = ctx.store.case(case_pk) or before
    return Hold(current.holder(now), current.claim_until, False, False)


def keep_hold(ctx: Context, case_pk: int, hold: Hold) -> Hold:
    """What an open case does every renew_seconds: extend our lease; if it was lost (it ran
    out and someone took it), the case is claimed again if free, else shown read-only."""
    renewed = renew(ctx, case_pk)
    if renewed is not None:
        return Hold(ctx.user, renewed.claim_until, True, hold.keep)
    return hold_on_open(ctx, case_pk)


def renew_seconds(ctx: Context) -> float:
    """How often an open case renews its lease: three chances before it runs out."""
    return ctx.config.team.lease_minutes * 60 / 3


def renew(ctx: Context, case_pk: int) -> Case | None:
    """Keep our lease while the case is open; None once someone else holds it."""
    now = ctx.clock()
    with ctx.store.tx() as tx:
        if not tx.renew_claim(case_pk, ctx.user, lease_end(ctx, now)):
            return None
        return tx.case(case_pk)


def release(ctx: Context, case_ref: str) -> Case:
    case = resolve_case(ctx, case_ref)
    holder = case.holder(ctx.clock())
    if holder not in (None, ctx.user):
        raise UqError(f"{case.case_id} is claimed by {holder}, not you")
    release_case(ctx, case.id)
    return case


def release_case(ctx: Context, case_pk: int) -> None:
    with ctx.store.tx() as tx:
        if tx.release_claim(case_pk, ctx.user):
            tx.audit(at=ctx.clock(), actor=ctx.user, action="released", case_pk=case_pk)


def _try(ctx: Context, case_pk: int, *, skip_busy: bool = False) -> Case | None:
    now = ctx.clock()
    with ctx.store.tx() as tx:
        if not tx.claim(case_pk, ctx.user, now=now, until=lease_end(ctx, now), skip_busy=skip_busy):
            return None
        tx.audit(at=now, actor=ctx.user, action="claimed", case_pk=case_pk)
        return tx.case(case_pk)


def _local(ctx: Context, at: datetime | None) -> str:
    return at.astimezone(ctx.tz).strftime("%H:%M %Z") if at else "?"
