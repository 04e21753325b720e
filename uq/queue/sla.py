"""The three clocks on a case and its SLA state.

A case carries up to three deadlines: the reviewer's contractual turnaround (from when the
case email arrived), the regulatory decision deadline (from when the plan received the
request) and an explicit due time written in the email. The queue shows whichever expires
first, because missing any of them is a failure; on a tie the more specific clock is named
(explicit, then regulatory, then reviewer) so the reviewer sees why the time is what it is.

The regulatory clock follows the client's policy: its durations (appeals have their own),
the cut-off and the review types it applies to, the receipt-day reading, the holiday
calendar and whether an information request (pend) tolls it. Where a fact is missing or a
rule reads two ways, the earlier deadline is taken and the case says so.

`compute_deadlines` runs once per case at ingest (and when a case changes), so it may
consult holiday calendars; `sla_state` runs for every visible row on every tick, so it is
a couple of subtractions and comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from uq.config import DEFAULT_CUTOFF_APPLIES, ClientPolicy, RegulatoryConfig, SlaConfig, parse_duration
from uq.domain import (
    Case,
    Clock,
    Deadlines,
    ReviewLevel,
    ReviewType,
    SlaState,
    Urgency,
)
from uq.queue.business import (
    NO_HOLIDAYS,
    SAME_DAY,
    HolidayCalendar,
    add_business_days,
    business_day_zero,
    is_business_day,
    parse_cutoff,
)

_T = TypeVar("_T")

# Tie order: the lower rank wins when two clocks fall due at the same instant.
_TIE_RANK = {Clock.EXPLICIT: 0, Clock.REGULATORY: 1, Clock.REVIEWER: 2}


def _domain_of(sender: str) -> str:
    _, at, domain = sender.rpartition("@")
    return domain.strip().strip(">").lower() if at else ""


def policy_matches(policy: ClientPolicy, *, client: str | None, sender: str) -> bool:
    """A policy matches when its text is in the case's client field (case-insensitive), or
    names the sender's domain or a parent of it ("bluecross.example" matches
    "um.bluecross.example" but not "notbluecross.example")."""
    needle = policy.match.strip().lower().lstrip("@")
    if not needle:
        return False
    if needle in (client or "").lower():
        return True
    domain = _domain_of(sender)
    return bool(domain) and (domain == needle or domain.endswith("." + needle))


def policy_for(case: Case, sla: SlaConfig) -> ClientPolicy | None:
    return policy_for_parts(sla, client=case.fields.client, sender=case.sender)


def policy_for_parts(sla: SlaConfig, *, client: str | None, sender: str) -> ClientPolicy | None:
    """First match wins, so specific policies belong above general ones in the config."""
    for policy in sla.client:
        if policy_matches(policy, client=client, sender=sender):
            return policy
    return None


@dataclass(frozen=True, slots=True)
class _Rules:
    """The global SLA settings with one client's overrides applied key by key."""

    reviewer_minutes: int
    urgent_reviewer_minutes: int | None
    standard_reviewer_minutes: int | None
    durations: dict[str, str]  # RegulatoryConfig field name -> duration
    zone: ZoneInfo
    calendar: HolidayCalendar
    cutoff: time | None
    cutoff_applies: tuple[str, ...]
    receipt_day: str
    toll_on_pend: bool


def _pick(override: _T | None, default: _T) -> _T:
    return default if override is None else override


def _calendar(p: ClientPolicy) -> HolidayCalendar:
    return HolidayCalendar(region=p.holidays, extra=frozenset(p.holidays_add) | p.holidays_file_dates,
                           removed=frozenset(p.holidays_remove), from_file=bool(p.holidays_file_dates))


# (id(sla), id(policy), zone) -> (sla, policy, rules): the rules of a policy are the same
# for every case it matches, and building them is most of a clock's cost. The objects are
# kept in the entry and compared by identity, so a reused id never returns stale rules.
_RULES_CACHE: dict[tuple[int, int, str], tuple[SlaConfig, ClientPolicy | None, _Rules]] = {}


