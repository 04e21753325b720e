"""Display rows for the queue list, built once per reload from the store's QueueRow tuples.

A DisplayRow holds what the list draws and what the filter searches, already formatted,
so drawing a line is string slicing plus one `sla_state` call. Member names never reach
the screen: the row keeps initials for display and a lower-cased haystack for `/`.
Everything drawn is sanitised here, once per load (uq.textsafe, uq.lookalike): the case ID
keeps its raw value for hooks and look-ups, `shown_id` is what the list draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from uq.domain import SlaState, lease_holder, member_initials
from uq.lookalike import id_problems, lookalike_groups, show_id
from uq.queue.countdown import countdown_text
from uq.queue.priority import URGENCY_RANK
from uq.queue.sla import paused_seconds_left, sla_state
from uq.textsafe import safe_line


class QueueRow(Protocol):
    """The columns of uq.services.queries.queue_rows this module reads (structural, so
    the TUI does not import the store's type)."""

    @property
    def id(self) -> int: ...
    @property
    def case_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def window_start(self) -> datetime | None: ...
    @property
    def urgency(self) -> str: ...
    @property
    def review_type(self) -> str: ...
    @property
    def client(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def nurse_recommendation(self) -> str: ...
    @property
    def member_name(self) -> str | None: ...
    @property
    def update_count(self) -> int: ...
    @property
    def has_problems(self) -> bool: ...
    @property
    def arrived_at(self) -> datetime: ...
    @property
    def claimed_by(self) -> str | None: ...
    @property
    def claim_until(self) -> datetime | None: ...
    @property
    def regulatory_paused(self) -> bool: ...
    @property
    def paused_due_at(self) -> datetime | None: ...
    @property
    def paused_since(self) -> datetime | None: ...


FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

SORT_KEYS: tuple[str, ...] = ("due", "urgency", "arrival", "client")

DEFAULT_VIEWS: dict[str, str] = {
    "1": "all",
    "2": "urgent",
    "3": "breached",
    "4": "warning",
    "5": "call_needed",
    "6": "updated",
    "7": "problems",
}
VIEW_NAMES: tuple[str, ...] = (
    "all",
    "urgent",
    "breached",
    "warning",
    "call_needed",
    "updated",
    "problems",
)

_REC = {"approve": "approve", "deny": "deny", "partial": "partial", "pend": "pend", "unknown": "?"}
_TYPE = {"prospective": "PRE", "concurrent": "CON", "retrospective": "RET", "unknown": "?"}
_URG = {"urgent": "URG", "standard": "std", "unknown": "?"}
_URGENCY_RANK = {u.value: rank for u, rank in URGENCY_RANK.items()}  # the queue's own order


initials = member_initials  # the list shows initials only: minimum necessary PHI


@dataclass(frozen=True, slots=True)
class DisplayRow:
    pk: int
    case_id: str
    due_at: datetime | None
    window_start: datetime | None
    warning_at: datetime | None  # when the row turns amber (for alerts without a full scan)
    urgency: str
    review_type: str
    client: str
    service: str
    recommendation: str
    initials: str
    call_needed: bool
    updated: bool
    problems: bool
    arrived_at: datetime
    haystack: str  # lower-case case ID, member, client, service: what `/` searches
    pended: bool = False  # information requested: the regulatory clock may be tolled, the row's still counts
    tolled: bool = False  # ... and it is: the regulatory clock is paused (flag T instead of P)
    paused_left: str = ""  # the paused regulatory clock's time left ("14d 21h"): frozen, so formatted once
    shown_id: str = ""  # the case ID as drawn: controls and look-alike letters marked
    claimed_by: str | None = None  # sanitised; who holds it at a given instant: holder()
    claim_until: datetime | None = None

    def holder(self, now: datetime) -> str | None:
        return lease_holder(self.claimed_by, self.claim_until, now)

    @property
    def urgent(self) -> bool:
        return self.urgency == "urgent"

    @property
    def flags(self) -> str:
        waiting = "C" if self.call_needed else "T" if self.tolled else "P" if self.pended else " "
        return ("U" if self.updated else " ") + ("!" if self.problems else " ") + waiting

    def state(self, now: datetime, warning_fraction: float, warning_minutes: int) -> tuple[int, SlaState]:
        if self.due_at is None:
            return 10**9, SlaState.OK
        return sla_state(
            self.due_at,
            self.window_start,
            now,
            warning_fraction=warning_fraction,
            warning_minutes=warning_minutes,
        )


def warning_instant(
    due_at: datetime | None,
    window_start: datetime | None,
    *,
    warning_fraction: float,
    warning_minutes: int,
) -> datetime | None:
    """The instant `sla_state` starts answering WARNING: the earlier of the two thresholds."""
    if due_at is None:
        return None
    lead = timedelta(minutes=warning_minutes)
    if window_start is not None and due_at > window_start:
        lead = max(lead, (due_at - window_start) * warning_fraction)
    return due_at - lead


_SHARED: dict[str, str] = {}


def _shared(text: str) -> str:
    """One object per distinct value: clients, services and the enum words repeat across
    tens of thousands of rows, and at 100k rows each copy costs megabytes."""
    got = _SHARED.get(text)
    if got is None:
        if len(_SHARED) > 50_000:
            _SHARED.clear()
        got = _SHARED[text] = text
    return got


def from_queue_row(r: QueueRow, *, warning_fraction: float, warning_minutes: int) -> DisplayRow:
    client = _shared(safe_line(r.client or ""))
    service = _shared(safe_line(r.service or ""))
    return DisplayRow(
        pk=r.id,
        case_id=r.case_id,
        due_at=r.due_at,
        window_start=r.window_start,
        warning_at=warning_instant(
            r.due_at,
            r.window_start,
            warning_fraction=warning_fraction,
            warning_minutes=warning_minutes,
        ),
        urgency=_shared(r.urgency),
        review_type=_shared(r.review_type),
        client=client,
        service=service,
        recommendation=_shared(r.nurse_recommendation),
        initials=initials(r.member_name),
        call_needed=r.status == "call_needed",
        updated=r.update_count > 0,
        problems=r.has_problems or bool(id_problems(r.case_id)),
        arrived_at=r.arrived_at,
        haystack="\n".join((r.case_id, r.member_name or "", client, service)).lower(),
        pended=r.status == "pended",
        tolled=r.regulatory_paused,
        paused_left=_paused_left(r),
        shown_id=show_id(r.case_id),
        claimed_by=_shared(safe_line(r.claimed_by)) if r.claimed_by else None,
        claim_until=r.claim_until,
    )


def _paused_left(r: QueueRow) -> str:
    if not r.regulatory_paused or r.paused_due_at is None or r.paused_since is None:
        return ""
    return _shared(countdown_text(paused_seconds_left(r.paused_due_at, r.paused_since)))


def flag_lookalikes(rows: list[DisplayRow]) -> list[DisplayRow]:
    """Mark with a problem every row whose case ID looks the same as another row's."""
    twins = lookalike_groups((r.pk, r.case_id) for r in rows)
    if not twins:
        return rows
    return [replace(r, problems=True) if r.pk in twins and not r.problems else r for r in rows]


def sort_rows(rows: Sequence[DisplayRow], key: str) -> list[DisplayRow]:
    """Every order falls back to due time, so equal keys still show the most pressing first."""

    def due(r: DisplayRow) -> datetime:
        return r.due_at or FAR_FUTURE

    if key == "urgency":
        return sorted(rows, key=lambda r: (_URGENCY_RANK.get(r.urgency, 2), due(r), r.pk))
    if key == "arrival":
        return sorted(rows, key=lambda r: (r.arrived_at, r.pk))
    if key == "client":
        return sorted(rows, key=lambda r: (r.client.lower(), due(r), r.pk))
    return sorted(rows, key=lambda r: (due(r), _URGENCY_RANK.get(r.urgency, 2), r.arrived_at, r.pk))


RowFilter = Callable[[DisplayRow], bool]


def view_filter(view: str, now: datetime, *, warning_fraction: float, warning_minutes: int) -> RowFilter:
    """A saved view's predicate. Time-dependent views are evaluated when chosen/reloaded."""

    def state(r: DisplayRow) -> SlaState:
        return r.state(now, warning_fraction, warning_minutes)[1]

    table: dict[str, RowFilter] = {
        "all": lambda r: True,
        "urgent": lambda r: r.urgent,
        "breached": lambda r: state(r) is SlaState.BREACHED,
        "warning": lambda r: state(r) is SlaState.WARNING,
        "call_needed": lambda r: r.call_needed,
        "updated": lambda r: r.updated,
        "problems": lambda r: r.problems,
    }
    return table[view]


def text_filter(text: str) -> RowFilter:
    needle = text.strip().lower()
    return lambda r: needle in r.haystack


# ---------------------------------------------------------------- columns

# (title, width) of the fixed columns after the countdown; the service column takes the rest.
COUNTDOWN_WIDTH = 10  # glyph, space, up to "-23h 59m" right-aligned
FIXED = (("URG", 4), ("TYPE", 5), ("CASE", 18), ("CLIENT", 18))
TAIL = (("REC", 8), ("MEMBER", 7), ("FLG", 3))
HOLDER = ("HELD BY", 10)  # team mode only: who holds each case


def _fit(text: str, width: int) -> str:
    return (text[: width - 1] + "…") if len(text) > width else text.ljust(width)


def _fit_middle(text: str, width: int) -> str:
    """Case IDs are cut in the middle: two IDs differing only at the end stay different."""
    if len(text) <= width:
        return text.ljust(width)
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


PAUSED_MARK = "‖"  # as on the case screen: "‖ paused, 14d 21h left"
ASCII_PAUSED_MARK = "|"


def _service(r: DisplayRow, width: int, ascii: bool) -> str:
    """A tolled row leads its service cell with the paused regulatory clock ("‖14d 21h")
    while the DUE cell counts the reviewer's turnaround down: the service column is the
    first one with room, and it is still on screen at 80 columns, where the flags are cut
    off. The mark fits the narrowest service column whole."""
    if not r.paused_left:
        return _fit(r.service, width)
    mark = (ASCII_PAUSED_MARK if ascii else PAUSED_MARK) + r.paused_left
    rest = width - len(mark) - 1
    if rest < 2 or not r.service:
        return _fit(mark, width)
    return mark + " " + _fit(r.service, rest)


def service_width(total: int, team: bool = False) -> int:
    fixed = COUNTDOWN_WIDTH + 1 + sum(w + 1 for _, w in FIXED) + sum(w + 1 for _, w in TAIL)
    return max(8, total - fixed - 1 - (HOLDER[1] + 1 if team else 0))


def cells(r: DisplayRow, total_width: int, holder: str | None = None, *, ascii: bool = False) -> str:
    """Everything after the countdown, padded to the line width. holder: None outside
    team mode (no column), else who holds the case ("" for nobody). ascii: the paused
    mark without Unicode, as the state glyphs."""
    team = holder is not None
    parts = [
        _fit(_URG.get(r.urgency, r.urgency), 4),
        _fit(_TYPE.get(r.review_type, r.review_type), 5),
        _fit_middle(r.shown_id or r.case_id, 18),
        _fit(r.client, 18),
        _service(r, service_width(total_width, team), ascii),
    ]
    if holder is not None:
        parts.append(_fit(holder, HOLDER[1]))
    parts += [_fit(_REC.get(r.recommendation, r.recommendation), 8), _fit(r.initials, 7), r.flags]
    return " ".join(parts)


def header(total_width: int, team: bool = False) -> str:
    titles = [_fit(t, w) for t, w in FIXED] + [_fit("SERVICE", service_width(total_width, team))]
    if team:
        titles.append(_fit(*HOLDER))
    titles += [_fit(t, w) for t, w in TAIL]
    return " " + "DUE".rjust(COUNTDOWN_WIDTH - 1) + " " + " ".join(titles)


def resolve_views(overrides: dict[str, str]) -> dict[str, str]:
    """Defaults with `ui.views` applied: {"1".."9": view name}. Bad entries are a ConfigError."""
    from uq.errors import ConfigError

    views = dict(DEFAULT_VIEWS)
    for key, name in overrides.items():
        if key not in {str(n) for n in range(1, 10)}:
            raise ConfigError(f"ui.views: key '{key}' must be a digit 1-9")
        if name not in VIEW_NAMES:
            raise ConfigError(f"ui.views.{key}: unknown view '{name}' (one of {', '.join(VIEW_NAMES)})")
        views[key] = name
    return views
