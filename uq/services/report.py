"""What the reviewer did and earned over a period: decisions, agreement, time, pay."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from uq.domain import Outcome
from uq.services.context import Context

_DETERMINATIONS = frozenset(o.value for o in Outcome if o.is_determination)


@dataclass
class ReportRow:
    case_id: str
    client: str
    outcome: str
    agrees_with_nurse: bool | None
    decided_at: datetime
    minutes_spent: float | None
    case_key: str = ""  # the case's store id: the same case ID may come from two senders


@dataclass
class Report:
    since: datetime | None
    until: datetime | None
    rows: list[ReportRow] = field(default_factory=list)

    @property
    def by_outcome(self) -> dict[str, int]:
        return dict(Counter(r.outcome for r in self.rows))

    @property
    def agreement_rate(self) -> float | None:
        """Share of cases whose final determination agrees with the nurse. A call needed, a
        pend or a decline is no determination, and an earlier decision on the same case
        does not count again."""
        final: dict[str, bool] = {}
        for r in self.rows:  # in decision order: the last determination per case wins
            if r.outcome in _DETERMINATIONS and r.agrees_with_nurse is not None:
                final[r.case_key] = r.agrees_with_nurse
        known = list(final.values())
        return sum(known) / len(known) if known else None

    @property
    def median_minutes(self) -> float | None:
        spent = [r.minutes_spent for r in self.rows if r.minutes_spent is not None]
        return round(statistics.median(spent), 1) if spent else None

    def earnings(self, per_case: float | None, per_hour: float | None) -> float | None:
        if per_case is not None:
            billable = [r for r in self.rows if r.outcome not in ("call_needed", "pend")]
            return round(per_case * len(billable), 2)
        if per_hour is not None:
            minutes = sum(r.minutes_spent or 0 for r in self.rows)
            return round(per_hour * minutes / 60, 2)
        return None


def build_report(ctx: Context, since: datetime | None, until: datetime | None) -> Report:
    report = Report(since, until)
    for d, c in ctx.store.decisions_between(since, until):
        report.rows.append(
            ReportRow(
                case_id=c.case_id,
                client=c.fields.client or "",
                outcome=d.outcome.value,
                agrees_with_nurse=d.agrees_with_nurse,
                decided_at=d.decided_at,
                # attention, not wall time: the case in front of a reviewer who was not idle
                minutes_spent=round(c.active_seconds / 60, 1) if c.active_seconds else None,
                case_key=str(c.id),
            )
        )
    return report
