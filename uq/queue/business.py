"""Business-day arithmetic for regulatory clocks that run in business days ("5bd").

Workers' comp and some state rules count business days, not calendar days: weekends and
the client's holidays do not count, and the deadline is the end of the Nth business day
after day 0. Day 0 is the receipt day, except:

- a request received after the daily cut-off (where the policy applies one to this review
  type) is deemed received the following business day (8 CCR 9792.9.1(a)(1));
- a request received on a weekend or holiday is day 0 itself under `same_day` (the
  reading "day one is the first business day after receipt", the earlier deadline and so
  the default), or moves to the next business day under `next_business_day`.

Holiday calendars come from the `holidays` package, imported lazily (about 100 ms) and
cached per (region, year) because a queue of thousands of cases asks for the same few
calendars over and over; a policy may add and remove dates on top of the region.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

END_OF_DAY = time(23, 59, 59)
SAME_DAY = "same_day"
NEXT_BUSINESS_DAY = "next_business_day"


@lru_cache(maxsize=256)
def holiday_dates(region: str, year: int) -> frozenset[date]:
    """Holidays (observed dates included) for a region code like "US" or "US-CA"."""
    import holidays

    country, _, subdiv = region.strip().partition("-")
    calendar = holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None, years=year)
    return frozenset(calendar.keys())


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """A region's holidays (or none) with a policy's corrections: `extra` days added (the
    policy's list and its ICS file), `removed` days taken out (a region's day the client's
    calendar does not keep)."""

    region: str | None = None
    extra: frozenset[date] = frozenset()
    removed: frozenset[date] = frozenset()
    from_file: bool = False  # some of `extra` came from the policy's holidays_file

    def is_holiday(self, day: date) -> bool:
        if day in self.removed:
            return False
        if day in self.extra:
            return True
        return self.region is not None and day in holiday_dates(self.region, day.year)

    def describe(self) -> str:
        """"US-CA holidays", "US-CA holidays +1 -1", "US-CA and file holidays", "listed
        holidays", "no holidays": where the calendar came from, briefly."""
        if self.region is None and not self.extra:
            return "no holidays"
        if self.from_file:
            head = f"{self.region} and file holidays" if self.region else "file holidays"
        else:
            head = f"{self.region} holidays" if self.region else "listed holidays"
        more = f" +{len(self.extra)}" if self.region and self.extra and not self.from_file else ""
        less = f" -{len(self.removed)}" if self.removed else ""
        return head + more + less


NO_HOLIDAYS = HolidayCalendar()


def is_business_day(day: date, cal: HolidayCalendar) -> bool:
    return day.weekday() < 5 and not cal.is_holiday(day)


def next_business_day(day: date, cal: HolidayCalendar) -> date:
    """The first business day strictly after `day`."""
    day += timedelta(days=1)
    while not is_business_day(day, cal):
        day += timedelta(days=1)
    return day


def parse_cutoff(text: str) -> time:
    """'17:30' -> 17:30:00. The config loader has already checked the HH:MM shape."""
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class DayZero:
    day: date
    after_cutoff: bool  # moved to the next business day by the cut-off
    moved: bool  # moved off a weekend/holiday by next_business_day


def business_day_zero(received: datetime, zone: ZoneInfo, cal: HolidayCalendar, cutoff: time | None,
                      receipt_day: str = SAME_DAY) -> DayZero:
    """The day the count starts from. A receipt strictly later than HH:MM:00 on a business
    day is after the cut-off. On a weekend or holiday the cut-off has no business day to
    be late for, so under same_day the receipt day stands whatever the hour."""
    local = received.astimezone(zone)
    day = local.date()
    if not is_business_day(day, cal):
        if receipt_day == NEXT_BUSINESS_DAY:
            return DayZero(next_business_day(day, cal), after_cutoff=False, moved=True)
        return DayZero(day, after_cutoff=False, moved=False)
    if cutoff is not None and local.time().replace(tzinfo=None) > cutoff:
        return DayZero(next_business_day(day, cal), after_cutoff=True, moved=False)
    return DayZero(day, after_cutoff=False, moved=False)


def add_business_days(received: datetime, days: int, zone: ZoneInfo, *, cal: HolidayCalendar,
                      cutoff: time | None, receipt_day: str = SAME_DAY) -> datetime:
    """Due at 23:59:59 local time of the Nth business day after day 0."""
    day = business_day_zero(received, zone, cal, cutoff, receipt_day).day
    for _ in range(days):
        day = next_business_day(day, cal)
    return datetime.combine(day, END_OF_DAY, tzinfo=zone)
