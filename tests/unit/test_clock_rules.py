"""Clock vectors from the rules as written (issue 13), each with the rule it reads.

Every vector goes through `compute_deadlines`, the function the queue (order_queue) and the
store's deadline columns (services.deadlines.refresh) use. A vector's packet time may be
given as text, as the nurse typed it: it is read with the parser's date reader in the zone
the sync would use (uq.queue.sla.naive_zone: the client policy's, else the reviewer's).

Calendar facts used below (US-CA in the holidays package): 2026-01-19 Mon MLK Day,
2026-06-19 Fri Juneteenth, 2026-11-26/27 Thanksgiving and the day after, 2027-10-29 Fri
Diwali. 2026-01-10 is a Saturday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from uq.config import ClientPolicy, SlaConfig, parse_config
from uq.domain import Case, CaseFields, CaseStatus, Clock, ReviewLevel, ReviewType, Urgency
from uq.errors import ConfigError
from uq.mail.dates import parse_when
from uq.queue.sla import clock_problems, compute_deadlines, naive_zone

ET = ZoneInfo("America/New_York")
PT = ZoneInfo("America/Los_Angeles")
HT = ZoneInfo("Pacific/Honolulu")
AK = ZoneInfo("America/Anchorage")
AZ = ZoneInfo("America/Phoenix")

U, S, X = Urgency.URGENT, Urgency.STANDARD, Urgency.UNKNOWN
PRO, CON, RETRO = ReviewType.PROSPECTIVE, ReviewType.CONCURRENT, ReviewType.RETROSPECTIVE
REG, REV = Clock.REGULATORY, Clock.REVIEWER

# California workers' comp, 8 CCR 9792.9.1: prospective/concurrent 5 business days (c)(3),
# expedited 72 h (c)(4); 5:30 PM Pacific cut-off for prospective and retrospective only (a)(1)
WC = dict(match="wc-ca", urgent="72h", standard="5bd", concurrent_standard="5bd",
          concurrent_urgent="72h", cutoff="17:30", timezone="America/Los_Angeles", holidays="US-CA")
# ERISA group health, 29 CFR 2560.503-1: urgent 72 h (f)(2)(i), pre-service 15 days
# (f)(2)(iii)(A), post-service 30 days (f)(2)(iii)(B), concurrent urgent 24 h (f)(2)(ii);
# non-urgent periods tolled by a request for information (f)(4)
ERISA = dict(match="erisa", standard="15d", retrospective="30d", toll_on_pend=True)


def policy(base: dict[str, object], **extra: object) -> SlaConfig:
    return SlaConfig(client=[ClientPolicy(**{**base, **extra})])  # type: ignore[arg-type]


WC_SLA = policy(WC)
WC_NEXT = policy(WC, receipt_day="next_business_day")
ERISA_SLA = policy(ERISA)
# a long reviewer turnaround so the regulatory clock is the one that binds
SLOW = 60 * 24 * 90


@dataclass(frozen=True, kw_only=True)
class V:
    id: str
    rule: str  # the citation, also kept in a comment above each vector
    sla: SlaConfig
    regulatory: datetime
    received: datetime | None = None
    received_text: str | None = None  # as typed in the packet, read like the sync reads it
    arrived: datetime | None = None
    urgency: Urgency = S
    review: ReviewType = PRO
    level: ReviewLevel = ReviewLevel.UNKNOWN
    client: str = ""
    sender: str = "rn@um-vendor.example"
    pended_at: datetime | None = None
    info_at: datetime | None = None
    earlier_pend_seconds: int = 0
    now: datetime | None = None
    paused: bool = False
    frozen_left: int | None = None  # regulatory seconds left while paused
    says: str = ""  # a phrase the rule text must contain
    milestones: tuple[tuple[str, datetime], ...] = ()
    reviewer_tz: ZoneInfo = ET
    extra: dict[str, object] = field(default_factory=dict)


def d(y: int, mo: int, day: int, h: int = 0, mi: int = 0, s: int = 0, tz: ZoneInfo = PT) -> datetime:
    return datetime(y, mo, day, h, mi, s, tzinfo=tz)


def eod(y: int, mo: int, day: int, tz: ZoneInfo = PT) -> datetime:
    return d(y, mo, day, 23, 59, 59, tz=tz)


VECTORS = [
    # ---- California WC: the cut-off by review type (8 CCR 9792.9.1(a)(1), (c)(3))
    # 9792.9.1(a)(1): before 5:30 PM a prospective request counts the same day
    V(id="wc-prospective-1729-same-day", rule="8 CCR 9792.9.1(a)(1)", sla=WC_SLA, client="WC-CA",
      received=d(2026, 1, 13, 17, 29), regulatory=eod(2026, 1, 21), says="from Tue 13 Jan 2026"),
    # 9792.9.1(a)(1): after 5:30 PM it is deemed received the following business day
    V(id="wc-prospective-1800-next-day", rule="8 CCR 9792.9.1(a)(1)", sla=WC_SLA, client="WC-CA",
      received=d(2026, 1, 13, 18), regulatory=eod(2026, 1, 22), says="after the cut-off"),
    # 9792.9.1(a)(1): concurrent review is exempt from the cut-off
    V(id="wc-concurrent-1800-same-day", rule="8 CCR 9792.9.1(a)(1)", sla=WC_SLA, client="WC-CA",
      review=CON, received=d(2026, 1, 13, 18), regulatory=eod(2026, 1, 21)),
    # 9792.9.1(a)(1): concurrent before the cut-off, same as prospective
    V(id="wc-concurrent-1700-same-day", rule="8 CCR 9792.9.1(a)(1)", sla=WC_SLA, client="WC-CA",
      review=CON, received=d(2026, 1, 13, 17), regulatory=eod(2026, 1, 21)),
    # 9792.9.1(c)(4): expedited review, 72 hours, no cut-off
    V(id="wc-expedited-1800-72-real-hours", rule="8 CCR 9792.9.1(c)(4)", sla=WC_SLA, client="WC-CA",
      urgency=U, received=d(2026, 1, 13, 18), regulatory=d(2026, 1, 16, 18), says="72 hours"),
    # 9792.9.1(a)(1) as configured: a policy that lists concurrent applies its cut-off
    V(id="wc-concurrent-listed-1800-next-day", rule="8 CCR 9792.9.1(a)(1) (policy lists concurrent)",
      sla=policy(WC, cutoff_applies=["prospective", "concurrent"]), client="WC-CA", review=CON,
      received=d(2026, 1, 13, 18), regulatory=eod(2026, 1, 22)),
    # 9792.9.1(a)(1): expedited stays exempt though the type is listed, unless "urgent" is
    V(id="wc-expedited-bd-policy-no-cutoff", rule="8 CCR 9792.9.1(a)(1)",
      sla=policy(WC, urgent="2bd"), client="WC-CA", urgency=U,
      received=d(2026, 1, 13, 18), regulatory=eod(2026, 1, 15)),
    # 9792.9.1(a)(1): deemed received the following *business* day (Friday -> Tuesday after MLK)
    V(id="wc-friday-1800-across-mlk", rule="8 CCR 9792.9.1(a)(1); Cal. Gov. Code 6700",
      sla=WC_SLA, client="WC-CA", received=d(2026, 1, 16, 18), regulatory=eod(2026, 1, 27)),
    # ---- weekend and holiday receipts, both readings (DOMAIN: the earlier is the default)
    # Cal. Civ. Code 10: exclude the first day; same_day: Saturday is day 0, Monday day one
    V(id="wc-saturday-same-day", rule="Cal. Civ. Code 10; receipt_day same_day",
      sla=WC_SLA, client="WC-CA", received=d(2026, 1, 10, 11), regulatory=eod(2026, 1, 16),
      says="weekend/holiday receipt"),
    # next_business_day: Saturday's receipt is day 0 on Monday
    V(id="wc-saturday-next-business-day", rule="receipt_day next_business_day",
      sla=WC_NEXT, client="WC-CA", received=d(2026, 1, 10, 11), regulatory=eod(2026, 1, 20),
      says="next business day"),
    # same_day: a Saturday evening receipt has no business day to be late for
    V(id="wc-saturday-1900-same-day", rule="8 CCR 9792.9.1(a)(1); receipt_day same_day",
      sla=WC_SLA, client="WC-CA", received=d(2026, 1, 10, 19), regulatory=eod(2026, 1, 16)),
    # next_business_day: Sunday night rolls to Monday
    V(id="wc-sunday-1900-next-business-day", rule="receipt_day next_business_day",
      sla=WC_NEXT, client="WC-CA", received=d(2026, 1, 11, 19), regulatory=eod(2026, 1, 20)),
    # Cal. Gov. Code 6700 (MLK Day): a holiday receipt is day 0 under same_day
    V(id="wc-mlk-day-same-day", rule="Cal. Gov. Code 6700; receipt_day same_day",
      sla=WC_SLA, client="WC-CA", received=d(2026, 1, 19, 9), regulatory=eod(2026, 1, 26)),
    # ... and moves to Tuesday under next_business_day
    V(id="wc-mlk-day-next-business-day", rule="Cal. Gov. Code 6700; receipt_day next_business_day",
      sla=WC_NEXT, client="WC-CA", received=d(2026, 1, 19, 9), regulatory=eod(2026, 1, 27)),
    # Thanksgiving receipt, same_day: Mon 30 Nov is day one
    V(id="wc-thanksgiving-same-day", rule="Cal. Gov. Code 6700; receipt_day same_day",
      sla=WC_SLA, client="WC-CA", received=d(2026, 11, 26, 9), regulatory=eod(2026, 12, 4)),
    # Thanksgiving receipt, next_business_day: Mon 30 Nov is day 0
    V(id="wc-thanksgiving-next-business-day", rule="Cal. Gov. Code 6700; receipt_day next_business_day",
      sla=WC_NEXT, client="WC-CA", received=d(2026, 11, 26, 9), regulatory=eod(2026, 12, 7)),
    # ---- holidays you can correct (the CalHR list, Labor Code 4600.4 / Civ. Code 9)
    # Juneteenth 2026 counted by the region ...
    V(id="wc-juneteenth-region", rule="Lab. Code 4600.4; Civ. Code 9",
      sla=WC_SLA, client="WC-CA", received=d(2026, 6, 17, 10), regulatory=eod(2026, 6, 25)),
    # ... removed because the client's calendar does not keep it
    V(id="wc-juneteenth-removed", rule="Lab. Code 4600.4; holidays_remove",
      sla=policy(WC, holidays_remove=[date(2026, 6, 19)]), client="WC-CA",
      received=d(2026, 6, 17, 10), regulatory=eod(2026, 6, 24), says="US-CA holidays -1"),
    # Diwali 2027 removed
    V(id="wc-diwali-2027-removed", rule="Lab. Code 4600.4; holidays_remove",
      sla=policy(WC, holidays_remove=[date(2027, 10, 29)]), client="WC-CA",
      received=d(2027, 10, 27, 10), regulatory=eod(2027, 11, 3)),
    # a day the client keeps that the region does not
    V(id="wc-added-holiday", rule="holidays_add",
      sla=policy(WC, holidays_add=[date(2026, 10, 12)]), client="WC-CA",
      received=d(2026, 10, 9, 10), regulatory=eod(2026, 10, 19), says="US-CA holidays +1"),
    # ---- ERISA: urgent claims are never tolled (29 CFR 2560.503-1(f)(2)(i))
    # a pend: notice within 24 h, 48 h for the answer, decision 48 h after the window ends
    V(id="erisa-urgent-pend-unanswered", rule="29 CFR 2560.503-1(f)(2)(i)", sla=ERISA_SLA,
      client="ERISA plan", urgency=U, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 1, 20, tz=ET), now=d(2026, 6, 2, 9, tz=ET),
      regulatory=d(2026, 6, 5, 20, tz=ET), says="never tolled",
      milestones=(("information request due", d(2026, 6, 2, 10, tz=ET)),
                  ("information due", d(2026, 6, 3, 20, tz=ET)),
                  ("decision due", d(2026, 6, 5, 20, tz=ET)))),
    # a request later than 24 h after receipt is named as late
    V(id="erisa-urgent-pend-late-notice", rule="29 CFR 2560.503-1(f)(2)(i)", sla=ERISA_SLA,
      client="ERISA plan", urgency=U, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 2, 12, tz=ET), regulatory=d(2026, 6, 6, 12, tz=ET),
      says="after its 24-hour limit"),
    # answered within the window: 48 h from the answer
    V(id="erisa-urgent-pend-answered", rule="29 CFR 2560.503-1(f)(2)(i)(A)", sla=ERISA_SLA,
      client="ERISA plan", urgency=U, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 1, 20, tz=ET), info_at=d(2026, 6, 2, 8, tz=ET),
      regulatory=d(2026, 6, 4, 8, tz=ET)),
    # answered after the window: 48 h from the window's end
    V(id="erisa-urgent-pend-answered-late", rule="29 CFR 2560.503-1(f)(2)(i)(B)", sla=ERISA_SLA,
      client="ERISA plan", urgency=U, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 1, 20, tz=ET), info_at=d(2026, 6, 4, 9, tz=ET),
      regulatory=d(2026, 6, 5, 20, tz=ET)),
    # urgency unknown runs the urgent rules: a pend does not toll it either
    V(id="erisa-unknown-urgency-pend-not-tolled", rule="29 CFR 2560.503-1(f)(2)(i); DOMAIN safe default",
      sla=ERISA_SLA, client="ERISA plan", urgency=X, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 1, 12, tz=ET), now=d(2026, 6, 1, 13, tz=ET),
      regulatory=d(2026, 6, 5, 12, tz=ET)),
    # ---- ERISA non-urgent: tolled from the request to the answer (29 CFR 2560.503-1(f)(4))
    # pre-service, request open: the regulatory clock is paused with 11 days left
    V(id="erisa-pre-service-tolled-open", rule="29 CFR 2560.503-1(f)(2)(iii)(A), (f)(4)",
      sla=ERISA_SLA, client="ERISA plan", received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 5, 10, tz=ET), now=d(2026, 6, 10, 10, tz=ET),
      regulatory=d(2026, 6, 16, 10, tz=ET), paused=True, frozen_left=11 * 86400,
      says="tolled: information requested"),
    # pre-service, the follow-up answered after 3 d 6 h: the deadline moves by that much
    V(id="erisa-pre-service-tolled-ended-by-follow-up", rule="29 CFR 2560.503-1(f)(4)",
      sla=ERISA_SLA, client="ERISA plan", received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 5, 10, tz=ET), info_at=d(2026, 6, 8, 16, tz=ET),
      regulatory=d(2026, 6, 19, 16, tz=ET), says="tolled 3d 6h"),
    # two requests: the earlier wait (2 days) and the current one (1 day) both count
    V(id="erisa-pre-service-two-tolls", rule="29 CFR 2560.503-1(f)(4)", sla=ERISA_SLA,
      client="ERISA plan", received=d(2026, 6, 1, 10, tz=ET), earlier_pend_seconds=2 * 86400,
      pended_at=d(2026, 6, 9, 10, tz=ET), info_at=d(2026, 6, 10, 10, tz=ET),
      regulatory=d(2026, 6, 19, 10, tz=ET)),
    # a request after the 15 days had run out tolls nothing: the breach stands
    V(id="erisa-pend-after-the-deadline-not-tolled", rule="29 CFR 2560.503-1(f)(2)(iii)(A), (f)(4)",
      sla=ERISA_SLA, client="ERISA plan", received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 17, 10, tz=ET), now=d(2026, 6, 18, 10, tz=ET),
      regulatory=d(2026, 6, 16, 10, tz=ET), says="after the deadline: not tolled"),
    # post-service 30 days, tolled 5 days
    V(id="erisa-post-service-tolled", rule="29 CFR 2560.503-1(f)(2)(iii)(B), (f)(4)",
      sla=ERISA_SLA, client="ERISA plan", review=RETRO, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 10, 10, tz=ET), info_at=d(2026, 6, 15, 10, tz=ET),
      regulatory=d(2026, 7, 6, 10, tz=ET)),
    # concurrent urgent: 24 h, never tolled
    V(id="erisa-concurrent-urgent-not-tolled", rule="29 CFR 2560.503-1(f)(2)(ii)",
      sla=ERISA_SLA, client="ERISA plan", review=CON, urgency=U, received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 1, 12, tz=ET), info_at=d(2026, 6, 1, 15, tz=ET),
      regulatory=d(2026, 6, 3, 15, tz=ET)),
    # Medicare/Medicaid clocks are never tolled (42 CFR 422.568(b)): a pend changes nothing
    V(id="medicare-pend-not-tolled", rule="42 CFR 422.568(b)", sla=SlaConfig(),
      client="Medicare Advantage", received=d(2026, 6, 1, 10, tz=ET),
      pended_at=d(2026, 6, 2, 10, tz=ET), now=d(2026, 6, 3, 10, tz=ET),
      regulatory=d(2026, 6, 8, 10, tz=ET)),
    # ---- zones: a time without a zone is the client policy's, else the reviewer's
    # an east-coast client for a west-coast reviewer: 09:00 is 09:00 Eastern
    V(id="client-zone-naive-time", rule="CASE_EMAIL: naive times in the client's zone",
      sla=policy(dict(match="eastplan", timezone="America/New_York")), client="EastPlan HMO",
      urgency=U, received_text="06/01/2026 09:00", reviewer_tz=PT,
      regulatory=d(2026, 6, 4, 9, tz=ET)),
    # no client zone: the reviewer's
    V(id="reviewer-zone-naive-time", rule="CASE_EMAIL: else the reviewer's zone",
      sla=SlaConfig(), client="Other plan", urgency=U, received_text="06/01/2026 09:00",
      reviewer_tz=PT, regulatory=d(2026, 6, 4, 9, tz=PT)),
    # Hawaii-Aleutian Standard Time, no DST
    V(id="hst-time", rule="15 U.S.C. 260-261 (US zones)", sla=SlaConfig(), urgency=U,
      received_text="11/30/2026 7:50 AM HST", regulatory=d(2026, 12, 3, 7, 50, tz=HT)),
    # a Hawaii client writing naive times
    V(id="hawaii-client-naive-7d", rule="15 U.S.C. 260-261; client zone",
      sla=policy(dict(match="aloha", timezone="Pacific/Honolulu")), client="Aloha Health",
      received_text="2026-03-02 08:00", regulatory=d(2026, 3, 9, 8, tz=HT)),
    # Alaska daylight time
    V(id="akdt-time", rule="15 U.S.C. 260-261 (US zones)", sla=SlaConfig(), urgency=U,
      received_text="07/06/2026 8:00 AKDT", regulatory=d(2026, 7, 9, 8, tz=AK)),
    # Arizona keeps MST all year (no DST): "MST" from an Arizona client in July is UTC-7
    V(id="arizona-mst-in-july", rule="15 U.S.C. 260a(a) (Arizona exempt from DST)",
      sla=policy(dict(match="desert", timezone="America/Phoenix")), client="Desert Health",
      urgency=U, received_text="07/06/2026 09:00 MST",
      regulatory=datetime(2026, 7, 9, 16, 0, tzinfo=UTC)),
    # ---- missing facts: visible, and the safe clock
    # no received time: the regulatory clock runs from the email's arrival, and says so
    V(id="no-received-time-from-arrival", rule="DOMAIN: flag what is missing", sla=SlaConfig(),
      urgency=U, arrived=d(2026, 6, 1, 10, tz=ET), regulatory=d(2026, 6, 4, 10, tz=ET),
      says="no received time"),
    # no urgency: the urgent clock until the reviewer sets it
    V(id="unknown-urgency-urgent-clock", rule="DOMAIN: the earlier deadline is the safe default",
      sla=SlaConfig(), urgency=X, received=d(2026, 6, 1, 10, tz=ET),
      regulatory=d(2026, 6, 4, 10, tz=ET)),
    # ---- appeals (29 CFR 2560.503-1(i)(2)): urgent 72 h, pre-service 30 d, post-service 60 d
    V(id="appeal-urgent-72h", rule="29 CFR 2560.503-1(i)(2)(i)", sla=ERISA_SLA, client="ERISA plan",
      urgency=U, level=ReviewLevel.APPEAL_1, received=d(2026, 6, 1, 10, tz=ET),
      regulatory=d(2026, 6, 4, 10, tz=ET), says="appeal 1 clock"),
    V(id="appeal-pre-service-30d", rule="29 CFR 2560.503-1(i)(2)(ii)", sla=ERISA_SLA, client="ERISA plan",
      level=ReviewLevel.APPEAL_1, received=d(2026, 6, 1, 10, tz=ET), regulatory=d(2026, 7, 1, 10, tz=ET)),
    V(id="appeal-post-service-60d", rule="29 CFR 2560.503-1(i)(2)(iii)", sla=ERISA_SLA,
      client="ERISA plan", review=RETRO, level=ReviewLevel.APPEAL_2, received=d(2026, 6, 1, 10, tz=ET),
      regulatory=d(2026, 7, 31, 10, tz=ET)),
    # a second-level appeal under a plan with two levels: 15 days each (i)(2)(ii), by policy
    V(id="appeal-two-levels-policy-15d", rule="29 CFR 2560.503-1(i)(2)(ii) (two levels)",
      sla=policy(ERISA, appeal_standard="15d"), client="ERISA plan", level=ReviewLevel.APPEAL_2,
      received=d(2026, 6, 1, 10, tz=ET), regulatory=d(2026, 6, 16, 10, tz=ET)),
    # a concurrent urgent appeal runs the urgent appeal clock
    V(id="appeal-concurrent-urgent-72h", rule="29 CFR 2560.503-1(i)(2)(i)", sla=ERISA_SLA,
      client="ERISA plan", review=CON, urgency=U, level=ReviewLevel.RECONSIDERATION,
      received=d(2026, 6, 1, 10, tz=ET), regulatory=d(2026, 6, 4, 10, tz=ET)),
    # an initial review of the same plan keeps its own clock
    V(id="initial-pre-service-15d", rule="29 CFR 2560.503-1(f)(2)(iii)(A)", sla=ERISA_SLA,
      client="ERISA plan", level=ReviewLevel.INITIAL, received=d(2026, 6, 1, 10, tz=ET),
      regulatory=d(2026, 6, 16, 10, tz=ET)),
]


def case_for(v: V) -> Case:
    received = v.received
    if v.received_text is not None:
        zone = naive_zone(v.sla, client=v.client, sender=v.sender, reviewer_tz=v.reviewer_tz)
        received = parse_when(v.received_text, zone)
        assert received is not None, v.received_text
    arrived = v.arrived or received
    assert arrived is not None
    fields = CaseFields(case_id="C-1", review_type=v.review, urgency=v.urgency, review_level=v.level,
                        received_at=received, client=v.client)
    return Case(id=1, case_id="C-1", sender=v.sender, subject="Case C-1", status=CaseStatus.OPEN,
                arrived_at=arrived, fields=fields, pended_at=v.pended_at, info_received_at=v.info_at,
                earlier_pend_seconds=v.earlier_pend_seconds)


@pytest.mark.parametrize("v", VECTORS, ids=[v.id for v in VECTORS])
def test_rule_vector(v: V) -> None:
    case = case_for(v)
    sla = SlaConfig(reviewer_minutes=SLOW, regulatory=v.sla.regulatory, client=v.sla.client)
    now = v.now or case.arrived_at
    got = compute_deadlines(case, sla, now, reviewer_tz=v.reviewer_tz)
    assert got.regulatory_due_at == v.regulatory, (
        f"{v.rule}: {got.regulatory_due_at.astimezone(v.regulatory.tzinfo)} != {v.regulatory}"
    )
    assert got.regulatory_paused is v.paused
    if v.frozen_left is not None:
        assert got.regulatory_seconds_left == v.frozen_left
    if not v.paused:
        assert got.binding is REG and got.due_at == v.regulatory  # it binds: the queue sees it
    else:
        assert got.binding is REV  # a paused clock never binds
    assert v.says in got.regulatory_rule
    if v.milestones:
        assert got.milestones == v.milestones


def test_at_least_thirty_rule_vectors_each_citing_a_rule() -> None:
    assert len(VECTORS) >= 30
    assert len({v.id for v in VECTORS}) == len(VECTORS)
    assert all(v.rule for v in VECTORS)


# ------------------------------------------------------------------ the rest of the rules


def test_the_rule_text_names_day_zero_cutoff_and_calendar() -> None:
    case = case_for(VECTORS[0])
    got = compute_deadlines(case, SlaConfig(client=WC_SLA.client), case.arrived_at, reviewer_tz=ET)
    assert got.regulatory_rule == "5 business days from Tue 13 Jan 2026, 17:30 cut-off, US-CA holidays"


def test_a_paused_clock_stays_paused_as_time_passes_and_resumes_on_the_answer() -> None:
    v = next(x for x in VECTORS if x.id == "erisa-pre-service-tolled-open")
    case = case_for(v)
    for days in (5, 20, 40):  # long past the untolled deadline: still not breached
        got = compute_deadlines(case, ERISA_SLA, d(2026, 6, 5, 10, tz=ET) + timedelta(days=days), reviewer_tz=ET)
        assert got.regulatory_paused and got.regulatory_seconds_left == 11 * 86400
    from dataclasses import replace

    answered = replace(case, info_received_at=d(2026, 6, 25, 10, tz=ET))
    got = compute_deadlines(answered, ERISA_SLA, d(2026, 6, 25, 10, tz=ET), reviewer_tz=ET)
    assert not got.regulatory_paused
    assert got.regulatory_due_at == d(2026, 7, 6, 10, tz=ET)  # 11 days left from the answer
    assert got.regulatory_seconds_left == 11 * 86400


def test_missing_facts_are_problems_until_known() -> None:
    bare = Case(id=1, case_id="C-1", sender="a@b.example", subject="", status=CaseStatus.OPEN,
                arrived_at=d(2026, 6, 1, 10), fields=CaseFields())
    assert [p.split(":")[0] for p in clock_problems(bare)] == ["received time missing", "urgency unknown"]
    from dataclasses import replace

    known = replace(bare, fields=CaseFields(received_at=d(2026, 6, 1, 9), urgency=S))
    assert clock_problems(known) == ()


def test_holidays_file_is_read_at_load_on_top_of_the_region(tmp_path: Path) -> None:
    ics = tmp_path / "calhr.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Admission Day\r\n"
        "DTSTART;VALUE=DATE:20261012\r\nDTEND;VALUE=DATE:20261013\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:2@test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Yearly\r\n"
        "DTSTART;VALUE=DATE:20250910\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    cfg = parse_config({"sla": {"client": [{**WC, "holidays_file": "calhr.ics"}]}},
                       str(tmp_path / "config.toml"))
    pol = cfg.sla.client[0]
    assert {date(2026, 10, 12), date(2026, 9, 10), date(2031, 9, 10)} <= pol.holidays_file_dates
    case = case_for(V(id="x", rule="", sla=cfg.sla, client="WC-CA", received=d(2026, 10, 9, 10),
                      regulatory=eod(2026, 10, 19)))
    got = compute_deadlines(case, cfg.sla, case.arrived_at, reviewer_tz=ET)
    assert got.regulatory_due_at == eod(2026, 10, 19)  # same as holidays_add
    # instead of the region: the file alone (Thanksgiving no longer counts)
    without_region = {k: v for k, v in WC.items() if k != "holidays"}
    only = parse_config({"sla": {"client": [{**without_region, "holidays_file": str(ics)}]}})
    thanks = case_for(V(id="y", rule="", sla=only.sla, client="WC-CA", received=d(2026, 11, 25, 10),
                        regulatory=eod(2026, 11, 25)))
    got = compute_deadlines(thanks, only.sla, thanks.arrived_at, reviewer_tz=ET)
    assert got.regulatory_due_at == eod(2026, 12, 2)  # Thu 26, Fri 27, Mon 30, Tue 1, Wed 2
    assert got.regulatory_rule.endswith(", 17:30 cut-off, file holidays")
    with_region = compute_deadlines(case, cfg.sla, case.arrived_at, reviewer_tz=ET)
    assert with_region.regulatory_rule.endswith("US-CA and file holidays")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"pause_on_call_needed": True}, "'sla.client[0].pause_on_call_needed' is replaced by 'toll_on_pend'"),
        ({"receipt_day": "monday"}, "'sla.client[0].receipt_day' must be one of"),
        ({"cutoff_applies": ["expedite"]}, "'sla.client[0].cutoff_applies[0]' must be one of"),
        ({"holidays_add": ["2026-02-30"]}, "must be a date like 2026-06-19"),
        ({"holidays_file": "/nonexistent/h.ics"}, "'sla.client[0].holidays_file': cannot read"),
        ({"appeal_standard": "30 days"}, "'sla.client[0].appeal_standard': bad duration"),
    ],
    ids=["retired-pause-key", "receipt-day", "cutoff-applies", "bad-date", "missing-ics", "appeal-duration"],
)
def test_new_policy_keys_fail_in_one_line(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"sla": {"client": [{"match": "x", **table}]}}, "cfg.toml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unreadable_ics_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ics"
    bad.write_text("this is not a calendar")
    with pytest.raises(ConfigError, match="not a readable iCalendar file"):
        parse_config({"sla": {"client": [{"match": "x", "holidays_file": str(bad)}]}}, "cfg.toml")


def test_toml_dates_and_strings_both_work() -> None:
    cfg = parse_config({"sla": {"client": [{"match": "x", "holidays_add": [date(2026, 6, 19), "2026-07-01"]}]}})
    assert cfg.sla.client[0].holidays_add == [date(2026, 6, 19), date(2026, 7, 1)]
