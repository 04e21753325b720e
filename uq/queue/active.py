"""Time on a case: only while it is in front of the reviewer and the reviewer is not idle.

Pure: the TUI tells it what is in front (the case screen or a decision modal of case N,
or nothing) and when the reviewer did something; the clock is the caller's. Idle uses the
lock's rule: no key for `idle` means the reviewer was away since the last key, so a gap of
at least `idle` between two signs of life counts nothing (not even the minutes before the
lock noticed), while a shorter gap counts whole (reading without typing is work).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class ActiveTime:
    idle: timedelta
    front: int | None = None  # the case in front, if any
    since: datetime | None = None  # the last sign of life while it was in front
    pending: dict[int, float] = field(default_factory=dict)  # seconds not yet saved, per case

    def _credit(self, now: datetime) -> None:
        if self.front is None or self.since is None:
            return
        gap = (now - self.since).total_seconds()
        if 0 < gap < self.idle.total_seconds():
            self.pending[self.front] = self.pending.get(self.front, 0.0) + gap

    def activity(self, front: int | None, now: datetime) -> None:
        """A key or a click at `now`, with case `front` in front (None: none)."""
        self.show(front, now)
        self._credit(now)
        self.since = now

    def show(self, front: int | None, now: datetime) -> None:
        """What is in front at `now`: a change closes the previous case's stretch there."""
        if front == self.front:
            return
        self._credit(now)
        self.front, self.since = front, now

    def take(self, case_pk: int | None = None) -> dict[int, int]:
        """Whole seconds to save (one case, or every case), removed from pending; the
        fraction of a second stays for next time."""
        keys = [case_pk] if case_pk is not None else list(self.pending)
        out: dict[int, int] = {}
        for pk in keys:
            whole = int(self.pending.get(pk, 0.0))
            if whole:
                out[pk] = whole
                self.pending[pk] -= whole
        return out