def _rules(sla: SlaConfig, policy: ClientPolicy | None, reviewer_tz: ZoneInfo) -> _Rules:
    key = (id(sla), id(policy), reviewer_tz.key)
    hit = _RULES_CACHE.get(key)
    if hit is not None and hit[0] is sla and hit[1] is policy:
        return hit[2]
    if len(_RULES_CACHE) > 256:
        _RULES_CACHE.clear()
    rules = _build_rules(sla, policy, reviewer_tz)
    _RULES_CACHE[key] = (sla, policy, rules)
    return rules


def _build_rules(sla: SlaConfig, policy: ClientPolicy | None, reviewer_tz: ZoneInfo) -> _Rules:
    reg = sla.regulatory
    p = policy or ClientPolicy()
    durations = {f.name: _pick(getattr(p, f.name), getattr(reg, f.name)) for f in fields(RegulatoryConfig)}
    return _Rules(
        reviewer_minutes=_pick(p.reviewer_minutes, sla.reviewer_minutes),
        urgent_reviewer_minutes=_pick(p.urgent_reviewer_minutes, sla.urgent_reviewer_minutes),
        standard_reviewer_minutes=_pick(p.standard_reviewer_minutes, sla.standard_reviewer_minutes),
        durations=durations,
        zone=ZoneInfo(p.timezone) if p.timezone else reviewer_tz,
        calendar=_calendar(p),
        cutoff=parse_cutoff(p.cutoff) if p.cutoff else None,
        cutoff_applies=tuple(_pick(p.cutoff_applies, list(DEFAULT_CUTOFF_APPLIES))),
        receipt_day=p.receipt_day or SAME_DAY,
        toll_on_pend=p.toll_on_pend,
    )


def naive_zone(sla: SlaConfig, *, client: str | None, sender: str, reviewer_tz: ZoneInfo) -> ZoneInfo:
    """The zone a time written without one is read in: the matching client policy's, else
    the reviewer's (a west-coast reviewer's east-coast senders write east-coast times)."""
    policy = policy_for_parts(sla, client=client, sender=sender)
    return ZoneInfo(policy.timezone) if policy and policy.timezone else reviewer_tz


def is_urgent(urgency: Urgency) -> bool:
    """Unknown urgency runs the urgent clocks until the reviewer sets it: the earlier
    deadline is the safe one, and the case says the fact is missing."""
    return urgency is not Urgency.STANDARD


def _reviewer_minutes(rules: _Rules, urgency: Urgency) -> int:
    if is_urgent(urgency):
        specific = rules.urgent_reviewer_minutes
    else:
        specific = rules.standard_reviewer_minutes
    return rules.reviewer_minutes if specific is None else specific


def effective_review_type(review_type: ReviewType) -> ReviewType:
    """Unknown review type counts as prospective (pre-service), the common case."""
    return ReviewType.PROSPECTIVE if review_type is ReviewType.UNKNOWN else review_type


def _duration_key(review_type: ReviewType, urgent: bool, level: ReviewLevel) -> str:
    kind = effective_review_type(review_type)
    if level.is_appeal:
        if kind is ReviewType.RETROSPECTIVE:
            return "appeal_retrospective"
        return "appeal_urgent" if urgent else "appeal_standard"
    if kind is ReviewType.RETROSPECTIVE:
        return "retrospective"
    if kind is ReviewType.CONCURRENT:
        return "concurrent_urgent" if urgent else "concurrent_standard"
    return "urgent" if urgent else "standard"


def cutoff_applies(rules: _Rules, review_type: ReviewType, urgent: bool) -> bool:
    """8 CCR 9792.9.1(a)(1): the cut-off is for the review types the policy lists; an
    urgent (expedited) review only when "urgent" is listed too."""
    if rules.cutoff is None:
        return False
    if urgent and "urgent" not in rules.cutoff_applies:
        return False
    return effective_review_type(review_type).value in rules.cutoff_applies


def add_duration(start: datetime, duration: str, zone: ZoneInfo, *, calendar: HolidayCalendar = NO_HOLIDAYS,
                 cutoff: time | None = None, receipt_day: str = SAME_DAY) -> datetime:
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
    return add_business_days(start, amount, zone, cal=calendar, cutoff=cutoff, receipt_day=receipt_day)


_UNIT_WORDS = {"h": "hours", "m": "minutes", "d": "calendar days", "bd": "business days"}


