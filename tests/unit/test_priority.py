"""Queue order: due_at, then urgency, then arrival, then pk; open cases only."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from uq.config import ClientPolicy, SlaConfig
from uq.domain import Case, CaseFields, CaseStatus, Clock, Deadlines, SlaState, Urgency
from uq.queue.clock import FixedClock
from uq.queue.priority import URGENCY_RANK, order_queue, queue_key

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=ET)


def case(pk: int, *, arrived: datetime, urgency: Urgency = Urgency.STANDARD,
         status: CaseStatus = CaseStatus.OPEN, due: datetime | None = None,
         client: str | None = None) -> Case:
    return Case(
        id=pk, case_id=f"UM-{pk}", sender="nurse@um-vendor.example", subject=f"UM-{pk}",
        status=status, arrived_at=arrived,
        fields=CaseFields(case_id=f"UM-{pk}", urgency=urgency, received_at=arrived, due_at=due,
                          client=client),
    )


def ids(rows: list[tuple[Case, Deadlines]]) -> list[int]:
    return [c.id for c, _ in rows]


def test_urgency_rank() -> None:
    rank = URGENCY_RANK
    assert rank[Urgency.URGENT] < rank[Urgency.STANDARD] < rank[Urgency.UNKNOWN]
    assert set(URGENCY_RANK) == set(Urgency)


def test_earliest_due_first() -> None:
    cases = [case(1, arrived=NOW - timedelta(minutes=10)),  # due 11:50
             case(2, arrived=NOW - timedelta(minutes=60)),  # due 11:00
             case(3, arrived=NOW - timedelta(minutes=30))]  # due 11:30
    assert ids(order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)) == [2, 3, 1]


def test_explicit_due_time_moves_a_case_up() -> None:
    cases = [case(1, arrived=NOW - timedelta(minutes=60)),
             case(2, arrived=NOW, due=NOW + timedelta(minutes=20))]
    rows = order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)
    assert ids(rows) == [2, 1]
    assert rows[0][1].binding is Clock.EXPLICIT


def test_same_due_urgent_before_standard_before_unknown() -> None:
    due = NOW + timedelta(hours=1)
    cases = [case(1, arrived=NOW, urgency=Urgency.UNKNOWN, due=due),
             case(2, arrived=NOW, urgency=Urgency.STANDARD, due=due),
             case(3, arrived=NOW, urgency=Urgency.URGENT, due=due)]
    assert ids(order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)) == [3, 2, 1]


def test_same_due_and_urgency_earlier_arrival_first_then_pk() -> None:
    due = NOW + timedelta(hours=1)
    cases = [case(9, arrived=NOW - timedelta(minutes=1), due=due),
             case(4, arrived=NOW - timedelta(minutes=5), due=due),
             case(7, arrived=NOW - timedelta(minutes=1), due=due)]
    assert ids(order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)) == [4, 7, 9]


def test_urgency_only_breaks_ties() -> None:
    # A standard case due sooner stays above an urgent case due later.
    cases = [case(1, arrived=NOW, urgency=Urgency.URGENT),  # due 12:00
             case(2, arrived=NOW - timedelta(minutes=30))]  # due 11:30
    assert ids(order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)) == [2, 1]


def test_breached_case_stays_on_top_with_negative_seconds() -> None:
    cases = [case(1, arrived=NOW - timedelta(minutes=5), urgency=Urgency.URGENT),
             case(2, arrived=NOW - timedelta(minutes=135))]  # due 09:45: 15 min late
    rows = order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)
    assert ids(rows) == [2, 1]
    assert (rows[0][1].seconds_left, rows[0][1].state) == (-900, SlaState.BREACHED)


def test_only_open_cases_call_needed_included() -> None:
    cases = [case(1, arrived=NOW, status=CaseStatus.DECIDED),
             case(2, arrived=NOW - timedelta(minutes=1), status=CaseStatus.CALL_NEEDED),
             case(3, arrived=NOW)]
    assert ids(order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET)) == [2, 3]


def test_order_is_stable_under_shuffling() -> None:
    due = NOW + timedelta(hours=1)
    cases = [case(pk, arrived=NOW - timedelta(minutes=pk % 3), due=due if pk % 2 else None,
                  urgency=list(Urgency)[pk % 3]) for pk in range(1, 30)]
    expected = ids(order_queue(cases, SlaConfig(), NOW, reviewer_tz=ET))
    rng = random.Random(7)
    for _ in range(5):
        shuffled = cases[:]
        rng.shuffle(shuffled)
        assert ids(order_queue(shuffled, SlaConfig(), NOW, reviewer_tz=ET)) == expected


def test_order_by_instant_across_zones_and_the_repeated_hour() -> None:
    # 01:40 EDT (05:40 UTC) is before 01:10 EST (06:10 UTC) on 2026-11-01.
    now = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    first = case(1, arrived=now, due=datetime(2026, 11, 1, 1, 40, tzinfo=ET))
    second = case(2, arrived=now, due=datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=ET))
    third = case(3, arrived=now, due=datetime(2026, 11, 1, 6, 20, tzinfo=UTC))
    sla = SlaConfig(reviewer_minutes=600)  # keep the reviewer clock out of the way
    rows = order_queue([third, second, first], sla, now, reviewer_tz=ET)
    assert ids(rows) == [1, 2, 3]
    assert all(d.binding is Clock.EXPLICIT for _, d in rows)


def test_queue_key_is_sortable_and_uses_deadlines() -> None:
    c = case(5, arrived=NOW, urgency=Urgency.URGENT)
    rows = order_queue([c], SlaConfig(), NOW, reviewer_tz=ET)
    key = queue_key(*rows[0])
    assert key == (datetime(2026, 4, 1, 16, 0, tzinfo=UTC), 0, NOW, 5)


def test_client_policy_applies_in_queue() -> None:
    sla = SlaConfig(client=[ClientPolicy(match="fast", reviewer_minutes=30)])
    clock = FixedClock(NOW)
    cases = [case(1, arrived=NOW - timedelta(minutes=20)),
             case(2, arrived=NOW, client="Fast Plan")]  # due 10:30 vs 11:40
    assert ids(order_queue(cases, sla, clock(), reviewer_tz=ET)) == [2, 1]
