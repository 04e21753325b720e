"""Holiday dates from an iCalendar (.ics) file, for a policy's `holidays_file`.

A client's own list (e.g. the state holidays its contract names) is the authority when it
differs from a region's calendar, so the file is read at config load and the clocks only
see dates. Every VEVENT counts: an all-day event for each day it spans (DTEND exclusive),
a timed event for the day it starts, and a recurring one (RRULE, RDATE, EXDATE) expanded
over the years a queue can need.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

EXPAND_YEARS = (2000, 2100)  # recurrences are expanded over these years, inclusive


class HolidayFileError(Exception):
    """One line: what is wrong with the file."""


def read_holiday_file(path: Path) -> frozenset[date]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HolidayFileError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    return parse_holidays_ics(data, name=str(path))


def parse_holidays_ics(data: bytes, *, name: str = "<ics>") -> frozenset[date]:
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise HolidayFileError(f"{name} is not a readable iCalendar file ({first[:80]})") from None
    days: set[date] = set()
    for event in cal.walk("VEVENT"):
        try:
            days.update(_event_days(event))
        except (ValueError, TypeError, KeyError, AttributeError):
            summary = str(event.get("SUMMARY", ""))[:40]
            raise HolidayFileError(f"{name}: event {summary!r} has no usable date") from None
    if not days:
        raise HolidayFileError(f"{name} holds no events")
    return frozenset(days)


def _day(prop: Any) -> date:
    value: date = prop.dt
    return value.date() if isinstance(value, datetime) else value


def _event_days(event: Any) -> set[date]:
    start = _day(event["DTSTART"])
    span = 1
    if "DTEND" in event and not isinstance(event["DTSTART"].dt, datetime):
        span = max(1, (_day(event["DTEND"]) - start).days)
    starts = {start}
    if "RRULE" in event:
        starts = _expand(event, start)
    for extra in _dates(event.get("RDATE")):
        starts.add(extra)
    for gone in _dates(event.get("EXDATE")):
        starts.discard(gone)
    return {s + timedelta(days=i) for s in starts for i in range(span)}


def _dates(prop: Any) -> set[date]:
    """RDATE/EXDATE: one property or a list of them, each holding one or more dates."""
    if prop is None:
        return set()
    props = prop if isinstance(prop, list) else [prop]
    out: set[date] = set()
    for p in props:
        for d in getattr(p, "dts", []):
            out.add(d.dt.date() if isinstance(d.dt, datetime) else d.dt)
    return out


def _expand(event: Any, start: date) -> set[date]:
    from dateutil.rrule import rrulestr

    rule_text = event["RRULE"].to_ical().decode()
    rule = rrulestr(rule_text, dtstart=datetime.combine(start, datetime.min.time()), ignoretz=True)
    first, last = datetime(EXPAND_YEARS[0], 1, 1), datetime(EXPAND_YEARS[1], 12, 31)
    return {d.date() for d in rule.between(first, last, inc=True)}
