"""Free-text values into the domain's small vocabularies.

Senders write "Prospective (pre-service)", "EXPEDITED", "Deny - not yet tried 6 weeks";
the queue needs an enum plus whatever explanation followed it.
"""

from __future__ import annotations

import re

from uq.domain import NurseRecommendation, ReviewLevel, ReviewType, Urgency

_REVIEW_TYPES: tuple[tuple[re.Pattern[str], ReviewType], ...] = (
    (re.compile(r"\bretro(?:spective)?\b|\bpost[- ]?service\b", re.I), ReviewType.RETROSPECTIVE),
    (re.compile(r"\bconcurrent\b|\bcontinued[- ]stay\b", re.I), ReviewType.CONCURRENT),
    (re.compile(r"\bprospective\b|\bpre[- ]?service\b|\bprior[- ]?auth(?:orization)?\b"
                r"|\bpre[- ]?(?:auth|cert)", re.I), ReviewType.PROSPECTIVE),
)

_STANDARD_RE = re.compile(r"\bstandard\b|\broutine\b|\bnon[- ]?urgent\b|\bnot urgent\b", re.I)
# An urgent word that is not negated ("non-urgent", "not urgent", "not expedited").
_URGENT_RE = re.compile(r"(?<!non-)(?<!non )(?<!not )\b(?:expedited|urgent|stat|rush)\b", re.I)
_LEVELS: tuple[tuple[re.Pattern[str], ReviewLevel], ...] = (
    (re.compile(r"\b(?:second|2nd|level[- ]?(?:2|ii|two))\b.*\bappeal|\bappeal\b.*(?:\b2\b|\bii\b|second|2nd)",
                re.I), ReviewLevel.APPEAL_2),
    (re.compile(r"\bappeal", re.I), ReviewLevel.APPEAL_1),
    (re.compile(r"\breconsideration\b|\bredetermination\b", re.I), ReviewLevel.RECONSIDERATION),
    (re.compile(r"\binitial\b|\boriginal\b|\bfirst[- ]level\b|\blevel[- ]?(?:1|i|one)\b", re.I), ReviewLevel.INITIAL),
)
_YES_RE = re.compile(r"^(?:y|yes|true|x)\b", re.I)
_NO_RE = re.compile(r"^(?:n|no|false)\b", re.I)

_OUTCOME_RE = re.compile(
    r"\b(?P<partial>partial(?:ly)?(?:[- ]approv\w*)?|modif(?:y|ied|ication))\b"
    r"|\b(?P<deny>den(?:y|ied|ial)|not[- ]certif\w*|non[- ]?cert\w*|adverse)\b"
    r"|\b(?P<approve>approv\w*|certif(?:y|ied)|meets criteria)\b"
    r"|\b(?P<pend>pend(?:ed|ing)?|hold)\b",
    re.I,
)
# The other outcome opening a later clause ("approve 1 day, deny day 5"; "approved x3 days;
# denied day 4"), not history inside a clause ("6 visits approved last month").
_CLAUSE = r"(?:[,;/+]|\band\b|\bbut\b|\s[-\u2013\u2014])\s*(?:then\s+)?"
_MIXED_RE = {
    "approve": re.compile(_CLAUSE + r"den(?:y|ied)\b", re.I),
    "deny": re.compile(_CLAUSE + r"approv(?:e|ed)\b", re.I),
}
_LEAD_RE = re.compile(r"^[\s\-\u2013\u2014:;,.()/]+")


def review_type(text: str) -> ReviewType:
    for pattern, kind in _REVIEW_TYPES:
        if pattern.search(text):
            return kind
    return ReviewType.UNKNOWN


def urgency(text: str, *, flag_label: bool = False) -> Urgency:
    """flag_label: the label was "Expedited", so the value may be a bare yes/no."""
    if flag_label:
        if _YES_RE.match(text.strip()):
            return Urgency.URGENT
        if _NO_RE.match(text.strip()):
            return Urgency.STANDARD
    # Any urgent mention wins ("Urgent - upgraded from standard"): the earlier clock is safe.
    if _URGENT_RE.search(text):
        return Urgency.URGENT
    if _STANDARD_RE.search(text):
        return Urgency.STANDARD
    return Urgency.UNKNOWN


def review_level(text: str, *, appeal_label: bool = False) -> ReviewLevel:
    """"Appeal (level 2)", "Second-level appeal", "Reconsideration", "Initial";
    appeal_label: the label was "Appeal Level", so a bare 1 or 2 names the appeal."""
    bare = text.strip().strip(".").lower()
    if appeal_label and bare in ("1", "i", "2", "ii"):
        return ReviewLevel.APPEAL_1 if bare in ("1", "i") else ReviewLevel.APPEAL_2
    for pattern, level in _LEVELS:
        if pattern.search(text):
            return level
    return ReviewLevel.UNKNOWN


def recommendation(text: str) -> tuple[NurseRecommendation, str | None]:
    """The outcome named first (a "partial" anywhere before the reason wins, and approve
    plus deny of different parts reads as partial), and the reason."""
    m = _OUTCOME_RE.search(text)
    if m is None:
        return NurseRecommendation.UNKNOWN, text.strip() or None
    kind = m.lastgroup or ""
    head_end = m.end()
    # "Approve partially", "Partial approval": swallow adjacent outcome words as one phrase.
    while True:
        gap = text[head_end : head_end + 1]
        nxt = _OUTCOME_RE.match(text, head_end + 1) if gap and gap in " -" else None
        if nxt is None:
            break
        if nxt.lastgroup == "partial":
            kind = "partial"
        head_end = nxt.end()
    mixed = _MIXED_RE.get(kind)
    if mixed is not None and mixed.search(text, head_end):
        # approves one part and denies another: a partial, and the whole text is its reason
        return NurseRecommendation.PARTIAL, text.strip()
    outcome = {
        "partial": NurseRecommendation.PARTIAL,
        "deny": NurseRecommendation.DENY,
        "approve": NurseRecommendation.APPROVE,
        "pend": NurseRecommendation.PEND,
    }.get(kind, NurseRecommendation.UNKNOWN)
    rest = _LEAD_RE.sub("", text[head_end:]).strip()
    return outcome, rest or None
