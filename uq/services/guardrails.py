"""Rules a decision must pass before it is saved, and the nurse-agreement fact.

Pure functions, no IO: the CLI, the TUI and the review service all call the same code, so
a denial that the CLI refuses is refused in the TUI too. Refusals raise GuardrailError
(one line, never echoing the rationale back: it may hold PHI). Text that reads as
treatment advice is not refused but returned as warnings, because a human must judge it:
the caller asks for confirmation (CLI --force) or raises GuardrailWarning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from uq.domain import Case, Decision, DeclineReason, NurseRecommendation, Outcome
from uq.errors import GuardrailError

MIN_RATIONALE_WORDS = 8
MIN_SUBSTANTIVE_WORDS = 3

# ------------------------------------------------------------------ boilerplate


def _words(text: str) -> list[str]:
    return text.split()


# Phrases that say nothing about this patient. Matched on normalised text (lower case,
# punctuation turned to spaces, whitespace collapsed), so "Doesn't meet MCG/InterQual."
# becomes "doesn t meet mcg interqual".
_BOILERPLATE_PHRASES = (
    r"(?:does|do|did)\s+not\s+meets?",
    r"(?:doesn t|doesnt|didn t|didnt|don t)\s+meets?",
    r"fails?\s+to\s+meet",
    r"failed\s+to\s+meet",
    r"not\s+meeting",
    r"criteria\s+(?:not|were\s+not|are\s+not|was\s+not|is\s+not)\s+met",
    r"(?:not\s+)?medically\s+(?:necessary|indicated|appropriate)",
    r"not\s+(?:clinically\s+)?(?:indicated|appropriate|supported|justified|warranted)",
    r"no\s+medical\s+necessity",
    r"(?:as|see)\s+(?:noted\s+|stated\s+|per\s+)?(?:above|below|nurse\s+review|nurse\s+notes?|notes?|attached|rn\s+review)",
    r"per\s+(?:the\s+)?(?:guidelines?|criteria|policy|mcg|interqual|nurse|rn|review)",
    r"(?:i\s+)?agree\s+with\s+(?:the\s+)?(?:nurse|rn|reviewer|assessment|recommendation)",
    r"insufficient\s+(?:documentation|information|clinical\s+information|records?)",
    r"not\s+(?:covered|approved|supported)",
    r"at\s+this\s+time",
    r"n\s+a",
)
_BOILERPLATE_RE = re.compile(r"\b(?:" + "|".join(_BOILERPLATE_PHRASES) + r")\b")

# Words that carry no patient-specific content on their own.
_FILLER = frozenset(
    _words(
        "a an the and or but as is are was were be been this that these those it its of for "
        "to in on at by with per from i we my our "
        "request requested requests service services procedure case patient member pt "
        "criteria criterion guideline guidelines policy mcg interqual milliman plan "
        "nurse rn reviewer review physician "
        "meet meets met not does do did doesn don didn t no none na n "
        "medically necessary necessity indicated denied deny denial approved approve partial "
        "therapy treatment care clinical documentation information records "
        "above below see noted stated attached therefore thus so also please "
        "because since due reason reasons based upon applicable medical cited listed outlined "
        "current time standard standards requirements established using used which"
    )
)

# A guideline that names no source document at all.
_GUIDELINE_FILLER = frozenset(
    _words(
        "mcg interqual milliman guideline guidelines criteria criterion policy policies plan "
        "medical per see above below the n a na none tbd unknown nurse rn review as noted "
        "standard standards"
    )
)


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, whitespace collapsed: how boilerplate is compared."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _substantive_words(text: str) -> list[str]:
    stripped = _BOILERPLATE_RE.sub(" ", normalise(text))
    return [w for w in stripped.split() if w not in _FILLER]


def is_boilerplate(rationale: str) -> bool:
    """True when, once stock phrases and filler are removed, almost nothing is left."""
    return len(_substantive_words(rationale)) < MIN_SUBSTANTIVE_WORDS


def _names_a_source(guideline: str) -> bool:
    return any(w not in _GUIDELINE_FILLER for w in normalise(guideline).split())


# ------------------------------------------------------------------ treatment advice

# Verbs of changing someone's treatment. Only the base / -ing forms are matched where the
# past tense would describe history ("was switched to", "was discontinued").
_VERBS = _words(
    "prescribe start stop give add order try treat increase decrease reduce switch "
    "discontinue taper titrate begin initiate"
)
_VERBS_ING = _words(
    "prescribing starting stopping giving adding ordering trying treating increasing "
    "decreasing reducing switching discontinuing tapering titrating beginning initiating"
)
_CHANGE = "(?:" + "|".join(_VERBS) + ")"
_CHANGE_ING = "(?:" + "|".join(_VERBS_ING) + ")"
_PRONOUN = r"(?:the\s+patient|the\s+member|patient|member|him|her|them|pt)"
# What a modal ("should", "needs to") may govern when it tells someone how to treat.
_MODAL_VERBS = (
    r"(?:start|begin|initiate|try|take|receive|undergo|use|switch|increase|decrease|add|stop|"
    r"discontinue|continue|get|obtain|consider|wear|avoid|resume|restart|proceed\s+with|"
    r"be\s+(?:started|treated|switched|given|prescribed|placed|put|referred|tapered|titrated|managed))"
)
# Imperatives that open a sentence ("Take ibuprofen", "Please start CPAP"). Coverage verbs
# (approve, deny, submit, provide, see, note) are not here, and a following "of", "date"
# or a verb shows the word is a noun ("Start of symptoms was ...").
_IMPERATIVES = _words(
    "start stop begin initiate prescribe give add order try treat increase decrease reduce "
    "switch discontinue taper titrate continue obtain refer use take consider recommend "
    "suggest advise avoid hold resume restart schedule perform get administer apply wean "
    "encourage counsel"
)
_SENTENCE_START = r"(?:^|(?<=[.;!?:\n])\s*|\n\s*[-*\u2022]?\s*)"
_DOSE = (
    r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|g|units?|ml|iu)(?:\s*/\s*kg)?\b\s*"
    r"(?:(?:po|iv|im|sc|subq|orally|by\s+mouth)\s+)?"
    r"(?:once|twice|three\s+times|four\s+times|daily|bid|tid|qid|qd|qhs|q\s*\d+\s*h\w*|"
    r"every\s+\d+\s+hours?|at\s+bedtime|nightly|weekly)\b"
)
# A sentence that reports history ("was", "documented", "since 2024"): a dose in it is a fact.
_HISTORY_RE = re.compile(
    r"\b(?:was|were|has\s+been|have\s+been|had|is\s+on|are\s+on|documented|documents|listed|"
    r"records?|recorded|history|since|taking|takes|took|current|currently|prior|previously|"
    r"reported|reports|notes?|noted|tried|failed|received|requested|requests)\b",
    re.IGNORECASE,
)

_ADVICE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # "you should prescribe", "the provider should switch"
        rf"\b(?:you|they|the\s+(?:treating\s+|attending\s+|requesting\s+)?(?:provider|physician|doctor|surgeon|team))\s+(?:should|must|ought\s+to|need\s+to)\s+(?:consider\s+)?{_CHANGE}\b",
        # "I would prescribe", "I'd start", "we would add"
        rf"\b(?:i|we)\s*(?:would|'d)\s+(?:\w+\s+)?{_CHANGE}\b(?!\s+that\b)",
        # "I recommend starting", "suggest a trial of", "recommend that the patient start"
        rf"\b(?:recommend|recommends|suggest|suggests|advise|advises|encourage)\s+(?:{_CHANGE_ING}|a\s+(?:trial|course)\s+of|treatment\s+with|that\s+(?:you|{_PRONOUN})\s+(?:should\s+)?(?:{_CHANGE}|take|receive|undergo))\b",
        # "consider adding", "consider a trial of", "consider referral to"
        rf"\bconsider\s+(?:{_CHANGE_ING}|a\s+(?:trial|course)\s+of|referral\s+to|referring)\b",
        # "increase the dose", "reduce the metformin dosage"
        r"\b(?:increase|decrease|reduce|raise|lower|titrate|taper|double|halve|adjust)\s+(?:the\s+|his\s+|her\s+|their\s+)?(?:[\w-]+\s+)?(?:dose|doses|dosage|dosing)\b",
        # "switch to", "switch the patient to"
        rf"\bswitch(?:\s+{_PRONOUN})?\s+(?:over\s+)?to\b",
        # "discontinue" (but not the coverage or the authorization)
        r"\bdiscontinue\b(?!\s+(?:the\s+)?(?:coverage|benefits?|authori[sz]ation|review|case|request))",
        # "start the patient on", "put her on", "place him on"
        rf"\b(?:start|put|place|begin|restart)\s+{_PRONOUN}\s+on\b",
        # "should be treated with", "should be started on"
        r"\bshould\s+be\s+(?:treated|started|switched|given|prescribed|placed|put|tapered|titrated)\s+(?:with|on|to)\b",
        # "the patient should take / try / start / undergo"
        rf"\b{_PRONOUN}\s+should\s+(?:take|try|start|stop|begin|receive|undergo|use|switch|increase|decrease)\b",
        # "should start", "needs to try", "ought to consider"
        rf"\b(?:should|ought\s+to|needs?\s+to)\s+(?:first\s+|then\s+|also\s+|just\s+)?{_MODAL_VERBS}\b",
        # "would be appropriate", "would be the appropriate next step", "might be beneficial"
        r"\b(?:would|will|may|might|could)\s+(?:also\s+)?(?:be\s+(?:(?:the|a|an|more|most|very)\s+)*"
        r"(?:appropriate|reasonable|indicated|advisable|beneficial|preferable|preferred|better|best|helpful|ideal|wise)|help)\b",
        # "the next step is", "the appropriate treatment would be"
        r"\b(?:next|best|appropriate|correct|right)\s+(?:step|treatment|therapy|management|course|option)\s+(?:is|would\s+be|should\s+be)\b",
        # "is recommended", "are advised" (but not history: "was recommended")
        r"\b(?:is|are)\s+(?:strongly\s+|also\s+)?(?:recommended|advised|suggested|encouraged)\b",
        # "recommend physical therapy", "I suggest an MRI" (a coverage word after it is not advice)
        r"\b(?:i\s+|we\s+)?(?:would\s+|strongly\s+)?(?:recommend|suggest|advise)\b(?!\s+(?:the\s+)?(?:denial|denying|approval|approving|approve|deny|"
        r"partial|modification|non-?certification|certification|coverage|resubmi\w*|submi\w*|send\w*|provid\w*|"
        r"(?:that\s+)?(?:the\s+)?(?:request|service|stay|case|claim|plan|provider\s+(?:submit|resubmit|send|provide))))",
        # "consider an MRI", "please consider PT" (but "does not consider this service")
        rf"{_SENTENCE_START}(?:please\s+)?consider\b|\b(?:should|could|would|may|might|to)\s+consider\b",
        # "prescribe" in any person
        r"\bprescribe\b",
        # "best to start with", "prudent to try"
        r"\b(?:best|better|advisable|prudent|reasonable|wise)\s+to\s+(?:start|begin|try|use|add|switch|continue|get|obtain|order|treat|wait|consider|proceed)\b",
        # a sentence that opens with an imperative: "Take ibuprofen", "Please start CPAP"
        rf"{_SENTENCE_START}(?:please\s+|then\s+|just\s+)?(?:{'|'.join(_IMPERATIVES)})\b(?!\s+(?:of|date|dated|was|were|is|are|has|had|in|time|point|and)\b)(?!-)",
        # "suggest they just order", "have the patient start", "let them try"
        rf"\b(?:have|get|let)\s+(?:the\s+)?(?:patient|member|provider|them|him|her|pt)\s+{_CHANGE}\b",
        rf"\b(?:suggest|recommend|advise)\s+(?:they|he|she|you|the\s+provider)\s+(?:just\s+|should\s+)?(?:{_CHANGE}|get|obtain|use|take)\b",
    )
)
_DOSE_RE = re.compile(_DOSE, re.IGNORECASE)
_SENTENCE_RE = re.compile(r"[^.!?;\n]+(?:[.!?;]|\n|$)")

# A phrase that only reports what was requested or planned is not advice: "the request to
# increase the dose", "the provider plans to switch to ...".
_REPORTED_RE = re.compile(
    r"(?:request(?:s|ed)?|requesting|ask(?:s|ed)?|asking|propos(?:al|ed|es)|plans?|planned|"
    r"wish(?:es)?|wants?|intends?|intention|order(?:ed)?)\s+(?:is\s+|was\s+)?(?:to|for)\s+"
    r"(?:(?:a|an|the)\s+)?$",
    re.IGNORECASE,
)


def _dose_phrases(text: str) -> list[tuple[int, str]]:
    """A dose with a frequency ("300 mg three times daily") in a sentence that does not
    report history: that is a regimen being proposed."""
    found: list[tuple[int, str]] = []
    for sentence in _SENTENCE_RE.finditer(text):
        if _HISTORY_RE.search(sentence.group(0)):
            continue
        for m in _DOSE_RE.finditer(sentence.group(0)):
            found.append((sentence.start() + m.start(), m.group(0)))
    return found


def advice_warnings(text: str) -> list[str]:
    """One warning per phrase that reads as treatment advice, in the order found."""
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    spans: list[tuple[int, int]] = []
    text = text.replace("\u2019", "'")  # typographic apostrophe: "I\u2019d start"
    candidates: list[tuple[int, int, str]] = []
    for pattern in _ADVICE_PATTERNS:
        for m in pattern.finditer(text):
            if not m.group(0).strip():
                continue
            if _REPORTED_RE.search(text[max(0, m.start() - 40) : m.start()]):
                continue
            candidates.append((m.start(), m.end(), m.group(0)))
    candidates += [(at, at + len(p), p) for at, p in _dose_phrases(text)]
    # where matches overlap the longest wins: "I recommend starting" over "I recommend"
    kept: list[tuple[int, int, str]] = []
    for start, end, raw in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[0])):
        start += len(raw) - len(raw.lstrip())
        if not any(s < end and start < e for s, e in spans):
            spans.append((start, end))
            kept.append((start, end, raw))
    for start, _end, raw in sorted(kept):
        phrase = " ".join(raw.split())
        if phrase.lower() not in seen:
            seen.add(phrase.lower())
            found.append((start, phrase))
    return [
        f'"{phrase}" reads as treatment advice: a determination is about coverage, not care'
        for _, phrase in found
    ]


# ------------------------------------------------------------------ the rules

_NOUN = {Outcome.DENY: "a denial", Outcome.PARTIAL: "a partial approval"}


def check_decision(
    outcome: Outcome,
    *,
    rationale: str,
    guideline: str,
    approved_portion: str | None,
    decline_reason: DeclineReason | None,
    note: str = "",
    denied_portion: str | None = None,
    criteria: Sequence[str] = (),
    change_info: str = "",
    call_notes: Sequence[str] = (),
) -> list[str]:
    """Raise GuardrailError for a decision that must not be sent; return advice warnings
    for every text that would leave uq in the reply."""
    if outcome in _NOUN:
        noun = _NOUN[outcome]
        if not rationale.strip():
            raise GuardrailError(
                f"{noun} needs a rationale: say why, for this patient, in plain words"
            )
        if is_boilerplate(rationale):
            raise GuardrailError(
                f"{noun} needs a patient-specific rationale (stock phrases such as "
                f'"does not meet criteria" alone are not accepted): say which criterion is '
                f"not met and why"
            )
        words = len(normalise(rationale).split())
        if words < MIN_RATIONALE_WORDS:
            raise GuardrailError(
                f"{noun} needs a fuller rationale ({words} words; at least "
                f"{MIN_RATIONALE_WORDS}): say which criterion is not met and why"
            )
        if not guideline.strip() or not _names_a_source(guideline):
            raise GuardrailError(
                f"{noun} needs the guideline or criterion relied on, named with its source "
                f'(e.g. "MCG A-0317 (27th ed.)")'
            )
    if outcome is Outcome.PEND and not rationale.strip():
        raise GuardrailError("a pend needs the information requested, item by item (the rationale)")
    if outcome is Outcome.PARTIAL and not (approved_portion or "").strip():
        raise GuardrailError('a partial approval needs what was approved (e.g. "3 of 6 visits")')
    if outcome is Outcome.PARTIAL and not (denied_portion or "").strip():
        raise GuardrailError('a partial approval needs what was denied (e.g. "visits 4 to 6", --denied)')
    if outcome in _NOUN and not any(c.strip() for c in criteria):
        raise GuardrailError(
            f"{_NOUN[outcome]} needs at least one criterion it rests on: tick one of the packet's "
            "criteria or type one (--criterion)"
        )
    if outcome is Outcome.DECLINE and decline_reason is None:
        raise GuardrailError(
            "declining a case needs a reason: conflict of interest, outside specialty or other"
        )
    if outcome is Outcome.DECLINE and decline_reason is DeclineReason.OTHER and not rationale.strip():
        raise GuardrailError('declining for "other" needs the reason in words (the rationale)')
    return list(
        _labelled(
            ("rationale", rationale),
            ("note", note),
            ("approved portion", approved_portion or ""),
            ("denied portion", denied_portion or ""),
            ("guideline", guideline),
            *(("criterion", c) for c in criteria),
            ("what would change the decision", change_info),
            *(("call note", n) for n in call_notes),
        )
    )


def _same_text(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def own_adverse_decision(case: Case, prior: Iterable[tuple[Decision, Case]], reviewer: str) -> str | None:
    """Why this reviewer may not decide this appeal, or None. A reviewer may not decide the
    appeal of their own adverse decision (29 CFR 2560.503-1(h)(3)(ii), (h)(4)): the earlier
    case is the same when its case ID matches, or its member ID and service both do."""
    if not case.fields.review_level.is_appeal:
        return None
    for decision, earlier in prior:
        if decision.reviewer != reviewer or decision.outcome not in _NOUN or decision.undone:
            continue
        same_id = earlier.case_id.lower() == case.case_id.lower()
        same_request = _same_text(earlier.fields.member_id, case.fields.member_id) and _same_text(
            earlier.fields.service, case.fields.service
        )
        if same_id or same_request:
            level = case.fields.review_level.value.replace("_", " ")
            return (
                f"refused: {case.case_id} is the {level} of {earlier.case_id}, which you decided "
                f"({decision.outcome.value}, {decision.decided_at:%Y-%m-%d}); a different reviewer must "
                "decide it (decline it instead)"
            )
    return None


def _labelled(*texts: tuple[str, str]) -> Iterable[str]:
    for label, text in texts:
        for warning in advice_warnings(text):
            yield f"{label}: {warning}"


_AGREES = {
    Outcome.APPROVE: NurseRecommendation.APPROVE,
    Outcome.DENY: NurseRecommendation.DENY,
    Outcome.PARTIAL: NurseRecommendation.PARTIAL,
}


def agreement(outcome: Outcome, nurse: NurseRecommendation) -> bool | None:
    """Whether the physician's determination agrees with the nurse; None when the question
    does not arise: no determination was made (call needed, pend, decline) or the parser
    could not read the nurse's recommendation."""
    if not outcome.is_determination or nurse is NurseRecommendation.UNKNOWN:
        return None
    return _AGREES[outcome] is nurse
