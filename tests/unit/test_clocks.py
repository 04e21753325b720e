"""Clock vectors from DOMAIN.md: every regime, both urgencies, business days, cut-offs,
DST, explicit due times, extensions, tolls and per-client policies (the rules' own vectors,
with citations, are in test_clock_rules.py).

Every vector states the expected due_at as a literal aware datetime and the binding clock.
Regulatory vectors have the nurse email arrive late (shortly before the regulatory
deadline) so the regulatory clock, not the 2-hour reviewer clock, is the one that binds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from uq.config import ClientPolicy, RegulatoryConfig, SlaConfig
from uq.domain import Case, CaseFields, CaseStatus, Clock, ReviewType, SlaState, Urgency
from uq.queue.business import (
    NO_HOLIDAYS,
    HolidayCalendar,
    add_business_days,
    business_day_zero,
    holiday_dates,
    is_business_day,
)
from uq.queue.clock import FixedClock
from uq.queue.sla import add_duration, compute_deadlines, policy_for, sla_state

ET = ZoneInfo("America/New_York")
PT = ZoneInfo("America/Los_Angeles")

U, S, X = Urgency.URGENT, Urgency.STANDARD, Urgency.UNKNOWN
PRO, CON, RETRO, UNK = (ReviewType.PROSPECTIVE, ReviewType.CONCURRENT,
                        ReviewType.RETROSPECTIVE, ReviewType.UNKNOWN)

REGIMES = SlaConfig(client=[
    ClientPolicy(match="wc-ca", urgent="72h", standard="5bd", cutoff="17:30",
                 timezone="America/Los_Angeles", holidays="US-CA"),
    ClientPolicy(match="ncqa", standard="15d"),
    ClientPolicy(match="erisa", standard="15d", toll_on_pend=True),
])
MEDICARE = "Medicare Advantage"
NCQA = "Commercial NCQA"
ERISA = "ERISA Employer Plan"
WC_CA = "WC-CA Workers' Comp"


def make_case(*, arrived: datetime, received: datetime | None = None, urgency: Urgency = S,
              review: ReviewType = PRO, client: str | None = None,
              sender: str = "nurse@um-vendor.example", explicit: datetime | None = None,
              extended_to: datetime | None = None, earlier_pend_seconds: int = 0,
              pended_at: datetime | None = None, info_at: datetime | None = None, pk: int = 1,
              status: CaseStatus = CaseStatus.OPEN) -> Case:
    return Case(
        id=pk, case_id=f"UM-{pk:05d}", sender=sender, subject=f"Case UM-{pk:05d}",
        status=status, arrived_at=arrived,
        fields=CaseFields(case_id=f"UM-{pk:05d}", review_type=review, urgency=urgency,
                          received_at=received, due_at=explicit, client=client),
        regulatory_extended_to=extended_to, earlier_pend_seconds=earlier_pend_seconds,
        pended_at=pended_at, info_received_at=info_at,
    )


@dataclass(frozen=True, kw_only=True)
class Vector:
    id: str
    arrived: datetime
    due: datetime
    binding: Clock
    received: datetime | None = None
    urgency: Urgency = S
    review: ReviewType = PRO
    client: str | None = None
    sender: str = "nurse@um-vendor.example"
    explicit: datetime | None = None
    extended_to: datetime | None = None
    earlier_pend_seconds: int = 0
    pended_at: datetime | None = None
    now: datetime | None = None  # default: the arrival
    sla: SlaConfig = field(default_factory=lambda: REGIMES)
    regulatory: datetime | None = None  # also assert regulatory_due_at when given


def d(y: int, mo: int, day: int, h: int = 0, mi: int = 0, s: int = 0,
      tz: ZoneInfo = ET) -> datetime:
    return datetime(y, mo, day, h, mi, s, tzinfo=tz)


REG, REV, EXP = Clock.REGULATORY, Clock.REVIEWER, Clock.EXPLICIT

VECTORS = [
    # --- Medicare Advantage / Medicaid (CMS-0057-F defaults): 72 h / 7 calendar days
    Vector(id="medicare-urgent-72h", client=MEDICARE, urgency=U,
           received=d(2026, 4, 6, 9), arrived=d(2026, 4, 9, 8),
           due=d(2026, 4, 9, 9), binding=REG),
    Vector(id="medicaid-standard-7d", client="State Medicaid", urgency=S,
           received=d(2026, 4, 6, 9), arrived=d(2026, 4, 13, 8, 30),
           due=d(2026, 4, 13, 9), binding=REG),
    # --- NCQA commercial: 72 h / 15 days configured
    Vector(id="ncqa-urgent-72h", client=NCQA, urgency=U,
           received=d(2026, 5, 4, 14), arrived=d(2026, 5, 7, 13),
           due=d(2026, 5, 7, 14), binding=REG),
    Vector(id="ncqa-standard-15d", client=NCQA, urgency=S,
           received=d(2026, 5, 4, 14), arrived=d(2026, 5, 19, 13),
           due=d(2026, 5, 19, 14), binding=REG),
    # --- ERISA: 72 h / 15 days
    Vector(id="erisa-urgent-72h", client=ERISA, urgency=U,
           received=d(2026, 6, 1, 10), arrived=d(2026, 6, 4, 9, 30),
           due=d(2026, 6, 4, 10), binding=REG),
    Vector(id="erisa-standard-15d", client=ERISA, urgency=S,
           received=d(2026, 6, 1, 10), arrived=d(2026, 6, 16, 9),
           due=d(2026, 6, 16, 10), binding=REG),
    # --- California workers' comp: 72 h / 5 business days, 17:30 PT cut-off, US-CA holidays
    Vector(id="wc-ca-urgent-72h", client=WC_CA, urgency=U,
           received=d(2026, 7, 6, 9, tz=PT), arrived=d(2026, 7, 9, 8, tz=PT),
           due=d(2026, 7, 9, 9, tz=PT), binding=REG),
    Vector(id="wc-ca-5bd-across-weekend", client=WC_CA,  # Thu -> Fri, Mon..Thu
           received=d(2026, 3, 5, 10, tz=PT), arrived=d(2026, 3, 12, 23, tz=PT),
           due=d(2026, 3, 12, 23, 59, 59, tz=PT), binding=REG),
    Vector(id="wc-ca-5bd-received-saturday", client=WC_CA,  # same_day: Mon is day one
           received=d(2026, 3, 7, 11, tz=PT), arrived=d(2026, 3, 13, 23, tz=PT),
           due=d(2026, 3, 13, 23, 59, 59, tz=PT), binding=REG),
    Vector(id="wc-ca-5bd-across-thanksgiving", client=WC_CA,  # 11-26 and 11-27 are CA holidays
           received=d(2026, 11, 23, 10, tz=PT), arrived=d(2026, 12, 2, 23, tz=PT),
           due=d(2026, 12, 2, 23, 59, 59, tz=PT), binding=REG),
    Vector(id="wc-ca-5bd-across-christmas", client=WC_CA,
           received=d(2026, 12, 21, 10, tz=PT), arrived=d(2026, 12, 29, 23, tz=PT),
           due=d(2026, 12, 29, 23, 59, 59, tz=PT), binding=REG),
    # Reviewer in New York, client in Los Angeles: 17:15 PT is 20:15 ET (after 17:30 in the
    # reviewer's zone) but before the client's cut-off, so it counts the same day.
    Vector(id="wc-ca-cutoff-1715-pt-same-day", client=WC_CA,
           received=d(2026, 11, 16, 17, 15, tz=PT), arrived=d(2026, 11, 23, 23, tz=PT),
           due=d(2026, 11, 23, 23, 59, 59, tz=PT), binding=REG),
    Vector(id="wc-ca-cutoff-1745-pt-next-day", client=WC_CA,
           received=d(2026, 11, 16, 17, 45, tz=PT), arrived=d(2026, 11, 24, 23, tz=PT),
           due=d(2026, 11, 24, 23, 59, 59, tz=PT), binding=REG),
    Vector(id="wc-ca-cutoff-friday-rolls-to-monday", client=WC_CA,
           received=d(2026, 11, 20, 18, tz=PT), arrived=d(2026, 12, 2, 23, tz=PT),
           due=d(2026, 12, 2, 23, 59, 59, tz=PT), binding=REG),
    # --- DST in America/New_York: days keep wall-clock time, hours are real hours
    Vector(id="dst-spring-7d-keeps-0900", urgency=S,
           received=d(2026, 3, 5, 9), arrived=d(2026, 3, 12, 8),
           due=datetime(2026, 3, 12, 13, 0, tzinfo=UTC), binding=REG),  # 09:00 EDT
    Vector(id="dst-spring-72h-real-hours", urgency=U,
           received=datetime(2026, 3, 6, 17, 0, tzinfo=UTC),  # 12:00 EST
           arrived=d(2026, 3, 9, 12),
           due=datetime(2026, 3, 9, 17, 0, tzinfo=UTC), binding=REG),  # 13:00 EDT
    Vector(id="dst-fall-7d-keeps-0900", urgency=S,
           received=d(2026, 10, 28, 9), arrived=d(2026, 11, 4, 8),
           due=datetime(2026, 11, 4, 14, 0, tzinfo=UTC), binding=REG),  # 09:00 EST
    Vector(id="dst-fall-72h-real-hours", urgency=U,
           received=datetime(2026, 10, 30, 16, 0, tzinfo=UTC),  # 12:00 EDT
           arrived=d(2026, 11, 2, 10),
           due=datetime(2026, 11, 2, 16, 0, tzinfo=UTC), binding=REG),  # 11:00 EST
    # --- review types
    Vector(id="concurrent-urgent-24h", review=CON, urgency=U,
           received=d(2026, 4, 14, 15), arrived=d(2026, 4, 15, 14),
           due=d(2026, 4, 15, 15), binding=REG),
    Vector(id="concurrent-standard-7d", review=CON, urgency=S,
           received=d(2026, 4, 14, 15), arrived=d(2026, 4, 21, 14),
           due=d(2026, 4, 21, 15), binding=REG),
    Vector(id="retrospective-30d", review=RETRO, urgency=U,  # urgency does not matter
           received=d(2026, 10, 15, 9), arrived=d(2026, 11, 14, 8),
           due=d(2026, 11, 14, 9), binding=REG),
    Vector(id="unknown-review-type-is-prospective", review=UNK, urgency=U,
           received=d(2026, 4, 6, 9), arrived=d(2026, 4, 9, 8),
           due=d(2026, 4, 9, 9), binding=REG),
    Vector(id="unknown-urgency-runs-the-urgent-clock", urgency=X,
           received=d(2026, 4, 6, 9), arrived=d(2026, 4, 9, 8),
           due=d(2026, 4, 9, 9), binding=REG),
    Vector(id="missing-received-at-falls-back-to-arrival", review=CON, urgency=U,
           received=None, arrived=d(2026, 4, 14, 15), sla=SlaConfig(reviewer_minutes=2880),
           due=d(2026, 4, 15, 15), binding=REG),
    # --- reviewer clock
    Vector(id="reviewer-default-120m", received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 11), binding=REV),
    Vector(id="reviewer-per-urgency-urgent", urgency=U, sla=SlaConfig(urgent_reviewer_minutes=60),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 10), binding=REV),
    Vector(id="reviewer-per-urgency-standard", urgency=S,
           sla=SlaConfig(urgent_reviewer_minutes=60, standard_reviewer_minutes=180),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 12), binding=REV),
    Vector(id="reviewer-unknown-urgency-uses-urgent", urgency=X,
           sla=SlaConfig(urgent_reviewer_minutes=60, standard_reviewer_minutes=180),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 10), binding=REV),
    Vector(id="reviewer-per-client", client="ACME Health",
           sla=SlaConfig(client=[ClientPolicy(match="acme", reviewer_minutes=90)]),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 10, 30), binding=REV),
    Vector(id="reviewer-per-client-urgent-overrides-global-urgent", client="ACME Health",
           urgency=U,
           sla=SlaConfig(urgent_reviewer_minutes=60,
                         client=[ClientPolicy(match="acme", urgent_reviewer_minutes=45)]),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 9, 45), binding=REV),
    Vector(id="first-match-wins-by-client", client="Acme Health Plan",
           sla=SlaConfig(client=[ClientPolicy(match="acme", reviewer_minutes=90),
                                 ClientPolicy(match="health", reviewer_minutes=30)]),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 10, 30), binding=REV),
    Vector(id="first-match-wins-by-sender-domain", sender="rn.jones@um.bluecross.example",
           sla=SlaConfig(client=[ClientPolicy(match="zenith", reviewer_minutes=30),
                                 ClientPolicy(match="bluecross.example", reviewer_minutes=60),
                                 ClientPolicy(match="um.bluecross.example", reviewer_minutes=15)]),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 10), binding=REV),
    # --- explicit due time and ties
    Vector(id="explicit-earlier-binds", explicit=d(2026, 4, 1, 10, 15),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 10, 15), binding=EXP),
    Vector(id="explicit-later-ignored", explicit=d(2026, 4, 3, 17),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 11), binding=REV),
    Vector(id="explicit-earlier-than-regulatory", client=MEDICARE, urgency=U,
           explicit=datetime(2026, 4, 9, 12, 0, tzinfo=UTC),  # 08:00 EDT
           received=d(2026, 4, 6, 9), arrived=d(2026, 4, 9, 7),
           due=d(2026, 4, 9, 8), binding=EXP),
    Vector(id="tie-explicit-beats-reviewer", explicit=d(2026, 4, 1, 11),
           received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
           due=d(2026, 4, 1, 11), binding=EXP),
    Vector(id="tie-regulatory-beats-reviewer", urgency=U,
           received=d(2026, 3, 30, 11), arrived=d(2026, 4, 2, 9),
           due=d(2026, 4, 2, 11), binding=REG),
    # --- extension replaces the computed regulatory deadline
    Vector(id="extension-replaces-regulatory", client=MEDICARE, urgency=U,
           received=d(2026, 4, 6, 9), arrived=d(2026, 4, 9, 8),
           extended_to=d(2026, 4, 23, 9),
           due=d(2026, 4, 9, 10), binding=REV, regulatory=d(2026, 4, 23, 9)),
    # --- tolls: only with toll_on_pend, only the regulatory clock, never an urgent claim
    Vector(id="toll-never-moves-the-reviewer-clock", client=ERISA,
           received=d(2026, 4, 1, 9), arrived=d(2026, 4, 1, 9),
           earlier_pend_seconds=1800, pended_at=d(2026, 4, 1, 9, 40), now=d(2026, 4, 1, 10),
           due=d(2026, 4, 1, 11), binding=REV, regulatory=d(2026, 4, 16, 9, 30)),
    Vector(id="no-toll-without-toll-on-pend", client=MEDICARE,
           received=d(2026, 4, 1, 9), arrived=d(2026, 4, 8, 8),
           earlier_pend_seconds=1800, pended_at=d(2026, 4, 2, 9), now=d(2026, 4, 8, 8),
           due=d(2026, 4, 8, 9), binding=REG, regulatory=d(2026, 4, 8, 9)),
    Vector(id="earlier-toll-shifts-standard-regulatory", client=ERISA, urgency=S,
           received=d(2026, 6, 1, 10), arrived=d(2026, 6, 16, 11, 30), earlier_pend_seconds=7200,
           due=d(2026, 6, 16, 12), binding=REG, regulatory=d(2026, 6, 16, 12)),
]


@pytest.mark.parametrize("v", VECTORS, ids=[v.id for v in VECTORS])
def test_clock_vector(v: Vector) -> None:
    case = make_case(arrived=v.arrived, received=v.received, urgency=v.urgency,
                     review=v.review, client=v.client, sender=v.sender, explicit=v.explicit,
                     extended_to=v.extended_to, earlier_pend_seconds=v.earlier_pend_seconds,
                     pended_at=v.pended_at)
    now = FixedClock(v.now or v.arrived)()
    got = compute_deadlines(case, v.sla, now, reviewer_tz=ET)
    assert got.due_at == v.due, f"due {got.due_at.isoformat()} != {v.due.isoformat()}"
    assert got.binding is v.binding
    if v.regulatory is not None:
        assert got.regulatory_due_at == v.regulatory
    assert got.due_at == min(x for x in (got.reviewer_due_at, got.regulatory_due_at,
                                         got.explicit_due_at) if x is not None)
    assert got.due_at.tzinfo is UTC  # UTC out: no wall-clock arithmetic surprises downstream


def test_at_least_twenty_vectors() -> None:
    assert len(VECTORS) >= 20
    assert len({v.id for v in VECTORS}) == len(VECTORS)


# ------------------------------------------------------------------ details of the clocks


def test_day_durations_keep_wall_clock_in_the_client_zone() -> None:
    got = add_duration(d(2026, 3, 5, 9, tz=PT), "7d", PT)
    assert got == d(2026, 3, 12, 9, tz=PT)
    real = got.astimezone(UTC) - d(2026, 3, 5, 9, tz=PT).astimezone(UTC)
    assert real == timedelta(days=7, hours=-1)  # the spring-forward hour is skipped


def test_day_duration_landing_in_spring_gap_goes_past_the_gap() -> None:
    got = add_duration(d(2026, 3, 1, 2, 30), "7d", ET)  # 02:30 on 03-08 does not exist
    assert got == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert (got.hour, got.minute) == (3, 30)


def test_minute_durations_are_real_minutes() -> None:
    assert add_duration(d(2026, 3, 8, 1, 30), "90m", ET) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)


def test_regulatory_zone_falls_back_to_the_reviewer_zone() -> None:
    sla = SlaConfig(regulatory=RegulatoryConfig(standard="2bd"))
    case = make_case(received=datetime(2026, 4, 3, 2, 0, tzinfo=UTC),  # Thu 22:00 ET, Fri in UTC
                     arrived=datetime(2026, 4, 3, 2, 0, tzinfo=UTC))
    in_et = compute_deadlines(case, sla, case.arrived_at, reviewer_tz=ET)
    assert in_et.regulatory_due_at == d(2026, 4, 6, 23, 59, 59)  # Thu -> Fri(1), Mon(2)
    in_utc = compute_deadlines(case, sla, case.arrived_at, reviewer_tz=ZoneInfo("UTC"))
    assert in_utc.regulatory_due_at == datetime(2026, 4, 7, 23, 59, 59, tzinfo=UTC)


def test_business_days_without_holiday_calendar_skip_weekends_only() -> None:
    # 2026-11-26 (Thanksgiving) counts when the policy names no holidays.
    due = add_business_days(d(2026, 11, 25, 10), 1, ET, cal=NO_HOLIDAYS, cutoff=None)
    assert due == d(2026, 11, 26, 23, 59, 59)
    due = add_business_days(d(2026, 11, 25, 10), 1, ET, cal=HolidayCalendar("US"), cutoff=None)
    assert due == d(2026, 11, 27, 23, 59, 59)  # US (federal) has no day-after-Thanksgiving


def test_cutoff_is_inclusive_to_the_minute() -> None:
    cutoff = time(17, 30)
    ca = HolidayCalendar("US-CA")
    on_time = business_day_zero(d(2026, 11, 16, 17, 30, tz=PT), PT, ca, cutoff).day
    late = business_day_zero(d(2026, 11, 16, 17, 30, 1, tz=PT), PT, ca, cutoff).day
    assert (on_time, late) == (date(2026, 11, 16), date(2026, 11, 17))


def test_receipt_on_a_holiday_is_day_zero_or_rolls_by_the_receipt_day_rule() -> None:
    ca = HolidayCalendar("US-CA")
    assert business_day_zero(d(2026, 11, 26, 9, tz=PT), PT, ca, None).day == date(2026, 11, 26)
    rolled = business_day_zero(d(2026, 11, 26, 9, tz=PT), PT, ca, None, "next_business_day")
    assert rolled.day == date(2026, 11, 30)


def test_observed_holidays_count() -> None:
    # Christmas 2027 is a Saturday: observed Friday 2027-12-24.
    assert not is_business_day(date(2027, 12, 24), HolidayCalendar("US"))
    assert date(2027, 12, 31) in holiday_dates("US", 2027)  # New Year 2028 observed


def test_holiday_calendars_are_cached_per_region_and_year() -> None:
    holiday_dates.cache_clear()
    for _ in range(3):
        add_business_days(d(2026, 12, 21, 10, tz=PT), 5, PT, cal=HolidayCalendar("US-CA"), cutoff=None)
    info = holiday_dates.cache_info()
    assert info.misses == 1
    assert info.hits > 0


def test_window_start_is_arrival_or_receipt_by_binding_clock() -> None:
    def start(case: Case) -> datetime | None:
        return compute_deadlines(case, REGIMES, case.arrived_at, reviewer_tz=ET).window_start

    late = make_case(client=MEDICARE, urgency=U, received=d(2026, 4, 6, 9),
                     arrived=d(2026, 4, 9, 8))
    assert start(late) == d(2026, 4, 6, 9)  # regulatory binds: its window opens at receipt
    fresh = make_case(received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9))
    assert start(fresh) == d(2026, 4, 1, 9)  # reviewer binds: window opens at arrival
    explicit = make_case(received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9),
                         explicit=d(2026, 4, 1, 10))
    got = compute_deadlines(explicit, REGIMES, explicit.arrived_at, reviewer_tz=ET)
    assert (got.binding, got.window_start) == (Clock.EXPLICIT, d(2026, 4, 1, 9))


def test_missing_received_at_window_starts_at_arrival() -> None:
    case = make_case(review=CON, urgency=U, arrived=d(2026, 4, 14, 15))
    got = compute_deadlines(case, SlaConfig(reviewer_minutes=2880), case.arrived_at, reviewer_tz=ET)
    assert got.binding is Clock.REGULATORY
    assert got.window_start == d(2026, 4, 14, 15)


def test_an_open_toll_freezes_the_regulatory_clock_only() -> None:
    sla = SlaConfig(client=[ClientPolicy(match="erisa", toll_on_pend=True)])
    case = make_case(client=ERISA, received=d(2026, 4, 1, 9), arrived=d(2026, 4, 1, 9),
                     pended_at=d(2026, 4, 1, 10))
    clock = FixedClock(d(2026, 4, 1, 10))
    first = compute_deadlines(case, sla, clock(), reviewer_tz=ET)
    clock.advance(hours=5)
    later = compute_deadlines(case, sla, clock(), reviewer_tz=ET)
    assert later.regulatory_paused and first.regulatory_paused
    assert later.regulatory_seconds_left == first.regulatory_seconds_left == 7 * 86400 - 3600
    assert (first.seconds_left, later.seconds_left) == (3600, -14400)  # the reviewer's runs on
    assert later.state is SlaState.BREACHED and later.binding is Clock.REVIEWER


def test_deadlines_carry_state_and_seconds_left() -> None:
    case = make_case(received=d(2026, 4, 1, 8), arrived=d(2026, 4, 1, 9))
    got = compute_deadlines(case, REGIMES, d(2026, 4, 1, 11, 15), reviewer_tz=ET)
    assert (got.seconds_left, got.state) == (-900, SlaState.BREACHED)
    assert got.explicit_due_at is None


# ------------------------------------------------------------------ policy matching


@pytest.mark.parametrize(
    ("client", "sender", "expected"),
    [
        ("BlueCross Commercial", "x@other.example", "BLUECROSS"),
        (None, "x@bluecross.example", "bluecross.example"),
        (None, "x@um.BlueCross.example", "bluecross.example"),
        (None, "x@notbluecross.example", None),  # a suffix only at a dot boundary
        (None, "x@bluecross.example.org", None),
        ("", "", None),
    ],
    ids=["client-substring-any-case", "domain-equal", "domain-suffix", "not-a-label-suffix",
         "domain-prefix-only", "nothing"],
)
def test_policy_for(client: str | None, sender: str, expected: str | None) -> None:
    sla = SlaConfig(client=[ClientPolicy(match="BLUECROSS"),
                            ClientPolicy(match="bluecross.example")])
    policy = policy_for(make_case(arrived=d(2026, 4, 1, 9), client=client, sender=sender), sla)
    assert (policy.match if policy else None) == expected


def test_policy_values_override_key_by_key() -> None:
    sla = SlaConfig(reviewer_minutes=100,
                    regulatory=RegulatoryConfig(urgent="48h"),
                    client=[ClientPolicy(match="acme", standard="15d")])
    urgent = make_case(client="Acme", urgency=U, received=d(2026, 4, 1, 9),
                       arrived=d(2026, 4, 1, 9))
    standard = make_case(client="Acme", received=d(2026, 4, 1, 9), arrived=d(2026, 4, 1, 9))
    got_u = compute_deadlines(urgent, sla, urgent.arrived_at, reviewer_tz=ET)
    got_s = compute_deadlines(standard, sla, standard.arrived_at, reviewer_tz=ET)
    assert got_u.regulatory_due_at == d(2026, 4, 3, 9)  # global urgent kept
    assert got_s.regulatory_due_at == d(2026, 4, 16, 9)  # client standard
    assert got_u.reviewer_due_at == d(2026, 4, 1, 10, 40)  # global reviewer_minutes kept


# ------------------------------------------------------------------ sla_state boundaries

DUE = d(2026, 4, 1, 11)
START = d(2026, 4, 1, 9)  # a 2-hour window: 25 % is 30 minutes; use 50 % to separate rules


@pytest.mark.parametrize(
    ("now", "fraction", "minutes", "seconds", "state"),
    [
        (d(2026, 4, 1, 9), 0.25, 30, 7200, SlaState.OK),
        (d(2026, 4, 1, 9, 59, 59), 0.5, 30, 3601, SlaState.OK),  # just over half left
        (d(2026, 4, 1, 10), 0.5, 30, 3600, SlaState.OK),  # exactly half left: not "less than"
        (d(2026, 4, 1, 10, 0, 1), 0.5, 30, 3599, SlaState.WARNING),  # by fraction
        (d(2026, 4, 1, 10, 30), 0.1, 30, 1800, SlaState.OK),  # exactly 30 minutes left
        (d(2026, 4, 1, 10, 30, 1), 0.1, 30, 1799, SlaState.WARNING),  # by warning_minutes
        (DUE, 0.25, 30, 0, SlaState.WARNING),  # due now: not yet breached
        (d(2026, 4, 1, 11, 0, 0) + timedelta(microseconds=1), 0.25, 30, -1, SlaState.BREACHED),
        (d(2026, 4, 1, 12), 0.25, 30, -3600, SlaState.BREACHED),
    ],
    ids=["fresh", "over-fraction", "at-fraction", "under-fraction", "at-30-min",
         "under-30-min", "due-now", "a-microsecond-late", "an-hour-late"],
)
def test_sla_state_boundaries(now: datetime, fraction: float, minutes: int, seconds: int,
                              state: SlaState) -> None:
    got = sla_state(DUE, START, now, warning_fraction=fraction, warning_minutes=minutes)
    assert got == (seconds, state)


def test_sla_state_without_window_uses_minutes_only() -> None:
    now = d(2026, 4, 1, 10, 29)
    got = sla_state(DUE, None, now, warning_fraction=0.99, warning_minutes=30)
    assert got == (1860, SlaState.OK)


def test_sla_state_fraction_of_long_window() -> None:
    start, due = d(2026, 4, 1, 9), d(2026, 4, 8, 9)  # 7 days; 25 % = 42 h
    assert sla_state(due, start, due - timedelta(hours=42), warning_fraction=0.25,
                     warning_minutes=30)[1] is SlaState.OK
    assert sla_state(due, start, due - timedelta(hours=41), warning_fraction=0.25,
                     warning_minutes=30)[1] is SlaState.WARNING


def test_sla_state_compares_instants_across_zones() -> None:
    due = d(2026, 4, 1, 11)
    now = datetime(2026, 4, 1, 14, 0, tzinfo=UTC)  # 10:00 EDT
    got = sla_state(due, None, now, warning_fraction=0.25, warning_minutes=30)
    assert got == (3600, SlaState.OK)


def test_sla_state_is_real_time_when_both_times_share_a_zone() -> None:
    # Python subtracts same-tzinfo datetimes by wall clock; the DST hour must still count.
    due = d(2026, 3, 8, 12)  # EDT
    now = d(2026, 3, 8, 1)  # EST: 10 real hours before, 11 by the wall clock
    assert sla_state(due, None, now, warning_fraction=0.25, warning_minutes=30)[0] == 10 * 3600


def test_earliest_clock_is_by_instant_in_the_repeated_hour() -> None:
    # 2026-11-01 01:00-02:00 happens twice in New York. The explicit 01:10 EST (fold=1,
    # 06:10 UTC) is later than the reviewer's 01:30 EDT (05:30 UTC) though its wall clock is
    # earlier.
    arrived = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)  # 23:30 EDT on 10-31
    explicit = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=ET)
    case = make_case(arrived=arrived, received=arrived, explicit=explicit)
    got = compute_deadlines(case, SlaConfig(), arrived, reviewer_tz=ET)
    assert got.binding is Clock.REVIEWER
    assert got.due_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
