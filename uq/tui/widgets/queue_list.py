"""The queue as a virtual list on Textual's Line API (PERF_NOTES: DataTable is 650 ms to
fill at 1k rows and re-measures everything on any cell update; this draws only the lines
on screen, so a tick costs the same at 100 rows or 100,000).

The widget gets plain DisplayRows and a `now` callable; it never touches services.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.segment import Segment
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from uq.domain import SlaState
from uq.queue.countdown import countdown_text, state_glyph, tick_interval
from uq.tui.rows import COUNTDOWN_WIDTH, DisplayRow, cells

_STATE_CLASS = {
    SlaState.OK: "queue-list--ok",
    SlaState.WARNING: "queue-list--warning",
    SlaState.BREACHED: "queue-list--breached",
}


class QueueList(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows are in display order; the cursor is an index, but callers address cases by pk."""

    COMPONENT_CLASSES = {
        "queue-list--cursor",
        "queue-list--ok",
        "queue-list--warning",
        "queue-list--breached",
        "queue-list--urgent",
        "queue-list--empty",
    }
    DEFAULT_CSS = """
    QueueList { height: 1fr; }
    QueueList > .queue-list--cursor { text-style: bold reverse; }
    QueueList > .queue-list--ok { color: $success; }
    QueueList > .queue-list--warning { color: $warning; text-style: bold; }
    QueueList > .queue-list--breached { color: $error; text-style: bold; }
    QueueList > .queue-list--urgent { text-style: bold; }
    QueueList > .queue-list--empty { color: $text-muted; }
    """

    class Highlighted(Message):
        def __init__(self, pk: int | None) -> None:
            super().__init__()
            self.pk = pk

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        warning_fraction: float = 0.25,
        warning_minutes: int = 30,
        ascii_glyphs: bool = False,
        team: bool = False,
        empty_text: str = "",
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self._now = now
        self._fraction = warning_fraction
        self._minutes = warning_minutes
        self._ascii = ascii_glyphs
        self._team = team  # a holder column: who has each case claimed
        self.rows: list[DisplayRow] = []
        self.cursor = 0
        self.empty_text = empty_text or "No open cases."
        self._shown: dict[int, str] = {}  # row index → countdown text last drawn

    # ------------------------------------------------------------ data

    @property
    def current(self) -> DisplayRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def current_pk(self) -> int | None:
        row = self.current
        return row.pk if row else None

    def set_rows(self, rows: Sequence[DisplayRow], *, keep_pk: int | None = None) -> None:
        """Replace the rows, keeping the cursor on `keep_pk` (default: the current case).
        When that case is gone (decided), the cursor stays at the same position, which in
        queue order is the next most pressing case."""
        target = keep_pk if keep_pk is not None else self.current_pk
        self.rows = list(rows)
        index = next((i for i, r in enumerate(self.rows) if r.pk == target), None) if target is not None else None
        self._shown.clear()
        self.virtual_size = Size(self.size.width, len(self.rows))
        self._set_cursor(index if index is not None else min(self.cursor, max(0, len(self.rows) - 1)))
        self.refresh()

    # ------------------------------------------------------------ cursor

    def _set_cursor(self, index: int) -> None:
        old = self.cursor
        self.cursor = max(0, min(index, len(self.rows) - 1)) if self.rows else 0
        self._refresh_row(old)
        self._refresh_row(self.cursor)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self.current_pk))

    def move(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta)

    def first(self) -> None:
        self._set_cursor(0)

    def last(self) -> None:
        self._set_cursor(len(self.rows) - 1)

    def page(self, direction: int) -> None:
        self._set_cursor(self.cursor + direction * max(1, self.size.height - 1))

    def select_pk(self, pk: int) -> bool:
        for i, r in enumerate(self.rows):
            if r.pk == pk:
                self._set_cursor(i)
                return True
        return False

    def _scroll_cursor_into_view(self) -> None:
        height = self.size.height or 1
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # ------------------------------------------------------------ ticking

    def visible_range(self) -> range:
        top = round(self.scroll_offset.y)
        return range(top, min(len(self.rows), top + self.size.height))

    def _countdown(self, row: DisplayRow, now: datetime) -> tuple[str, SlaState, int]:
        seconds, state = row.state(now, self._fraction, self._minutes)
        if row.due_at is None:
            return " " * (COUNTDOWN_WIDTH - 1), state, seconds
        glyph = state_glyph(state, ascii=self._ascii)
        text = f"{glyph} {countdown_text(seconds):>{COUNTDOWN_WIDTH - 3}}"
        return text, state, seconds

    def tick(self) -> float:
        """Recompute the visible countdowns, repaint only the lines whose text changed, and
        return how many seconds until the next repaint is due (1 s near a deadline, else 30)."""
        now = self._now()
        next_in = 30.0
        for index in self.visible_range():
            text, _state, seconds = self._countdown(self.rows[index], now)
            if self._shown.get(index) != text:
                self._refresh_row(index)
            if self.rows[index].due_at is not None:
                next_in = min(next_in, float(tick_interval(seconds)))
        return next_in

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + round(self.scroll_offset.y)
        base = self.rich_style
        if not self.rows:
            if y == 0:
                style = self.get_component_rich_style("queue-list--empty")
                return Strip([Segment(f" {self.empty_text}".ljust(width), base + style)])
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        now = self._now()
        text, state, _ = self._countdown(row, now)
        self._shown[index] = text
        cursor = index == self.cursor
        line_style = base + self.get_component_rich_style("queue-list--cursor") if cursor else base
        state_style = self.get_component_rich_style(_STATE_CLASS[state])
        rest_style = line_style + self.get_component_rich_style("queue-list--urgent") if row.urgent else line_style
        segments = [
            Segment(" ", line_style),
            Segment(text.rjust(COUNTDOWN_WIDTH - 1), line_style + state_style),
            Segment(" ", line_style),
            Segment(cells(row, width, (row.holder(now) or "") if self._team else None, ascii=self._ascii), rest_style),
        ]
        return Strip(segments).crop(0, width).extend_cell_length(width, line_style)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))
        self._shown.clear()
