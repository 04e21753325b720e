"""Business-day arithmetic for regulatory clocks that run in business days ("5bd").

Workers' comp and some state rules count business days, not calendar days: weekends and
the client's holidays do not count, a receipt after the daily cut-off counts as received
the next business day, and the deadline is the end of the Nth business day after the
receipt day (day 0). Holiday calendars come from the `holidays` package, which is imported
lazily (about 100 ms) and cached per (region, year) because a queue of thousands of cases
asks for the same few calendars over and over.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=256)
def holiday_dates(region: str, year: int) -> frozenset[date]:
    """Holidays (observed dates included) for a region code like "US" or "US-CA"."""
    import holidays

    country, _, subdiv = region.strip().partition("-")
    calendar = holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None, years=year)
    return frozenset(calendar.keys())


def is_business_day(day: date, region: str | None) -> bool:
    if day.weekday() >= 5:
        return False
    return region is None or day not in holiday_dates(region, day.year)


def next_business_day(day: date, region: str | None) -> date:
    """The first business day strictly after `day`."""
    day += timedelta(days=1)
    while not is_business_day(day, region):
        day += timedelta(days=1)
    return day


def parse_cutoff(text: str) -> time:
    """'17:30' -> 17:30:00. The config loader has already checked the HH:MM shape."""
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes))


def business_day_zero(received: datetime, zone: ZoneInfo, region: str | None,
                      cutoff: time | None) -> date:
    """The day the clock counts from: the receipt day, unless the request arrived on a
    weekend or holiday or after the cut-off (strictly later than HH:MM:00), in which case
    the next business day."""
    local = received.astimezone(zone)
    day = local.date()
    late = cutoff is not None and local.time().replace(tzinfo=None) > cutoff
    if late or not is_business_day(day, region):
        return next_business_day(day, region)
    return day


def add_business_days(received: datetime, days: int, zone: ZoneInfo, *, region: str | None,
                      cutoff: time | None) -> datetime:
    """Due at 23:59:59 local time of the Nth business day after day 0."""
    day = business_day_zero(received, zone, region, cutoff)
    for _ in range(days):
        day = next_business_day(day, region)
    return datetime.combine(day, END_OF_DAY, tzinfo=zone)
