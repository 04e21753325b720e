"""The case packet as one scrollable text: sections, or the raw email.

Gets plain data (titled sections of label/value pairs, or a string), never a service:
the screen loads in a worker and hands the result over on the UI thread. Drawn through
LazyText (the Line API), so a packet or a raw email of any size opens at once and every
character of it is sanitised before it reaches the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style

from uq.textsafe import SafeLines
from uq.tui.widgets.lazy_text import LazyText, Line

Section = tuple[str, Sequence[tuple[str, str]]]

LABEL_WIDTH = 18
_TITLE = Style(bold=True, underline=True)
_PROBLEM_TITLE = Style(bold=True, reverse=True, color="red")
_LABEL = Style(dim=True)


def section_lines(sections: Sequence[Section]) -> list[Line]:
    """Titles as headings, `label  value` rows, multi-line values indented under the label."""
    out: list[Line] = []
    for i, (title, rows) in enumerate(sections):
        if i:
            out.append(Line(""))
        out.append(Line(f" {title} ", _PROBLEM_TITLE if title == "Problems" else _TITLE))
        width = max([LABEL_WIDTH - 1, *(len(label) for label, _ in rows)]) + 1
        for label, value in rows:
            lines = (value or "—").replace("\r\n", "\n").split("\n") or ["—"]
            if label:
                out.append(Line(lines[0], prefix=f"  {label:<{width}}", prefix_style=_LABEL))
                pad = " " * (width + 2)
                out.extend(Line(line, prefix=pad) for line in lines[1:])
            else:
                out.extend(Line(line, prefix="  ") for line in lines)
    return out


class CaseView(LazyText):
    """Scrollable case body; the screen decides what to show."""

    DEFAULT_CSS = """
    CaseView { height: 1fr; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.showing_raw = False
        self.set_text("Loading…")

    def show_sections(self, sections: Sequence[Section]) -> None:
        self.showing_raw = False
        self.set_lines(section_lines(sections))

    def show_raw(self, raw: str | SafeLines) -> None:
        self.showing_raw = True
        self.set_text(raw)
        self.scroll_home(animate=False)

    def show_message(self, text: str) -> None:
        self.set_text(text)
