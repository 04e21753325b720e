"""The three clocks on a case and its SLA state.

A case carries up to three deadlines: the reviewer's contractual turnaround (from when the
case email arrived), the regulatory decision deadline (from when the plan received the
request) and an explicit due time written in the email. The queue shows whichever expires
first, because missing any of them is a failure; on a tie the more specific clock is named
(explicit, then regulatory, then reviewer) so the reviewer sees why the time is what it is.

`compute_deadlines` runs once per case at ingest (and when a case changes), so it may
consult holiday calendars; `sla_state` runs for every visible row on every tick, so it is
a couple of subtractions and comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from uq.config import ClientPolicy, SlaConfig, parse_duration
from uq.domain import Case, Clock, Deadlines, ReviewType, SlaState, Urgency
from uq.queue.business import add_business_days, parse_cutoff

_T = TypeVar("_T")

# Tie order: the lower rank wins when two clocks fall due at the same instant.
_TIE_RANK = {Clock.EXPLICIT: 0, Clock.REGULATORY: 1, Clock.REVIEWER: 2}


def _domain_of(sender: str) -> str:
    _, at, domain = sender.rpartition("@")
    return domain.strip().strip(">").lower() if at else ""


def policy_matches(policy: ClientPolicy, case: Case) -> bool:
    """A policy matches when its text is in the case's client field (case-insensitive), or
    names the sender's domain or a parent of it ("bluecross.example" matches
    "um.bluecross.example" but not "notbluecross.example")."""
    needle = policy.match.strip().lower().lstrip("@")
    if not needle:
        return False
    client = (case.fields.client or "").lower()
    if needle in client:
        return True
    domain = _domain_of(case.sender)
    return bool(domain) and (domain == needle or domain.endswith("." + needle))


def policy_for(case: Case, sla: SlaConfig) -> ClientPolicy | None:
    """First match wins, so specific policies belong above general ones in the config."""
    for policy in sla.client:
        if policy_matches(policy, case):
            return policy
    return None


@dataclass(frozen=True, slots=True)
class _Rules:
    """The global SLA settings with one client's overrides applied key by key."""

    reviewer_minutes: int
    urgent_reviewer_minutes: int | None
    standard_reviewer_minutes: int | None
    urgent: str
    standard: str
    concurrent_urgent: str
    concurrent_standard: str
    retrospective: str
    zone: ZoneInfo
    holidays: str | None
    cutoff: str | None
    pausable: bool


def _pick(override: _T | None, default: _T) -> _T:
    return default if override is None else override


def _rules(sla: SlaConfig, policy: ClientPolicy | None, reviewer_tz: ZoneInfo) -> _Rules:
    reg = sla.regulatory
    p = policy or ClientPolicy()

    return _Rules(
        reviewer_minutes=_pick(p.reviewer_minutes, sla.reviewer_minutes),
        urgent_reviewer_minutes=_pick(p.urgent_reviewer_minutes, sla.urgent_reviewer_minutes),
        standard_reviewer_minutes=_pick(p.standard_reviewer_minutes, sla.standard_reviewer_minutes),
        urgent=_pick(p.urgent, reg.urgent),
        standard=_pick(p.standard, reg.standard),
        concurrent_urgent=_pick(p.concurrent_urgent, reg.concurrent_urgent),
        concurrent_standard=_pick(p.concurrent_standard, reg.concurrent_standard),
        retrospective=_pick(p.retrospective, reg.retrospective),
        zone=ZoneInfo(p.timezone) if p.timezone else reviewer_tz,
        holidays=p.holidays,
        cutoff=p.cutoff,
        pausable=p.pause_on_call_needed,
    )


def _is_urgent(urgency: Urgency) -> bool:
    """Unknown urgency counts as standard: the email did not claim an expedited review."""
    return urgency is Urgency.URGENT


def _reviewer_minutes(rules: _Rules, urgency: Urgency) -> int:
    if _is_urgent(urgency):
        specific = rules.urgent_reviewer_minutes
    else:
        specific = rules.standard_reviewer_minutes
    return rules.reviewer_minutes if specific is None else specific


def _regulatory_duration(rules: _Rules, review_type: ReviewType, urgency: Urgency) -> str:
    """Unknown review type counts as prospective (pre-service), the common case."""
    urgent = _is_urgent(urgency)
    if review_type is ReviewType.RETROSPECTIVE:
        return rules.retrospective
    if review_type is ReviewType.CONCURRENT:
        return rules.concurrent_urgent if urgent else rules.concurrent_standard
    return rules.urgent if urgent else rules.standard


