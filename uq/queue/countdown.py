"""How a deadline reads in the queue: short, unambiguous, and not by colour alone.

Countdowns use one or two units, largest first ("2d 4h", "1h 05m", "23m", "45s") so a
78-hour clock never shows as "78:00" and nobody has to guess whether "1:05" means hours
or minutes. Breached clocks count on with a minus sign ("-15m").

Glyphs carry the state for colour-blind users and monochrome terminals. They are
geometric shapes / dingbats present in every common terminal font, single-cell wide and
without emoji presentation:

    ok        "○"  (U+25CB white circle)
    warning   "▲"  (U+25B2 black up-pointing triangle)
    breached  "✖"  (U+2716 heavy multiplication x)

With `ascii=True` they are "o", "!", "x" for terminals without Unicode.
"""

from __future__ import annotations

from uq.domain import SlaState

GLYPHS: dict[SlaState, str] = {
    SlaState.OK: "○",
    SlaState.WARNING: "▲",
    SlaState.BREACHED: "✖",
}
ASCII_GLYPHS: dict[SlaState, str] = {
    SlaState.OK: "o",
    SlaState.WARNING: "!",
    SlaState.BREACHED: "x",
}

FAST_TICK_SECONDS = 1
SLOW_TICK_SECONDS = 30
FAST_TICK_WINDOW = 600  # seconds either side of the deadline where seconds matter


def countdown_text(seconds_left: int) -> str:
    """Truncates toward zero within the smallest unit shown: 1h 05m 59s reads "1h 05m"."""
    sign = "-" if seconds_left < 0 else ""
    s = abs(seconds_left)
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < 86400:
        return f"{sign}{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{sign}{s // 86400}d {s % 86400 // 3600}h"


def state_glyph(state: SlaState, *, ascii: bool = False) -> str:
    return (ASCII_GLYPHS if ascii else GLYPHS)[state]


def tick_interval(seconds_left: int) -> int:
    """Seconds between repaints: every second within 10 minutes of the deadline (either
    side), otherwise every 30 s, which is plenty for a minutes-granular display."""
    if -FAST_TICK_WINDOW < seconds_left < FAST_TICK_WINDOW:
        return FAST_TICK_SECONDS
    return SLOW_TICK_SECONDS
