"""What a reply may say, from what uq recorded: the attestation, agreement, licence and
call-back sentences, and the facts they rest on (the parts of the case the reviewer opened,
the case's specialty and state).

Pure: no IO. A reply goes out in the physician's name, so each sentence is built only from
a fact that holds: "I reviewed all the records" only when every part was opened (or the
reviewer confirmed it), "same or similar specialty" only when the case's specialty is
known and matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from uq.config import ReviewerConfig
from uq.domain import CaseFields, DeclineReason, NurseRecommendation, Outcome, ReplyContent

# ------------------------------------------------------------------ what was opened


@dataclass(frozen=True)
class ReviewFacts:
    """What the reviewer opened of one case, from the audit trail."""

    packet_opened: bool
    attachments: int = 0
    attachments_opened: int = 0
    messages: int = 0  # follow-up messages in the thread (the first message is the packet)
    messages_opened: int = 0

    @property
    def every_part_opened(self) -> bool:
        return (
            self.packet_opened and self.attachments_opened >= self.attachments and self.messages_opened >= self.messages
        )

    def unopened(self) -> str:
        """What is still unopened, for the reviewer: "1 of 1 attachments, 1 of 2 messages"."""
        parts = []
        if self.attachments_opened < self.attachments:
            parts.append(f"{self.attachments - self.attachments_opened} of {self.attachments} attachments")
        if self.messages_opened < self.messages:
            parts.append(f"{self.messages - self.messages_opened} of {self.messages} follow-up messages")
        return ", ".join(parts)


# ------------------------------------------------------------------ criteria in the packet


_BULLET_RE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s*")


def packet_criteria(fields: CaseFields) -> list[tuple[str, bool]]:
    """The packet's criteria, one per line or bullet: (label, met)."""
    out: list[tuple[str, bool]] = []
    for text, met in ((fields.criteria_met, True), (fields.criteria_not_met, False)):
        for line in (text or "").splitlines():
            label = " ".join(_BULLET_RE.sub("", line).split())
            if label and label.lower() not in ("none", "n/a", "na", "-"):
                out.append((label, met))
    return out


def criterion_label(label: str, met: bool) -> str:
    return f"{'Met' if met else 'Not met'}: {label}"


# ------------------------------------------------------------------ specialty


_CREDENTIALS = frozenset(
    [
        "md",
        "do",
        "np",
        "pa",
        "pa-c",
        "rn",
        "aprn",
        "dnp",
        "phd",
        "mbbs",
        "facp",
        "facc",
        "faaos",
        "facs",
        "dds",
        "dpm",
        "od",
        "fnp",
        "crna",
    ]
)
_GENERIC = frozenset(
    ["surgery", "surgical", "medicine", "medical", "general", "and", "of", "the", "specialist", "specialty", "service"]
)
_PAREN_RE = re.compile(r"\(([^()]{3,60})\)")


def case_specialty(fields: CaseFields) -> str | None:
    """The requesting specialty where the packet names it: "Alan Smith, MD (Orthopedic
    Surgery)" or "Dr. Lee, Cardiology". None when it does not."""
    provider = (fields.requesting_provider or "").strip()
    if not provider:
        return None
    m = _PAREN_RE.search(provider)
    if m and not _is_credentials(m.group(1)):
        return " ".join(m.group(1).split())
    parts = [p.strip() for p in provider.split(",")]
    for part in reversed(parts[1:]):
        if part and not _is_credentials(part) and not any(ch.isdigit() for ch in part):
            return " ".join(part.split())
    return None


def _is_credentials(text: str) -> bool:
    words = [w for w in re.split(r"[\s,/]+", text.lower().replace(".", "")) if w]
    return bool(words) and all(w in _CREDENTIALS for w in words)


def _stems(specialty: str) -> frozenset[str]:
    text = specialty.lower().replace("ae", "e").replace("-", " ")
    words = [w for w in re.findall(r"[a-z]+", text) if w not in _GENERIC]
    return frozenset(w[:5] for w in words)


