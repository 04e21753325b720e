"""A scrollable, wrapped text drawn one screen line at a time (Textual's Line API).

A Static holding a whole email body lays out and keeps every line as Rich segments: a
million short lines froze the app for most of a minute at several GB. This widget keeps
the logical lines as plain strings, works out how many screen rows each one takes (one
cheap `len` per line; only lines wider than the view are wrapped, and their pieces are
cached), and builds segments only for the rows being painted.

Everything it draws is sanitised on the way in (uq.textsafe), so no byte of a case email
reaches the terminal as a control sequence and nothing is parsed as markup. A logical
line longer than MAX_LINE characters is cut with a marker saying how much was left out.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from uq.textsafe import SafeLines, clip, safe_line, safe_lines

MAX_LINE = 4000  # characters of one logical line that are drawn


class Line(NamedTuple):
    """One logical line: an optional prefix (a label, an indent) and the text after it.
    Wrapped rows of the text are indented under its start."""

    text: str
    style: Style | None = None
    prefix: str = ""
    prefix_style: Style | None = None


_WRAP_CACHE_LIMIT = 20_000


class LazyText(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LazyText { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._plain: list[str] = []  # set_text: bare lines, no styles (cheap at a million)
        self._lines: list[Line] | None = None  # set_lines: styled lines
        self._ends = array("q")  # cumulative screen rows after each logical line
        self._wrapped: dict[int, list[str]] = {}
        self._layout_width = 0

    # ------------------------------------------------------------ content

    def set_text(self, text: str | SafeLines) -> None:
        """A whole text (a raw email): sanitised, split, long lines cut. Pass SafeLines
        (textsafe.safe_lines, run in a worker) to keep a big text's O(size) pass off the
        UI thread."""
        self._plain = text if isinstance(text, SafeLines) else safe_lines(text, MAX_LINE)
        self._lines = None
        self._relayout()

    def set_lines(self, lines: Iterable[Line]) -> None:
        """Styled lines (the case packet), each sanitised as one line."""
        self._lines = [
            Line(clip(safe_line(ln.text), MAX_LINE), ln.style, safe_line(ln.prefix), ln.prefix_style) for ln in lines
        ]
        self._plain = []
        self._relayout()

    @property
    def line_count(self) -> int:
        return len(self._lines) if self._lines is not None else len(self._plain)

    @property
    def text(self) -> str:
        """Everything held, as plain text (tests and searches read it)."""
        if self._lines is not None:
            return "\n".join(ln.prefix + ln.text for ln in self._lines)
        return "\n".join(self._plain)

    # ------------------------------------------------------------ layout

    def _width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 80)

    def _relayout(self) -> None:
        width = self._width()
        self._layout_width = width
        self._wrapped.clear()
        if self._lines is not None:
            counts: Iterable[int] | None = (self._rows_styled(i, ln, width) for i, ln in enumerate(self._lines))
        elif not self._plain or max(map(len, self._plain)) <= width:  # nothing to wrap: one row per line
            counts = None
            self._ends = array("q", range(1, len(self._plain) + 1))
        else:
            counts = (1 if len(t) <= width else len(self._wrap(i, t, width)) for i, t in enumerate(self._plain))
        if counts is not None:
            self._ends = array("q", accumulate(counts))
        total = self._ends[-1] if len(self._ends) else 0
        self.virtual_size = Size(width, total)
        self.refresh()

    def _rows_styled(self, index: int, line: Line, width: int) -> int:
        room = max(1, width - len(line.prefix))
        return 1 if len(line.text) <= room else len(self._wrap(index, line.text, room))

    def _wrap(self, index: int, text: str, width: int) -> list[str]:
        got = self._wrapped.get(index)
        if got is None:
            if len(self._wrapped) > _WRAP_CACHE_LIMIT:
                self._wrapped.clear()
            got = self._wrapped[index] = wrap(text, width)
        return got

    def on_resize(self) -> None:
        if self._width() != self._layout_width:
            self._relayout()

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        row = y + round(self.scroll_offset.y)
        index = bisect_right(self._ends, row)
        if index >= len(self._ends):
            return Strip.blank(width, base)
        sub = row - (self._ends[index - 1] if index else 0)
        if self._lines is None:
            text = self._plain[index]
            piece = text if len(text) <= self._layout_width else self._wrap(index, text, self._layout_width)[sub]
            segments = [Segment(piece, base)]
        else:
            line = self._lines[index]
            room = max(1, self._layout_width - len(line.prefix))
            piece = line.text if len(line.text) <= room else self._wrap(index, line.text, room)[sub]
            prefix = line.prefix if sub == 0 else " " * len(line.prefix)
            segments = [
                Segment(prefix, base + line.prefix_style if line.prefix_style else base),
                Segment(piece, base + line.style if line.style else base),
            ]
        return Strip(segments).crop(0, width).extend_cell_length(width, base)


_WRAPPERS: dict[int, re.Pattern[str]] = {}


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap at `width` characters, breaking words longer than a row (regex, so
    a long line costs C speed, not a Python loop per character)."""
    pattern = _WRAPPERS.get(width)
    if pattern is None:
        pattern = _WRAPPERS[width] = re.compile(rf"(.{{1,{width}}})(?:\s+|$)|(.{{{width}}})")
    rows = [m.group(1) or m.group(2) for m in pattern.finditer(text) if m.group(0)]
    return rows or [""]