def _rule_text(duration: str, start: datetime, rules: _Rules, *, cutoff: time | None, level: ReviewLevel,
               from_arrival: bool) -> str:
    """"5 business days from Mon 12 Jan, 17:30 cut-off, US-CA holidays": the rule that
    produced the deadline, so the reviewer can check it against the contract."""
    amount, unit = parse_duration(duration)
    local = start.astimezone(rules.zone)
    words = _UNIT_WORDS[unit] if amount != 1 else _UNIT_WORDS[unit].rstrip("s")
    parts: list[str] = []
    if unit == "bd":
        zero = business_day_zero(start, rules.zone, rules.calendar, cutoff, rules.receipt_day)
        head = f"{amount} {words} from {zero.day:%a %d %b %Y}"
        if zero.after_cutoff:
            head += f" (received {local:%a %H:%M}, after the cut-off)"
        elif zero.moved:
            head += f" (received {local:%a %d %b}, next business day)"
        elif not is_business_day(zero.day, rules.calendar):
            head += " (weekend/holiday receipt counts from the receipt day)"
        parts.append(head)
        if cutoff is not None:
            parts.append(f"{cutoff:%H:%M} cut-off")
        parts.append(rules.calendar.describe())
    else:
        parts.append(f"{amount} {words} from {local:%a %d %b %Y %H:%M %Z}")
    if level.is_appeal:
        parts.append(level.value.replace("_", " ") + " clock")
    if from_arrival:
        parts.append("from the email's arrival (no received time)")
    return ", ".join(parts)


# ERISA urgent care claims are never tolled: the plan asks for the missing information
# within 24 h of receipt, allows at least 48 h for the answer, and decides within 48 h of
# the earlier of the answer and the end of that window (29 CFR 2560.503-1(f)(2)(i)).
URGENT_INFO_NOTICE = timedelta(hours=24)
URGENT_INFO_WINDOW = timedelta(hours=48)
URGENT_DECISION_AFTER_INFO = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class _Regulatory:
    due: datetime
    rule: str
    paused: bool = False
    frozen_left: int = 0
    milestones: tuple[tuple[str, datetime], ...] = ()


def _seconds(delta: timedelta) -> int:
    return delta.days * 86400 + delta.seconds


def paused_seconds_left(due_at_toll: datetime, pended_at: datetime) -> int:
    """What a tolled regulatory clock had left when the information request went out: the
    time it shows, frozen, until the toll ends. The queue list recomputes it from the two
    stored instants (case_row.regulatory_due_at, paused_since) instead of storing it."""
    return _seconds(due_at_toll - pended_at)


def _with_pend(case: Case, rules: _Rules, base: datetime, rule: str, received: datetime,
               urgent: bool) -> _Regulatory:
    """What an information request does to the regulatory clock under the policy. A request
    sent after the deadline had passed tolls nothing: a breach is not undone by asking."""
    pended = case.pended_at.astimezone(UTC) if case.pended_at else None
    answered = case.info_received_at.astimezone(UTC) if case.info_received_at else None
    if not rules.toll_on_pend or (pended is None and not case.earlier_pend_seconds):
        return _Regulatory(base, rule)
    if urgent:
        if pended is None:
            return _Regulatory(base, rule)
        window_end = pended + URGENT_INFO_WINDOW
        decide_by = min(answered or window_end, window_end) + URGENT_DECISION_AFTER_INFO
        milestones = (
            ("information request due", received + URGENT_INFO_NOTICE),
            ("information due", window_end),
            ("decision due", decide_by),
        )
        answer = f"answer {'received' if answered else 'awaited'}"
        late = ", the request went out after its 24-hour limit" if pended > received + URGENT_INFO_NOTICE else ""
        return _Regulatory(decide_by, f"urgent claim, never tolled: information requested{late}, {answer}; "
                                      "decision 48 hours after the answer or the 48-hour window",
                           milestones=milestones)
    earlier = timedelta(seconds=max(case.earlier_pend_seconds, 0))
    if pended is not None and pended >= base + earlier:
        return _Regulatory(base + earlier, rule + ", information requested after the deadline: not tolled")
    if pended is not None and answered is None:
        as_of_toll = base + earlier
        return _Regulatory(as_of_toll, rule + ", tolled: information requested", paused=True,
                           frozen_left=paused_seconds_left(as_of_toll, pended))
    toll = earlier + (max(answered - pended, timedelta(0)) if pended and answered else timedelta(0))
    return _Regulatory(base + toll, f"{rule}, tolled {_span(toll)} for requested information")