def add_duration(start: datetime, duration: str, zone: ZoneInfo, *, holidays: str | None = None,
                 cutoff: str | None = None) -> datetime:
    """Add a configured duration to an instant.

    Hours and minutes are real elapsed time (72 h across a DST change is 72 real hours).
    Calendar days keep the local wall-clock time in `zone` (7 d from 09:00 is 09:00, whatever
    the offset did); a wall time skipped by a spring-forward gap lands just after the gap,
    an ambiguous fall-back time takes its first occurrence. Business days: see
    uq.queue.business.
    """
    amount, unit = parse_duration(duration)
    if unit in ("h", "m"):
        delta = timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)
        return (start.astimezone(UTC) + delta).astimezone(zone)
    if unit == "d":
        wall = start.astimezone(zone).replace(tzinfo=None) + timedelta(days=amount)
        return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return add_business_days(start, amount, zone, region=holidays,
                             cutoff=parse_cutoff(cutoff) if cutoff else None)


def paused_for(case: Case, policy: ClientPolicy | None, now: datetime) -> timedelta:
    """How long the clocks have stood still. Only a policy that tolls the clock (ERISA-style,
    `pause_on_call_needed = true`) pauses; Medicare and Medicaid clocks never stop."""
    if policy is None or not policy.pause_on_call_needed:
        return timedelta(0)
    paused = timedelta(seconds=max(case.paused_seconds, 0))
    if case.paused_since is not None:
        paused += max(now.astimezone(UTC) - case.paused_since.astimezone(UTC), timedelta(0))
    return paused


def sla_state(due_at: datetime, window_start: datetime | None, now: datetime, *,
              warning_fraction: float, warning_minutes: int) -> tuple[int, SlaState]:
    """Seconds left (floored, negative once breached) and the state. Called per visible row
    per tick: keep it to arithmetic. Differences go through UTC because Python subtracts two
    datetimes sharing a tzinfo by wall clock, which is an hour off across a DST change."""
    due_utc = due_at.astimezone(UTC)
    left = due_utc - now.astimezone(UTC)
    seconds = left.days * 86400 + left.seconds  # floor of total_seconds, without floats
    if seconds < 0:
        return seconds, SlaState.BREACHED
    if seconds < warning_minutes * 60:
        return seconds, SlaState.WARNING
    if window_start is not None:
        window = due_utc - window_start.astimezone(UTC)
        window_seconds = window.days * 86400 + window.seconds
        if window_seconds > 0 and seconds < warning_fraction * window_seconds:
            return seconds, SlaState.WARNING
    return seconds, SlaState.OK


def _utc(value: datetime, zone: ZoneInfo) -> datetime:
    """Defensive: a naive time is read as local time in the zone that applies."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return aware.astimezone(UTC)


def compute_deadlines(case: Case, sla: SlaConfig, now: datetime, *,
                      reviewer_tz: ZoneInfo) -> Deadlines:
    """All three clocks, the binding one and its state at `now`.

    Every datetime in the result is in UTC: Python compares and subtracts datetimes that
    share a zoneinfo tzinfo by wall clock, and an ambiguous local time never compares equal
    to another zone's, so local times would misbehave around DST. Render with
    `.astimezone(tz)`.

    An extension (`regulatory_extended_to`) replaces the computed regulatory deadline as
    the notice states it, so it is not shifted by pauses. While a pausable case is paused
    its due_at moves with `now`, so a caller persisting due_at must recompute on resume.
    """
    policy = policy_for(case, sla)
    rules = _rules(sla, policy, reviewer_tz)
    fields = case.fields
    arrived = _utc(case.arrived_at, rules.zone)
    received = _utc(fields.received_at, rules.zone) if fields.received_at else arrived
    pause = paused_for(case, policy, now)

    reviewer_due = arrived + timedelta(minutes=_reviewer_minutes(rules, fields.urgency)) + pause
    if case.regulatory_extended_to is not None:
        regulatory_due = _utc(case.regulatory_extended_to, rules.zone)
    else:
        duration = _regulatory_duration(rules, fields.review_type, fields.urgency)
        computed = add_duration(received, duration, rules.zone, holidays=rules.holidays,
                                cutoff=rules.cutoff)
        regulatory_due = computed.astimezone(UTC) + pause
    explicit_due = _utc(fields.due_at, rules.zone) if fields.due_at else None

    candidates = [(reviewer_due, Clock.REVIEWER), (regulatory_due, Clock.REGULATORY)]
    if explicit_due is not None:
        candidates.append((explicit_due, Clock.EXPLICIT))
    due_at, binding = min(candidates, key=lambda c: (c[0], _TIE_RANK[c[1]]))
    window_start = received if binding is Clock.REGULATORY else arrived
    seconds_left, state = sla_state(
        due_at, window_start, now,
        warning_fraction=sla.warning_fraction, warning_minutes=sla.warning_minutes,
    )
    return Deadlines(
        reviewer_due_at=reviewer_due,
        regulatory_due_at=regulatory_due,
        explicit_due_at=explicit_due,
        due_at=due_at,
        binding=binding,
        seconds_left=seconds_left,
        state=state,
        window_start=window_start,
    )
