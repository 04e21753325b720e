"""Queue order: what the reviewer should open next.

Earliest deadline first, because that is what expires; urgency only breaks ties (an
urgent case already has the shorter clock); then first come, first served; then the store
key so two identical cases never swap places between refreshes. A breached case has the
earliest due_at of all and so stays on top, counting negative.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from uq.config import SlaConfig
from uq.domain import Case, Deadlines, Urgency
from uq.queue.sla import compute_deadlines

URGENCY_RANK: dict[Urgency, int] = {Urgency.URGENT: 0, Urgency.STANDARD: 1, Urgency.UNKNOWN: 2}

QueueKey = tuple[datetime, int, datetime, int]


def queue_key(case: Case, deadlines: Deadlines) -> QueueKey:
    """Sortable. Times are normalised to UTC because datetimes sharing a tzinfo compare by
    wall clock, which misorders the repeated hour when DST ends."""
    return (
        deadlines.due_at.astimezone(UTC),
        URGENCY_RANK.get(case.fields.urgency, len(URGENCY_RANK)),
        case.arrived_at.astimezone(UTC),
        case.id,
    )


def order_queue(cases: Iterable[Case], sla: SlaConfig, now: datetime, *,
                reviewer_tz: ZoneInfo) -> list[tuple[Case, Deadlines]]:
    """Open cases only (call-needed ones included: their clock keeps running)."""
    rows = [(case, compute_deadlines(case, sla, now, reviewer_tz=reviewer_tz))
            for case in cases if case.status.is_open]
    rows.sort(key=lambda row: queue_key(row[0], row[1]))
    return rows