def _span(delta: timedelta) -> str:
    hours = _seconds(delta) // 3600
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {_seconds(delta) % 3600 // 60:02d}m"


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


def clock_problems(case: Case) -> tuple[str, ...]:
    """Facts the clocks need that the packet did not give, in the words the case shows.
    Derived, not stored: they go away as soon as the fact is known (a follow-up, the PDF
    pass, `uq set`)."""
    out = []
    if case.fields.received_at is None:
        out.append("received time missing: the regulatory clock runs from the email's arrival")
    if case.fields.urgency is Urgency.UNKNOWN:
        out.append("urgency unknown: the urgent clocks run until it is set (uq set --urgency)")
    return tuple(out)


def compute_deadlines(case: Case, sla: SlaConfig, now: datetime, *,
                      reviewer_tz: ZoneInfo) -> Deadlines:
    """All the clocks, the binding one and its state at `now`.

    Every datetime in the result is in UTC: Python compares and subtracts datetimes that
    share a zoneinfo tzinfo by wall clock, and an ambiguous local time never compares equal
    to another zone's, so local times would misbehave around DST. Render with
    `.astimezone(tz)`.

    An extension (`regulatory_extended_to`) replaces the computed regulatory deadline as
    the notice states it. The reviewer's turnaround never pauses; a tolled regulatory
    clock is reported (paused, with the time it had left) but cannot bind, so due_at is
    always a fixed instant a caller may store.
    """
    policy = policy_for(case, sla)
    rules = _rules(sla, policy, reviewer_tz)
    fields_ = case.fields
    urgent = is_urgent(fields_.urgency)
    level = fields_.review_level
    arrived = _utc(case.arrived_at, rules.zone)
    from_arrival = fields_.received_at is None
    received = arrived if fields_.received_at is None else _utc(fields_.received_at, rules.zone)

    reviewer_due = arrived + timedelta(minutes=_reviewer_minutes(rules, fields_.urgency))
    if case.regulatory_extended_to is not None:
        reg = _Regulatory(_utc(case.regulatory_extended_to, rules.zone), "extended by notice")
    else:
        duration = rules.durations[_duration_key(fields_.review_type, urgent, level)]
        cutoff = rules.cutoff if cutoff_applies(rules, fields_.review_type, urgent) else None
        computed = add_duration(received, duration, rules.zone, calendar=rules.calendar, cutoff=cutoff,
                                receipt_day=rules.receipt_day)
        rule = _rule_text(duration, received, rules, cutoff=cutoff, level=level, from_arrival=from_arrival)
        reg = _with_pend(case, rules, computed.astimezone(UTC), rule, received, urgent)
    regulatory_due = reg.due
    explicit_due = _utc(fields_.due_at, rules.zone) if fields_.due_at else None

    candidates = [(reviewer_due, Clock.REVIEWER)]
    if not reg.paused:
        candidates.append((regulatory_due, Clock.REGULATORY))
    if explicit_due is not None:
        candidates.append((explicit_due, Clock.EXPLICIT))
    due_at, binding = min(candidates, key=lambda c: (c[0], _TIE_RANK[c[1]]))
    window_start = received if binding is Clock.REGULATORY else arrived
    seconds_left, state = sla_state(
        due_at, window_start, now,
        warning_fraction=sla.warning_fraction, warning_minutes=sla.warning_minutes,
    )
    regulatory_left = reg.frozen_left if reg.paused else _seconds(regulatory_due - now.astimezone(UTC))
    return Deadlines(
        reviewer_due_at=reviewer_due,
        regulatory_due_at=regulatory_due,
        explicit_due_at=explicit_due,
        due_at=due_at,
        binding=binding,
        seconds_left=seconds_left,
        state=state,
        window_start=window_start,
        regulatory_paused=reg.paused,
        regulatory_seconds_left=regulatory_left,
        regulatory_rule=reg.rule,
        milestones=reg.milestones,
    )
