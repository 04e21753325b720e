# ruff: noqa: RUF001, RUF002  (the look-alike table is made of ambiguous characters on purpose)
"""Case IDs that are not what they look like.

A reviewer tells cases apart by their ID. An ID holding an invisible character (zero-width
space, a bidi override), a control character, or letters from two scripts (a Cyrillic `А`
among Latin ones) can be drawn identical to another case's ID, so a decision could land on
the wrong case. `id_problems` names what is wrong with one ID; `lookalike_groups` finds open
cases whose IDs collapse to the same skeleton (NFKC, invisible characters dropped, then the
confusable letters and digits of UTS #39 folded to one representative), so both are flagged.

Pure and stdlib only: the table below is the part of the Unicode confusables data that
matters for IDs (Latin look-alikes in Cyrillic, Greek, Armenian and Cherokee, digit/letter
pairs, dashes); NFKC already folds the fullwidth and mathematical forms.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from uq.textsafe import is_unsafe, safe_line

_PAIRS = {
    # Cyrillic
    "а": "a", "в": "B", "е": "e", "к": "k", "м": "M", "н": "H", "о": "o", "р": "p", "с": "c", "т": "T",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    "ѵ": "v", "ɡ": "g", "ү": "y", "ҽ": "e", "ԍ": "G",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "Ѕ": "S", "І": "l", "Ј": "J", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "l",
    "З": "3", "з": "3", "б": "6", "Ь": "b", "ь": "b",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "l", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "α": "a",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ϲ": "c", "Ϲ": "C", "ϳ": "j",
    # Armenian, Cherokee (a few that match Latin capitals and digits)
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "Տ": "S", "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E",
    "Ꮋ": "H", "Ꭻ": "J", "Ꮶ": "K", "Ꮇ": "M", "Ꮲ": "P", "Ꭲ": "T", "Ꮃ": "W", "Ꮓ": "Z",
    # digits and letters that look alike in most terminal fonts
    "0": "O", "1": "l", "I": "l", "|": "l", "ǀ": "l",
    # dashes, minus signs and hyphens
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "﹘": "-", "﹣": "-", "－": "-",
    "˗": "-", "⁃": "-",
}  # fmt: skip
_FOLD = str.maketrans(_PAIRS)

_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "HEBREW", "ARABIC", "CJK", "HANGUL")


def _script(ch: str) -> str | None:
    """The script of a letter, by its Unicode name (None for digits, punctuation, marks)."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for script in _SCRIPTS:
        if name.startswith(script):
            return script
    return name.split(" ", 1)[0] or None


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp", "Cs", "Mn") or ch in "\u3164\u115f\u1160\uffa0"


def show_id(case_id: str) -> str:
    """A case ID for display with its tricks visible: controls and invisible characters as
    `safe_line` shows them, and each non-Latin letter that looks Latin marked with its
    script (`U⟨cyrillic М⟩-2024`), so two look-alike IDs never draw the same."""
    if case_id.isascii() and case_id.isprintable():
        return case_id
    out: list[str] = []
    for ch in case_id:
        if ch in _PAIRS and not ch.isascii() and (script := _script(ch)):
            out.append(f"⟨{script.lower()} {ch}⟩")
        elif _invisible(ch) and not is_unsafe(ch):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(safe_line(ch))
    return "".join(out)


def id_problems(case_id: str) -> list[str]:
    """What makes this case ID unsafe to tell apart by eye ([] for an ordinary ID)."""
    if case_id.isascii() and case_id.isprintable() and case_id == case_id.strip():
        return []
    problems: list[str] = []
    if is_unsafe(case_id) or any(_invisible(c) for c in case_id):
        problems.append(f"case ID holds invisible or control characters: {show_id(case_id)}")
    if case_id != case_id.strip() or any(c.isspace() and c != " " for c in case_id):
        problems.append(f"case ID holds unusual spaces: “{show_id(case_id)}”")
    scripts = {s for s in map(_script, case_id) if s}
    if len(scripts) > 1:
        problems.append(f"case ID mixes scripts ({', '.join(sorted(scripts)).lower()}): {show_id(case_id)}")
    elif scripts and scripts != {"LATIN"} and case_id.translate(_FOLD) != case_id:
        problems.append(f"case ID is written in {scripts.pop().lower()} letters that look Latin: {show_id(case_id)}")
    return problems


def skeleton(case_id: str) -> str:
    """The ID as it looks: two IDs with the same skeleton are drawn (nearly) the same."""
    text = unicodedata.normalize("NFKC", case_id)
    if not text.isascii():
        text = "".join(c for c in text if not _invisible(c))
        text = unicodedata.normalize("NFKC", text.translate(_FOLD))
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    else:
        text = text.translate(_FOLD)
    return " ".join(text.split())


def lookalike_groups(cases: Iterable[tuple[int, str]]) -> dict[int, list[tuple[int, str]]]:
    """{pk: the other (pk, case ID) pairs that look the same} for every case that has a
    distinct-but-identical-looking twin among `cases` (same exact ID is one case's thread,
    not a look-alike)."""
    by_skel: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, case_id in cases:
        by_skel[skeleton(case_id)].append((pk, case_id))
    out: dict[int, list[tuple[int, str]]] = {}
    for group in by_skel.values():
        if len(group) < 2 or len({cid for _, cid in group}) < 2:
            continue
        for pk, cid in group:
            others = [(p, c) for p, c in group if c != cid]
            if others:
                out[pk] = others
    return out


def lookalike_problem(others: list[tuple[int, str]]) -> str:
    shown = ", ".join(f"{show_id(cid)} (#{pk})" for pk, cid in others[:3])
    return f"case ID looks like another open case: {shown}"
