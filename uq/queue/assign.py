"""Which case a reviewer takes next (`uq claim --next`): the queue's own order, except that
cases the reviewer is qualified for come first.

Case emails carry no specialty or state field, so both are read from the text the nurse
wrote: the reviewer's specialty named in the requesting provider, service, facility or
question; a state from an address ("Springfield, IL 62701": two capitals before a ZIP, so
a credential such as "MD" is never read as Maryland). A case in a state the reviewer holds
no licence for goes last; one whose state is unknown stays in queue order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from uq.domain import CaseFields

_STATE_ZIP = re.compile(r"\b([A-Z]{2})\s+\d{5}(?:-\d{4})?\b")
_US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    ]
)


@dataclass(frozen=True)
class Qualifications:
    specialty: str = ""
    license_states: tuple[str, ...] = ()


def case_states(fields: CaseFields) -> set[str]:
    text = "\n".join(t for t in (fields.facility, fields.requesting_provider) if t)
    return {m for m in _STATE_ZIP.findall(text) if m in _US_STATES}


def matches_specialty(fields: CaseFields, specialty: str) -> bool:
    if not specialty.strip():
        return False
    text = " ".join(t for t in (fields.requesting_provider, fields.service, fields.facility, fields.question) if t)
    return re.search(rf"\b{re.escape(specialty.strip())}\b", text, re.IGNORECASE) is not None


def preference(fields: CaseFields, q: Qualifications) -> tuple[bool, bool, bool]:
    """Sort key, lower first: not licensed there, specialty unmatched, state unmatched."""
    states = case_states(fields)
    licensed = {s.upper() for s in q.license_states}
    unlicensed = bool(licensed and states and not states & licensed)
    return unlicensed, not matches_specialty(fields, q.specialty), not (states & licensed)


def best_first(candidates: Sequence[tuple[int, CaseFields]], q: Qualifications) -> list[int]:
    """Free cases (pk, fields) in queue order -> pks to try, best first (the sort is stable,
    so the queue order stands among equals)."""
    return [pk for pk, fields in sorted(candidates, key=lambda c: preference(c[1], q))]
