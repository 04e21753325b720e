"""Labeled-field extraction from the plain text of a case email.

Senders use `Label: value` templates with many spellings per field, several fields on one
line, and multi-line sections. Short aliases ("Plan", "Review", "RN") also occur in prose,
so a label only counts at line start (or after 2+ spaces / a tab on a label line) and only
when a ':' follows it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": ("Case ID", "Case #", "Case No", "Case Number", "Reference", "Ref", "Review ID",
                "Auth #", "Authorization Number"),
    "review_type": ("Review Type", "Type of Review", "Review"),
    "urgency": ("Urgency", "Priority", "Timeframe", "Expedited"),
    "review_level": ("Review Level", "Level of Review", "Appeal Level"),
    "received_at": ("Received", "Date Received", "Request Received", "Received Date"),
    "due_at": ("Due", "Due By", "Decision Due", "Response Due", "Return By", "TAT Due"),
    "client": ("Client", "Health Plan", "Plan", "Payer", "Line of Business", "LOB"),
    "member_name": ("Member", "Patient", "Member Name", "Patient Name", "Claimant"),
    "member_dob": ("DOB", "Date of Birth"),
    "member_id": ("Member ID", "Subscriber ID", "ID #"),
    "requesting_provider": ("Requesting Provider", "Ordering Provider", "Attending",
                            "Treating Provider", "Requesting Physician"),
    "provider_phone": ("Phone", "Provider Phone", "Callback", "Contact Phone", "Office Phone"),
    "provider_npi": ("NPI",),
    "facility": ("Facility", "Servicing Facility", "Servicing Provider", "Site of Service"),
    "diagnosis": ("Diagnosis", "Dx", "ICD-10", "Diagnosis Code(s)"),
    "service": ("Requested Service", "Service Requested", "Procedure", "CPT", "HCPCS", "Service"),
    "dates_of_service": ("Dates of Service", "DOS", "Admit Date", "Service Date"),
    "guideline": ("Guideline", "Criteria", "Criteria Used", "MCG", "InterQual", "Policy"),
    "criteria_met": ("Criteria Met",),
    "criteria_not_met": ("Criteria Not Met", "Criteria Unmet"),
    "clinical_summary": ("Clinical Summary", "Clinical Information", "Clinical", "History",
                         "Summary"),
    "nurse_assessment": ("Nurse Assessment", "RN Assessment", "Assessment", "Nurse Review"),
    "nurse_recommendation": ("Nurse Recommendation", "RN Recommendation", "Recommendation",
                             "Preliminary Recommendation"),
    "nurse_name": ("Nurse Reviewer", "RN", "Reviewed By", "Nurse", "Case Manager"),
    "question": ("Question for Physician", "Physician Question", "Question"),
}

# Sections may hold blank-line separated paragraphs; other fields end at a blank line.
SECTION_FIELDS = frozenset(
    {"criteria_met", "criteria_not_met", "clinical_summary", "nurse_assessment"}
)

# Aliases common enough in prose that, inside a section, a repeat of an already-found
# field is more likely a sentence ("Plan: continue PT") than a new label.
_PROSE_PRONE = frozenset(
    {"plan", "review", "ref", "rn", "service", "summary", "clinical", "history", "assessment",
     "policy", "criteria", "phone", "nurse", "due", "received", "patient", "member", "dx"}
)

# Codes named by the label itself: "CPT: 72148" means "CPT 72148".
_KEEP_LABEL_PREFIX = frozenset({"cpt", "hcpcs", "mcg", "interqual", "icd-10"})

# Every pattern below runs on untrusted lines, so each is linear: possessive quantifiers
# (no backtracking into a run), bounded label words, and a whitespace run is tried once,
# from its start. Labels are looked for in the first MATCH_CHARS of a line only.
MATCH_CHARS = 4096
_CHARS = r"[A-Za-z0-9/().&'#*-]"
_LABEL = rf"(?P<label>[A-Za-z]{_CHARS}{{0,60}}+(?: {_CHARS}{{1,60}}+){{0,5}}+)"
_START_RE = re.compile(rf"^[ \t]*+[#*>]*+[ \t]*+{_LABEL}[ \t*#]*+:(?!//)[ \t*]*+")
_MID_RE = re.compile(rf"(?<![ \t])(?:[ \t]{{2,}}+|\t)[#*]*+{_LABEL}[ \t*#]*+:(?!//)[ \t*]*+")
_NORM_RE = re.compile(r"[\s#*:]+")
_SIG_RE = re.compile(r"^-- ?$")


def norm_label(label: str) -> str:
    """Canonical key for a label: lower case, `#`/`*`/`:` decorations and extra spaces gone."""
    return _NORM_RE.sub(" ", label).strip().lower()


@dataclass(frozen=True, slots=True)
class LabelTable:
    """Normalised alias -> field, built once per (config, sender)."""

    by_alias: Mapping[str, str]

    def field_for(self, label: str) -> str | None:
        return self.by_alias.get(norm_label(label))


_DEFAULT: dict[str, str] = {
    norm_label(a): f for f, aliases in FIELD_ALIASES.items() for a in aliases
}


def build_table(extra: Iterable[Mapping[str, Iterable[str]]] = ()) -> LabelTable:
    """Merge configured aliases over the built-in ones; unknown field names are ignored."""
    table = dict(_DEFAULT)
    for mapping in extra:
        for field_name, aliases in mapping.items():
            if field_name not in FIELD_ALIASES:
                continue
            for alias in aliases:
                key = norm_label(str(alias))
                if key:
                    table[key] = field_name
    return LabelTable(table)


DEFAULT_TABLE = LabelTable(_DEFAULT)


@dataclass(slots=True)
class Found:
    """One labeled value: the alias used (normalised) and the raw value lines."""

    field: str
    alias: str
    lines: list[str]

    def value(self) -> str:
        if self.field in SECTION_FIELDS:
            return "\n".join(line.rstrip() for line in self.lines).strip("\n").strip()
        return _strip_deco(" ".join(s for s in (x.strip() for x in self.lines) if s))


def _strip_deco(text: str) -> str:
    return text.strip().strip("*").strip()


def _split_label_line(line: str, table: LabelTable) -> list[tuple[str, str, str]] | None:
    """(field, alias, value) for each label on a label line, or None for a prose line."""
    head = line[:MATCH_CHARS]
    m = _START_RE.match(head)
    if m is None:
        return None
    field_name = table.field_for(m.group("label"))
    if field_name is None:
        return None
    out: list[tuple[str, str, str]] = []
    cur_field, cur_alias, start = field_name, norm_label(m.group("label")), m.end()
    pos = start
    while True:
        mid = _MID_RE.search(head, pos)
        if mid is None:
            break
        mid_field = table.field_for(mid.group("label"))
        if mid_field is None:
            pos = mid.start() + 1
            continue
        out.append((cur_field, cur_alias, line[start : mid.start()]))
        cur_field, cur_alias, start = mid_field, norm_label(mid.group("label")), mid.end()
        pos = start
    out.append((cur_field, cur_alias, line[start:]))
    return out


def extract(text: str, table: LabelTable = DEFAULT_TABLE, *, max_lines: int = 5000) -> dict[str, Found]:
    """First occurrence of each field wins; quoted reply text and signatures are skipped.
    Only the first `max_lines` lines are read: fields sit at the top of a packet."""
    found: dict[str, Found] = {}
    current: Found | None = None
    blank_seen = False
    for raw_line in itertools.islice(_lines(text), max_lines):
        line = raw_line.rstrip()
        stripped = line.strip()
        if stripped.startswith(">"):
            continue  # quoted reply text belongs to the earlier message
        if _SIG_RE.match(line):
            break  # a signature holds no case fields, only names and phones that mislead
        if not stripped:
            blank_seen = True
            if current is not None and current.field not in SECTION_FIELDS:
                current = None
            elif current is not None:
                current.lines.append("")
            continue
        parts = _split_label_line(line, table)
        if parts is not None and current is not None and current.field in SECTION_FIELDS:
            f0, alias0, _ = parts[0]
            if f0 in found and alias0 in _PROSE_PRONE and not blank_seen:
                parts = None  # "Plan: continue PT" inside a clinical summary
        blank_seen = False
        if parts is None:
            if current is not None and (current.field in SECTION_FIELDS or not current.lines
                                        or line[:1] in (" ", "\t")):
                current.lines.append(line)
            else:
                current = None  # prose after a one-line field is not part of its value
            continue
        current = None
        for field_name, alias, value in parts:
            if field_name in found:
                current = None
                continue
            item = Found(field_name, alias, [value] if value.strip() else [])
            found[field_name] = item
            current = item
    for item in found.values():
        while item.lines and not item.lines[-1].strip():
            item.lines.pop()
    return found


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, split lazily: a 10 MB body is not copied into a list to read
    its first lines."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def keeps_label_prefix(alias: str) -> bool:
    return alias in _KEEP_LABEL_PREFIX
