"""Dates as nurses type them, into aware datetimes.

A US zone abbreviation names the IANA zone at that date ("EST" in July still means New
York time, as senders mean it), so the regulatory clock starts at the right instant. When
the zone a naive time would be read in (the client policy's, else the reviewer's) uses
that abbreviation itself, it is that zone: "MST" from an Arizona client is Phoenix time,
with no DST. A date without a zone is in that default zone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

_ZONES: dict[str, str] = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "az": "America/Phoenix", "arizona": "America/Phoenix",
    "akt": "America/Anchorage", "akst": "America/Anchorage", "akdt": "America/Anchorage",
    "alaska": "America/Anchorage",
    "hst": "Pacific/Honolulu", "hast": "Pacific/Honolulu", "hawaii": "Pacific/Honolulu",
    "hdt": "America/Adak", "hadt": "America/Adak",
    "ast": "America/Puerto_Rico", "atlantic": "America/Puerto_Rico",
    "chst": "Pacific/Guam", "sst": "Pacific/Pago_Pago",
    "utc": "UTC", "gmt": "UTC", "z": "UTC",
}
# The abbreviations a generic name stands for, to match against the default zone's.
_FAMILY = {"et": ("EST", "EDT"), "eastern": ("EST", "EDT"), "ct": ("CST", "CDT"),
           "central": ("CST", "CDT"), "mt": ("MST", "MDT"), "mountain": ("MST", "MDT"),
           "pt": ("PST", "PDT"), "pacific": ("PST", "PDT"), "akt": ("AKST", "AKDT"),
           "alaska": ("AKST", "AKDT"), "hawaii": ("HST",), "atlantic": ("AST",)}

_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}

_TIME = (r"(?:[ T,]+(?:at[ ]+)?(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?::(?P<s>\d{2})(?:\.\d+)?)?"
         r"[ ]*(?P<ampm>[ap]\.?m\.?)?)?")
_ZONE = (r"(?:[ ]*\(?(?P<zone>[A-Za-z]{1,8}|(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?)\)?)?")
_WDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?[ ]+)?"
_MON = r"(?P<mon>[A-Za-z]{3,9})\.?"

_PATTERNS = [
    re.compile(rf"^{_WDAY}(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_TIME}{_ZONE}$", re.I),
    re.compile(rf"^{_WDAY}(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})/(?P<y>\d{{4}}|\d{{2}}){_TIME}{_ZONE}$",
               re.I),
    re.compile(rf"^{_WDAY}{_MON}[ ]+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?[ ]+(?P<y>\d{{4}})"
               rf"{_TIME}{_ZONE}$", re.I),
    re.compile(rf"^{_WDAY}(?P<d>\d{{1,2}})[ -]{_MON}[ -](?P<y>\d{{4}}){_TIME}{_ZONE}$", re.I),
]

_OFFSET_RE = re.compile(r"^(?:utc|gmt)?([+-])(\d{1,2}):?(\d{2})?$", re.I)


@lru_cache(maxsize=64)
def _abbreviations(zone: tzinfo) -> frozenset[str]:
    """What a zone calls itself over a year (winter and summer)."""
    return frozenset(filter(None, (datetime(2026, m, 15, 12, tzinfo=zone).tzname() for m in (1, 7))))


def _zone(name: str | None, default: tzinfo) -> tzinfo | None:
    if not name:
        return default
    key = name.lower()
    if key in _ZONES:
        if key not in ("utc", "gmt", "z") and not _abbreviations(default).isdisjoint(
                _FAMILY.get(key, (name.upper(),))):
            return default
        return ZoneInfo(_ZONES[key])
    m = _OFFSET_RE.match(name)
    if m is None:
        return None
    sign = -1 if m.group(1) == "-" else 1
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_when(text: str, tz: tzinfo, *, end_of_day: bool = False) -> datetime | None:
    """An aware datetime, or None when the text is not a date we can read for sure.

    end_of_day: a date-only deadline ("Due: 11/30/2026") means the end of that day.
    """
    s = " ".join(text.replace("\u00a0", " ").split()).strip(" .;")
    if not s or len(s) > 80:
        return None
    for pattern in _PATTERNS:
        m = pattern.match(s)
        if m is not None:
            return _build(m, tz, end_of_day)
    return None


def _build(m: re.Match[str], tz: tzinfo, end_of_day: bool) -> datetime | None:
    groups = m.groupdict()
    if groups.get("mon") is not None:
        month = _MONTHS.get(groups["mon"][:3].lower())
        if month is None or not groups["mon"].isalpha():
            return None
    else:
        month = int(groups["m"])
    year = int(groups["y"])
    if len(groups["y"]) == 2:  # "11/29/26"; a four-digit "0001" is year 1, out of range later
        year += 2000
    day = int(groups["d"])
    zone = _zone(groups.get("zone"), tz)
    if zone is None:
        return None
    hour = int(groups["h"]) if groups.get("h") else None
    minute = int(groups["mi"]) if groups.get("mi") else 0
    second = int(groups["s"]) if groups.get("s") else 0
    ampm = (groups.get("ampm") or "").replace(".", "").lower()
    if hour is None:
        if ampm:
            return None
        hour, minute, second = (23, 59, 0) if end_of_day else (0, 0, 0)
    elif groups.get("mi") is None and not ampm:
        return None  # "2026-11-29 8" is not a time
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return naive.replace(tzinfo=zone)
