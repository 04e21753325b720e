"""The compat32 message tree of a well-formed email, without the stdlib's line splitting.

`email.message_from_bytes` feeds every body line through its feed parser, so a 150 KB
base64 PDF costs ~2,000 line objects and a regex scan per line; that is most of the parse
time of a case email (PERF_NOTES.md). Here part boundaries are found with `bytes.find` on
the raw message, each part's header block goes through the stdlib header parser, and each
leaf's body is one slice. The result is the tree the stdlib would build (same headers, same
payload strings, same structure), so everything downstream reads it the same way.

Anything this walker is not sure about -- lone CRs where lines matter, nested message/*, multipart/digest, a
missing or repeated boundary, a header block without a blank line, depth over 20 -- returns
None, and the caller falls back to the stdlib parse: behaviour stays identical, only the
common case is fast.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from itertools import pairwise

_HEADER_PARSER = BytesHeaderParser(policy=compat32)
# The feed parser's boundary test on the rest of a line after "--boundary" (its
# boundaryendRE with `$`); lines here end in LF, since a lone CR near a boundary line or in
# a header block sends the message to the fallback. Elsewhere a lone CR only splits a
# body line, which the stdlib joins back.
_BOUNDARY_END_RE = re.compile(rb"(--)?[ \t]*(?:\r?\n)?")
_MAX_DEPTH = 20


def _headers(raw: bytes, start: int, end: int) -> tuple[Message, int] | None:
    """The header block at `start` (up to its blank line) parsed; and where the body starts."""
    if raw.startswith((b"\n", b"\r\n"), start):
        blank = start
    else:
        # Search the blank line of the style the first line uses, then the other one only
        # before it: an LF-only search through a CRLF message would scan the whole body.
        first_nl = raw.find(b"\n", start, end)
        crlf_first = first_nl > start and raw[first_nl - 1] == 0x0D
        pats = (b"\n\r\n", b"\n\n") if crlf_first else (b"\n\n", b"\n\r\n")
        found = raw.find(pats[0], start, end)
        other = raw.find(pats[1], start, found if found >= 0 else end)
        if other >= 0:
            found = other
        if found < 0:
            return None  # headers running into a boundary or EOF: let the stdlib decide
        blank = found + 1
    body = raw.find(b"\n", blank, end) + 1
    if body <= 0:
        return None
    block = raw[start:body]
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        return None  # a lone CR is a line end (maybe a blank line) to the stdlib
    msg = _HEADER_PARSER.parsebytes(block)
    # A line that is neither a header nor blank ends the stdlib's header block early and
    # lands in the payload of a headers-only parse: a different split, so fall back.
    if msg.get_payload() != "":
        return None
    return msg, body


def _leaf_payload(raw: bytes, start: int, end: int, *, strip_eol: bool) -> str:
    """The body as the stdlib stores it; the EOL before a boundary belongs to the boundary."""
    if strip_eol and end > start and raw[end - 1] == 0x0A:
        end -= 2 if end - 1 > start and raw[end - 2] == 0x0D else 1
    return raw[start:end].decode("ascii", "surrogateescape")


def _boundary_lines(raw: bytes, sep: bytes, start: int, end: int) -> list[tuple[int, int, bool]] | None:
    """(line start, next line start, is close) of every boundary line in [start, end)."""
    out: list[tuple[int, int, bool]] = []
    pos = start
    while True:
        at = raw.find(sep, pos, end)
        if at < 0:
            return out
        pos = at + 1
        if at != start and raw[at - 1] != 0x0A:
            if raw[at - 1] == 0x0D:
                return None  # after a lone CR: a line start to the stdlib
            continue
        nl = raw.find(b"\n", at, end)
        line_end = end if nl < 0 else nl + 1
        cr = raw.find(b"\r", at, line_end)
        if cr >= 0 and cr != line_end - 2:
            return None  # a lone CR ends the line early for the stdlib
        m = _BOUNDARY_END_RE.fullmatch(raw, at + len(sep), line_end)
        if m is None:
            continue
        out.append((at, line_end, m.group(1) is not None))
        if m.group(1) is not None:
            return out
        pos = line_end


def _part(raw: bytes, start: int, end: int, depth: int, *, top: bool) -> Message | None:
    if depth > _MAX_DEPTH:
        return None
    parsed = _headers(raw, start, end)
    if parsed is None:
        return None
    msg, body = parsed
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        msg.set_payload(_leaf_payload(raw, body, end, strip_eol=not top))
        return msg
    if msg.get_content_subtype() == "digest":
        return None  # its parts default to message/rfc822
    boundary = msg.get_boundary()
    if boundary is None:
        return None
    try:
        sep = ("--" + boundary).encode("ascii")
    except UnicodeEncodeError:
        return None
    lines = _boundary_lines(raw, sep, body, end)
    if not lines or lines[0][2] or not lines[-1][2]:
        return None  # no start boundary, or no close boundary
    children: list[Message] = []
    for (_, part_start, _), (next_at, _, _) in pairwise(lines):
        if part_start == next_at:
            return None  # repeated boundary lines: the stdlib merges them
        child = _part(raw, part_start, next_at, depth + 1, top=False)
        if child is None:
            return None
        children.append(child)
    msg.set_payload(list[Message | str](children))  # what the stdlib's attach() calls build
    return msg


def split_message(raw: bytes) -> Message | None:
    """The stdlib's compat32 tree for `raw`, or None when the stdlib must parse it itself."""
    try:
        return _part(raw, 0, len(raw), 0, top=True)
    except (LookupError, ValueError, TypeError):
        return None