def specialty_match(reviewer: ReviewerConfig, case_spec: str | None) -> bool | None:
    """True when the case's specialty is the reviewer's or one of the similar ones; None
    when either is unknown."""
    mine = [s for s in (reviewer.specialty, *reviewer.similar_specialties) if s.strip()]
    if not case_spec or not mine:
        return None
    theirs = _stems(case_spec)
    for spec in mine:
        ours = _stems(spec)
        if (ours and theirs and ours & theirs) or " ".join(spec.lower().split()) == " ".join(case_spec.lower().split()):
            return True
    return False


# ------------------------------------------------------------------ licence


_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY", "district of columbia": "DC",
}  # fmt: skip
_CODES = frozenset(_STATES.values())
# "Springfield, IL 62701", "Austin, TX": a state code after a comma, maybe a ZIP after it
_ADDRESS_RE = re.compile(r",\s*([A-Z]{2})(?:\s+\d{5}(?:-\d{4})?)?\s*(?:$|[;)\n])")
_NAME_RE = re.compile(r"\b(" + "|".join(sorted(_STATES, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def case_state(fields: CaseFields) -> str | None:
    """The state where the service is given, when the packet's facility (else the
    requesting provider's line) names one."""
    for text in (fields.facility, fields.requesting_provider):
        if not text:
            continue
        m = _ADDRESS_RE.search(text)
        if m and m.group(1) in _CODES:
            return m.group(1)
        n = _NAME_RE.search(text)
        if n:
            return _STATES[n.group(1).lower()]
    return None


def licence_states(reviewer: ReviewerConfig) -> list[str]:
    return [s.strip().upper() for s in reviewer.license_states if s.strip()]


def licence_line(reviewer: ReviewerConfig) -> str:
    states = ", ".join(licence_states(reviewer)) or "state not configured"
    number = reviewer.license_number.strip() or "number not configured"
    return f"Licence: {states}; licence no. {number}"


def licence_mismatch(reviewer: ReviewerConfig, state: str | None) -> bool:
    return state is not None and state not in licence_states(reviewer)


# ------------------------------------------------------------------ guideline


_EDITION_RE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)\s+ed(?:ition|\.)?|\bed(?:ition|\.)?\s*\d{1,2}\b|\b(?:19|20)\d{2}\b|\bv(?:ersion)?\.?\s*\d",
    re.IGNORECASE,
)


def has_edition(guideline: str) -> bool:
    return bool(_EDITION_RE.search(guideline))


def guideline_with_edition(guideline: str) -> str:
    text = " ".join(guideline.split())
    if not text:
        return ""
    return text if has_edition(text) else f"{text} (edition not stated)"


# ------------------------------------------------------------------ sentences


_NURSE_LABEL = {
    NurseRecommendation.APPROVE: "approve",
    NurseRecommendation.DENY: "deny",
    NurseRecommendation.PARTIAL: "partial approval",
    NurseRecommendation.PEND: "pend for a call or information",
}
DEFAULT_ADVICE_STATEMENT = (
    "Where this reply comments on care, those are my remarks on the records submitted; "
    "treatment decisions remain with the treating provider and the member."
)


def agreement_sentence(outcome: Outcome, agrees: bool | None, nurse: NurseRecommendation) -> str:
    label = _NURSE_LABEL.get(nurse)
    if label is None:
        return "The case email did not state a preliminary nurse recommendation."
    if outcome is Outcome.DECLINE:
        return (
            "As I am declining this case, I neither agree nor disagree with the nurse's "
            f"preliminary recommendation ({label})."
        )
    if not outcome.is_determination:
        return f"No determination yet; the nurse's preliminary recommendation was: {label}."
    if agrees is None:
        return f"The nurse's preliminary recommendation was: {label}."
    verb = "agree" if agrees else "disagree"
    return f"I {verb} with the nurse's preliminary recommendation ({label})."


@dataclass(frozen=True)
class AttestationFacts:
    facts: ReviewFacts
    attest_reviewed: bool = False  # the reviewer confirmed reviewing every record
    specialty: str | None = None  # the case's, when the packet names it
    specialty_matches: bool | None = None
    state: str | None = None  # the case's, when the packet names it
    advice_statement: str | None = None  # set when a treatment-advice warning was confirmed


def attestation(
    outcome: Outcome, reason: DeclineReason | None, reviewer: ReviewerConfig, at: AttestationFacts
) -> list[str]:
    """The reviewer's attestation: each sentence only when what it says was recorded."""
    pay = "My compensation is not tied to the outcome of this review."
    specialty = reviewer.specialty
    if outcome is Outcome.DECLINE:
        if reason is DeclineReason.CONFLICT_OF_INTEREST:
            first = "I have a conflict of interest in this case and therefore did not review it."
        elif reason is DeclineReason.OUTSIDE_SPECIALTY:
            first = (
                "I have no conflict of interest in this case; it is outside my specialty"
                f"{' (' + specialty + ')' if specialty else ''}, so I did not review it."
            )
        else:
            first = "I have no conflict of interest in this case; I did not review it."
        return [first, "I made no coverage determination; please assign the case to another reviewer.", pay]
    lines = ["I have no conflict of interest in this case."]
    if at.facts.every_part_opened or at.attest_reviewed:
        lines.append("I reviewed all the records submitted with this case.")
    elif at.facts.packet_opened:
        lines.append("I reviewed the case packet.")
    if at.specialty_matches:
        spec = f" ({specialty})" if specialty else ""
        lines.append(
            f"I practise in the same or a similar specialty{spec} as the one that typically "
            "manages the condition or service under review."
        )
    states = licence_states(reviewer)
    if at.state is not None:
        if at.state in states:
            lines.append(f"I am licensed in {at.state}, the state named in the case.")
        else:
            held = ", ".join(states) or "no state on record"
            lines.append(f"I am not licensed in {at.state}, the state named in the case (licensed in: {held}).")
    if at.advice_statement is not None:
        lines.append(at.advice_statement.strip() or DEFAULT_ADVICE_STATEMENT)
    elif outcome is Outcome.CALL_NEEDED:
        lines.append(
            "This is a request for a peer-to-peer discussion, not yet a coverage determination, "
            "and not treatment advice."
        )
    elif outcome is Outcome.PEND:
        lines.append("This is a request for information, not yet a coverage determination, and not treatment advice.")
    else:
        lines.append(
            "This is a coverage determination, not treatment advice: treatment decisions "
            "remain with the treating provider and the member."
        )
    lines.append(pay)
    return lines


def call_back_line(outcome: Outcome, reviewer: ReviewerConfig) -> str:
    """A denial (or a partial, which denies a part) tells the provider how to reach the
    reviewer to discuss it."""
    if outcome not in (Outcome.DENY, Outcome.PARTIAL):
        return ""
    phone, mail = reviewer.phone.strip(), reviewer.email.strip()
    if phone and mail:
        return f"To discuss this determination, call {phone} or email {mail}."
    if phone or mail:
        return f"To discuss this determination, {'call ' + phone if phone else 'email ' + mail}."
    return ""


def build_content(
    *,
    outcome: Outcome,
    agrees: bool | None,
    nurse: NurseRecommendation,
    decline_reason: DeclineReason | None,
    guideline: str,
    reviewer: ReviewerConfig,
    at: AttestationFacts,
) -> ReplyContent:
    return ReplyContent(
        agreement=agreement_sentence(outcome, agrees, nurse),
        attestation=tuple(attestation(outcome, decline_reason, reviewer, at)),
        licence=licence_line(reviewer),
        call_back=call_back_line(outcome, reviewer),
        guideline=guideline_with_edition(guideline),
    )


def criteria_from(typed: Sequence[str]) -> tuple[str, ...]:
    """Criteria as the reviewer gave them, one line each, without repeats."""
    out: list[str] = []
    for c in typed:
        line = " ".join(c.split())
        if line and line not in out:
            out.append(line)
    return tuple(out)
