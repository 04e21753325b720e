"""HTML-only case emails into `Label: value` lines the label parser already reads.

Two shapes are seen: a two-column table of label/value cells, and `<b>Label:</b> value`
lines. A table row becomes one line ("Label: value", or several pairs on one line as a
multi-field line), block tags become line breaks, and scripts and styles are dropped.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_BLOCK = frozenset({"br", "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                    "table", "tr", "hr", "pre", "blockquote", "section", "article", "header",
                    "footer", "dt", "dd"})
_SKIP = frozenset({"script", "style", "head", "title", "template"})
_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0]+")


class _ToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def _emit(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        else:
            self.out.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "tr":
            self._end_row()
            self.row = []
        elif tag in ("td", "th"):
            self._end_cell()
            self.cell = []
        elif tag in _BLOCK:
            self._emit("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._emit("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table":
            self._end_row()
            self.out.append("\n")
        elif tag in _BLOCK:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._emit(_SPACE_RE.sub(" ", data.replace("\n", " ")))

    def _end_cell(self) -> None:
        if self.cell is None:
            return
        text = "\n".join(line.strip() for line in "".join(self.cell).split("\n")).strip()
        self.cell = None
        if self.row is not None:
            self.row.append(text)
        else:
            self.out.append(text + " ")

    def _end_row(self) -> None:
        self._end_cell()
        if self.row is None:
            return
        cells = [c for c in self.row if c]
        self.row = None
        if len(cells) >= 2 and len(cells) % 2 == 0:
            pairs = (
                f"{cells[i].rstrip(':').rstrip()}: {cells[i + 1]}" for i in range(0, len(cells), 2)
            )
            self.out.append("\n" + "    ".join(pairs) + "\n")
        elif cells:
            self.out.append("\n" + "  ".join(cells) + "\n")

    def text(self) -> str:
        self._end_row()
        lines = (line.strip() for line in "".join(self.out).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# A `<` with another `<` (or the end) before any `>` opens no tag: HTMLParser would scan
# the rest of the text for its end at each one (quadratic), so it becomes text first. The
# look ahead stops at the next angle bracket, so the rewrite is linear.
_UNCLOSED_RE = re.compile(r"<(?=[^<>]*+(?:<|\Z))")
_TAG_RE = re.compile(r"<[^<>]*+>")
HTML_CHARS = 2_000_000  # converted; the fields sit at the top and the raw keeps the rest


def html_to_text(html: str) -> str:
    """Never raises: HTML the parser rejects (a broken `<![` section) is read with its tags
    stripped, which still leaves `Label: value` lines."""
    html = _UNCLOSED_RE.sub("&lt;", html[:HTML_CHARS])
    parser = _ToText()
    try:
        parser.feed(html)
        parser.close()
        return parser.text()
    except Exception:
        text = unescape(_TAG_RE.sub("\n", html))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(" ".join(x.split()) for x in text.split("\n"))).strip()
