"""Text from a case made safe to put in front of a person: the one sanitiser for display.

Every byte of a case email comes from outside. A terminal acts on ESC/CSI/OSC/DCS
sequences, C1 controls (0x9b is a one-byte CSI), BEL, backspace and a bare CR; bidi
overrides and zero-width characters make two different strings look the same. So every
place where case text becomes terminal output (CLI printers, TUI widgets, notifications)
passes it through `safe_line` or `safe_block`, which turn each such character into a
visible placeholder instead of letting it act:

- C0 controls become the Unicode control pictures (ESC -> U+241B, BEL -> U+2407, ...),
  DEL becomes U+2421, a C1 control becomes the four characters `\\x9b`;
- format characters (bidi embeddings/overrides/isolates, zero-width space/joiners, BOM,
  soft hyphen, tags...) become a named mark such as `⟨RLO⟩`, `⟨ZWSP⟩`;
- line and paragraph separators and lone surrogates (undecodable bytes) become visible too;
- tabs are expanded to spaces; in a single line a newline becomes U+2424.

The functions return their argument unchanged (the same object) when it holds nothing to
replace, so the common clean case costs one regex scan and no copy. Pure: stdlib only, so
the CLI, the services and the TUI can all import it.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["MARKS", "clip", "csv_cell", "is_unsafe", "safe_block", "safe_line", "safe_mail_header", "safe_mail_text"]

TAB_SIZE = 8

# Named marks for the format characters a reader most needs to recognise.
MARKS: dict[str, str] = {
    "\u00ad": "SHY",
    "\u061c": "ALM",
    "\u180e": "MVS",
    "\u200b": "ZWSP",
    "\u200c": "ZWNJ",
    "\u200d": "ZWJ",
    "\u200e": "LRM",
    "\u200f": "RLM",
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2060": "WJ",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
    "\ufeff": "BOM",
    "\u2028": "LS",
    "\u2029": "PS",
    "\u3164": "HF",  # Hangul fillers: letters that draw as nothing
    "\u115f": "HF",
    "\u1160": "HF",
    "\uffa0": "HF",
    "\u034f": "CGJ",
}

# Unicode category Cf (format) as ranges, plus the invisible letters and separators above.
_CF_RANGES = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_EXTRA = "\u2028\u2029\u3164\u115f\u1160\uffa0\u034f"
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # every C0 but TAB and LF, DEL, every C1
_SURROGATES = "\ud800-\udfff"

_UNSAFE_BLOCK = re.compile(f"[{_CONTROLS}{_CF_RANGES}{_EXTRA}{_SURROGATES}]")
_UNSAFE_LINE = re.compile(f"[\t\n{_CONTROLS}{_CF_RANGES}{_EXTRA}{_SURROGATES}]")
_ANY_UNSAFE = re.compile(f"[\t{_CONTROLS}{_CF_RANGES}{_EXTRA}{_SURROGATES}]")


@lru_cache(maxsize=512)
def placeholder(ch: str) -> str:
    """What one unsafe character is shown as."""
    code = ord(ch)
    if code == 0x1B:
        return "\u241b"  # ␛
    if code < 0x20:
        return chr(0x2400 + code)  # ␀..␟ (␇ BEL, ␈ BS, ␍ CR, ␊ LF)
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # an undecodable byte (surrogateescape)
    name = MARKS.get(ch)
    if name is None:
        name = f"U+{code:04X}"
    return f"⟨{name}⟩"


def _sub(match: re.Match[str]) -> str:
    return placeholder(match.group())


_SAFE_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n"
_CHUNK = 1 << 18


def _dirty(text: str, pattern: re.Pattern[str], safe: bytes = _SAFE_BYTES) -> bool:
    """Whether `pattern` would find anything, at memory speed: printable ASCII bytes are
    deleted first (bytes.translate), and the regex only scans what is left, which for
    ordinary mail is nothing or a few accented letters."""
    rest = text.encode("utf-8", "surrogatepass").translate(None, safe)
    return bool(rest) and pattern.search(rest.decode("utf-8", "surrogatepass")) is not None


def is_unsafe(text: str) -> bool:
    """True when the text holds anything `safe_line` would replace (newlines aside)."""
    return _ANY_UNSAFE.search(text) is not None


def safe_block(text: str, *, tab_size: int = TAB_SIZE) -> str:
    """Multi-line text for display: line breaks kept (CRLF and CR-LF pairs become LF; a
    lone CR is shown, so it cannot overwrite the start of its line), tabs expanded."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "\t" in text:
        text = text.expandtabs(tab_size)
    if len(text) <= _CHUNK:
        return _UNSAFE_BLOCK.sub(_sub, text) if _UNSAFE_BLOCK.search(text) else text
    if not _dirty(text, _UNSAFE_BLOCK):
        return text
    # a big dirty text: only the dirty chunks (cut at line ends) go through the regex
    out: list[str] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + _CHUNK)
        end = len(text) if end < 0 else end + 1
        chunk = text[start:end]
        out.append(_UNSAFE_BLOCK.sub(_sub, chunk) if _dirty(chunk, _UNSAFE_BLOCK) else chunk)
        start = end
    return "".join(out)


class SafeLines(list[str]):
    """Lines already made safe by `safe_lines`: a widget may draw them as they are."""


def safe_lines(text: str, max_line: int) -> SafeLines:
    """A whole text (a raw email) as display lines: sanitised, split, each line longer
    than `max_line` cut with a marker. Meant for a worker thread: it is the O(size) part."""
    if "\t" in text:
        text = text.expandtabs(TAB_SIZE)
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\r") == text.count("\n") and not _dirty(text, _UNSAFE_BLOCK, _SAFE_BYTES + b"\r"):
        lines = text.split("\r\n")  # a clean CRLF text (mail as stored): one pass, no copy first
    else:
        lines = safe_block(text).split("\n")
    if max(map(len, lines)) <= max_line:
        return SafeLines(lines)
    return SafeLines(clip(line, max_line) if len(line) > max_line else line for line in lines)


def safe_line(text: str, *, tab_size: int = TAB_SIZE) -> str:
    """One line for display (a table cell, a title, a notification): as `safe_block`, and
    a line break is shown as U+2424 instead of starting a new line."""
    if _UNSAFE_LINE.search(text) is None:
        return text
    if "\t" in text:
        text = text.expandtabs(tab_size)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _UNSAFE_LINE.sub(lambda m: "\u2424" if m.group() == "\n" else placeholder(m.group()), text)


def clip(line: str, limit: int) -> str:
    """Cut a very long line for display, saying how much was left out."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]}… [{len(line) - limit:,} more characters]"


# ------------------------------------------------------------------ outgoing mail


def safe_mail_text(text: str) -> str:
    """Case text copied into a reply body: the same placeholders (the nurse sees that
    something was there, nothing acts), valid UTF-8 guaranteed."""
    return safe_block(text)


def safe_mail_header(text: str) -> str:
    """Case text copied into a reply header: one line, whitespace runs collapsed, no
    control or format character; the mail library folds it."""
    return " ".join(safe_line(text).replace("\u2424", " ").split())


# ------------------------------------------------------------------ exports

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A spreadsheet cell that cannot run: text starting with = + - @ TAB or CR gets a
    leading apostrophe (the OWASP rule), and controls are shown, not kept. Numbers pass
    through as numbers."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return safe_line(value)
