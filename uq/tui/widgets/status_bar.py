"""One line at the bottom: is mail flowing, is anything stuck in the outbox, how bad is it.

Sync state is shown as a word and a glyph, never by colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.widgets import Static

from uq.textsafe import safe_line

_SYNC_GLYPH = {
    "live": "●",
    "polling": "◐",
    "following": "⇄",  # another uq process syncs this mailbox; its cases show here too
    "connecting": "…",
    "offline": "✖",
    "stopped": "■",
    "demo": "◇",
}


class Hold(NamedTuple):
    """A reply inside its undo window: which case, what it says, when it leaves."""

    case_id: str
    outcome: str
    until: datetime


def hold_text(holds: tuple[Hold, ...], now: datetime) -> str:
    """The soonest reply still held, counting down, plus how many more: the reviewer sees
    what `u` would still catch and how long it has. Empty once every hold has run out."""
    live = sorted((h for h in holds if h.until > now), key=lambda h: h.until)
    if not live:
        return ""
    first = live[0]
    seconds = math.ceil((first.until - now).total_seconds())
    text = f"{safe_line(first.case_id)} {safe_line(first.outcome).replace('_', ' ')} · {seconds} s u"
    return text + (f" +{len(live) - 1}" if len(live) > 1 else "")


@dataclass(frozen=True)
class StatusInfo:
    sync: str = "connecting"  # live / polling / following / connecting / offline / stopped / demo / loading
    sync_detail: str = ""
    last_sync: datetime | None = None
    outbox: dict[str, int] = field(default_factory=dict)
    breached: int = 0
    open_cases: int = 0
    reviewer: str = ""
    notice: str = ""  # e.g. where demo replies go
    set_aside: dict[str, int] = field(default_factory=dict)  # {"quarantined": n, "not_case": m}
    holds: tuple[Hold, ...] = ()
    now: datetime | None = None  # the injected clock's time the hold countdown is drawn at


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 0 0 1; }
    """

    def __init__(self, tz: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self.info = StatusInfo()

    def update_info(self, **changes: object) -> None:
        self.info = replace(self.info, **changes)  # type: ignore[arg-type]
        self.update(self.render_info())

    def render_info(self) -> Text:
        i = self.info
        sync = f"{_SYNC_GLYPH.get(i.sync, '·')} {i.sync}"
        if i.last_sync is not None:
            sync += f" {i.last_sync.astimezone(self._tz):%H:%M}"
        sync_style = {"offline": "bold red", "live": "green", "polling": "yellow"}.get(i.sync, "")
        o = i.outbox
        queued = o.get("queued", 0) + o.get("sending", 0)
        outbox = f"outbox: {o.get('held', 0)} held {queued} queued {o.get('failed', 0)} failed"
        for state in ("uncertain", "stopped"):  # need the reviewer's eye: shown only when present
            if o.get(state):
                outbox += f" {o[state]} {state}"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(sync, style=sync_style)
        text.append(" │ ")
        text.append(outbox, style="bold red" if o.get("failed") or o.get("stopped") else "")
        held = hold_text(i.holds, i.now) if i.now is not None else ""
        if held:
            text.append(" │ ")
            text.append(held, style="bold yellow")
        text.append(" │ ")
        text.append(f"{i.breached} breached", style="bold red" if i.breached else "")
        quarantined, not_case = i.set_aside.get("quarantined", 0), i.set_aside.get("not_case", 0)
        if quarantined or not_case:  # mail that made no case: I lists it
            text.append(" │ ")
            text.append(f"{quarantined} quarantined", style="bold yellow" if quarantined else "")
            text.append(f" {not_case} set aside (I)")
        text.append(f" │ {i.reviewer}")
        if i.notice:
            text.append(f" │ {i.notice}")
        return text
