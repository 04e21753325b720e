"""The case packet as one scrollable text: sections, or the raw email.

Gets plain data (titled sections of label/value pairs, or a string), never a service:
the screen loads in a worker and hands the result over on the UI thread. One Static in a
VerticalScroll is enough for a packet of a few hundred lines and keeps j/k scrolling
cheap; the raw email is shown without markup so nothing in it is interpreted.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

Section = tuple[str, Sequence[tuple[str, str]]]

LABEL_WIDTH = 18


def render_sections(sections: Sequence[Section]) -> Text:
    """Titles as headings, `label  value` rows, multi-line values indented under the label."""
    out = Text()
    for i, (title, rows) in enumerate(sections):
        if i:
            out.append("\n")
        style = "bold reverse red" if title == "Problems" else "bold underline"
        out.append(f" {title} ", style=style)
        out.append("\n")
        width = max([LABEL_WIDTH - 1, *(len(label) for label, _ in rows)]) + 1
        for label, value in rows:
            lines = (value or "—").splitlines() or ["—"]
            if label:
                out.append(f"  {label:<{width}}", style="dim")
                out.append(lines[0] + "\n")
                pad = " " * (width + 2)
                for line in lines[1:]:
                    out.append(pad + line + "\n")
            else:
                for line in lines:
                    out.append("  " + line + "\n")
    return out


class CaseView(VerticalScroll):
    """Scrollable case body; the screen decides what to show."""

    DEFAULT_CSS = """
    CaseView { height: 1fr; padding: 0 1; }
    CaseView > Static { width: 1fr; }
    """

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.showing_raw = False
        self._body = Static("Loading…", markup=False)

    def compose(self) -> ComposeResult:
        yield self._body

    def show_sections(self, sections: Sequence[Section]) -> None:
        self.showing_raw = False
        self._body.update(render_sections(sections))

    def show_raw(self, raw: str) -> None:
        self.showing_raw = True
        self._body.update(Text(raw))
        self.scroll_home(animate=False)

    def show_message(self, text: str) -> None:
        self._body.update(Text(text))

    @property
    def text(self) -> str:
        """What is shown, as plain text (tests and the screen's search read it)."""
        content = self._body.content
        return content.plain if isinstance(content, Text) else str(content)
