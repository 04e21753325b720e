"""Decision guardrails: what is refused, what only warns, and the nurse-agreement matrix."""

from __future__ import annotations

import pytest

from uq.domain import DeclineReason, NurseRecommendation, Outcome
from uq.errors import GuardrailError
from uq.services.guardrails import advice_warnings, agreement, check_decision, is_boilerplate

GOOD_RATIONALE = (
    "Only three weeks of NSAIDs are documented and no physical therapy; the criterion "
    "requires six weeks of conservative care or a progressive neurologic deficit, and "
    "neither is present."
)
GOOD_GUIDELINE = "MCG A-0317 (27th ed.), Magnetic Resonance Imaging, Lumbar Spine"


def check(outcome: Outcome, **kw: object) -> list[str]:
    args: dict[str, object] = {
        "rationale": GOOD_RATIONALE,
        "guideline": GOOD_GUIDELINE,
        "approved_portion": None,
        "decline_reason": None,
        "criteria": ("Not met: six weeks of conservative care",),
        "denied_portion": "visits 4 to 6",
    }
    args.update(kw)
    return check_decision(outcome, **args)  # type: ignore[arg-type]


# ------------------------------------------------------------------ what passes


@pytest.mark.parametrize("outcome", [Outcome.DENY, Outcome.APPROVE, Outcome.CALL_NEEDED])
def test_a_complete_decision_passes_without_warnings(outcome: Outcome) -> None:
    assert check(outcome) == []


def test_a_complete_partial_passes() -> None:
    assert check(Outcome.PARTIAL, approved_portion="3 of 6 PT visits") == []


@pytest.mark.parametrize("outcome", [Outcome.APPROVE, Outcome.CALL_NEEDED])
def test_approve_and_call_needed_need_no_rationale_or_guideline(outcome: Outcome) -> None:
    assert check(outcome, rationale="", guideline="") == []


@pytest.mark.parametrize("reason", [DeclineReason.CONFLICT_OF_INTEREST, DeclineReason.OUTSIDE_SPECIALTY])
def test_a_decline_with_a_reason_needs_nothing_else(reason: DeclineReason) -> None:
    assert check(Outcome.DECLINE, rationale="", guideline="", decline_reason=reason) == []


def test_a_decline_for_other_needs_the_reason_in_words() -> None:
    with pytest.raises(GuardrailError, match='"other" needs the reason in words'):
        check(Outcome.DECLINE, rationale="  ", guideline="", decline_reason=DeclineReason.OTHER)
    assert check(
        Outcome.DECLINE, rationale="I treated this member last year.", guideline="", decline_reason=DeclineReason.OTHER
    ) == []


@pytest.mark.parametrize("outcome", [Outcome.DENY, Outcome.PARTIAL])
@pytest.mark.parametrize("criteria", [(), ("",), ("   ", "\n")])
def test_deny_or_partial_needs_a_criterion_it_rests_on(outcome: Outcome, criteria: tuple[str, ...]) -> None:
    with pytest.raises(GuardrailError, match="at least one criterion"):
        check(outcome, criteria=criteria, approved_portion="3 visits")


@pytest.mark.parametrize("denied", [None, "", "  "])
def test_partial_needs_what_was_denied(denied: str | None) -> None:
    with pytest.raises(GuardrailError, match="what was denied"):
        check(Outcome.PARTIAL, approved_portion="3 visits", denied_portion=denied)


@pytest.mark.parametrize(
    "field",
    ["note", "approved_portion", "denied_portion", "guideline", "change_info"],
)
def test_advice_anywhere_in_the_reply_is_warned(field: str) -> None:
    advice = "Consider a 6-week course of physical therapy instead (MCG A-0317)."
    warnings = check(Outcome.PARTIAL, **{"approved_portion": "3 visits", field: advice})
    assert len(warnings) == 1 and "treatment advice" in warnings[0]


def test_advice_in_a_criterion_or_a_call_note_is_warned() -> None:
    warnings = check(
        Outcome.DENY,
        criteria=("Not met: conservative care; should start PT",),
        call_notes=("suggest they just order a home sleep test and start CPAP",),
    )
    assert [w.split(":")[0] for w in warnings] == ["criterion", "call note"]


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("outcome", "noun"), [(Outcome.DENY, "denial"), (Outcome.PARTIAL, "partial")]
)
@pytest.mark.parametrize("rationale", ["", "   ", "\n\t"])
def test_deny_or_partial_without_rationale_is_refused(
    outcome: Outcome, noun: str, rationale: str
) -> None:
    with pytest.raises(GuardrailError, match=f"{noun}.*needs a rationale"):
        check(outcome, rationale=rationale, approved_portion="3 visits")


@pytest.mark.parametrize("outcome", [Outcome.DENY, Outcome.PARTIAL])
@pytest.mark.parametrize(
    "guideline", ["", "  ", "N/A", "per guidelines", "MCG", "InterQual criteria", "see above"]
)
def test_deny_or_partial_without_a_named_guideline_is_refused(
    outcome: Outcome, guideline: str
) -> None:
    with pytest.raises(GuardrailError, match="guideline or criterion"):
        check(outcome, guideline=guideline, approved_portion="3 visits")


@pytest.mark.parametrize(
    "guideline", ["MCG A-0317", "InterQual 2025 Acute Adult", "Plan medical policy RAD-114"]
)
def test_a_named_guideline_is_accepted(guideline: str) -> None:
    assert check(Outcome.DENY, guideline=guideline) == []


@pytest.mark.parametrize(
    "rationale",
    [
        "Does not meet criteria",
        "does not meet criteria.",
        "DOES NOT MEET CRITERIA!!!",
        "Not medically necessary",
        "not medically necessary.",
        "Criteria not met",
        "Doesn't meet MCG/InterQual",
        "Doesn\u2019t meet MCG / InterQual criteria",
        "See above",
        "per guidelines",
        "N/A",
        "n.a.",
        "Request does not meet MCG criteria at this time; not medically necessary per guidelines.",
        "I agree with the nurse: criteria not met, see above.",
        "Denied. Does not meet InterQual criteria for this service as noted above.",
        "Insufficient documentation. Not medically necessary.",
        "  does   not\nmeet\tcriteria  ",
        "The requested service does not meet the medical necessity criteria in the guideline "
        "cited by the nurse reviewer.",
        "This request is denied because it does not meet the applicable medical necessity "
        "criteria based on the documentation.",
    ],
)
def test_boilerplate_rationale_is_refused(rationale: str) -> None:
    assert is_boilerplate(rationale)
    with pytest.raises(GuardrailError, match="patient-specific rationale"):
        check(Outcome.DENY, rationale=rationale)


def test_boilerplate_refusal_does_not_echo_the_rationale() -> None:
    with pytest.raises(GuardrailError) as err:
        check(Outcome.DENY, rationale="Jane Doe: criteria not met")
    assert "Jane" not in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "rationale",
    [
        "Only 3 weeks of NSAIDs so far.",
        "Imaging premature: symptoms 3 weeks.",
    ],
)
def test_a_short_specific_rationale_is_refused_as_too_short(rationale: str) -> None:
    assert not is_boilerplate(rationale)
    with pytest.raises(GuardrailError, match=r"fuller rationale \(\d+ words; at least 8\)"):
        check(Outcome.DENY, rationale=rationale)


def test_a_specific_rationale_that_also_says_criteria_not_met_is_accepted() -> None:
    rationale = (
        "Does not meet criteria: symptoms for three weeks only, no trial of physical "
        "therapy, and no red-flag findings on the documented exam."
    )
    assert not is_boilerplate(rationale)
    assert check(Outcome.DENY, rationale=rationale) == []


@pytest.mark.parametrize("portion", [None, "", "   "])
def test_partial_without_approved_portion_is_refused(portion: str | None) -> None:
    with pytest.raises(GuardrailError, match="what was approved"):
        check(Outcome.PARTIAL, approved_portion=portion)


def test_decline_without_reason_is_refused() -> None:
    with pytest.raises(GuardrailError, match="declining a case needs a reason"):
        check(Outcome.DECLINE, decline_reason=None)


def test_guardrail_error_is_a_one_line_uq_error_with_its_exit_code() -> None:
    with pytest.raises(GuardrailError) as err:
        check(Outcome.DENY, rationale="")
    assert err.value.exit_code == 7
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------ treatment advice

ADVICE = [
    ("You should prescribe gabapentin instead.", "You should prescribe"),
    ("I recommend starting duloxetine.", "recommend starting"),
    ("Increase the dose of the NSAID first.", "Increase the dose"),
    ("Please decrease the dose.", "decrease the dose"),
    ("Reduce the metformin dosage.", "Reduce the metformin dosage"),
    ("Switch to an oral agent.", "Switch to"),
    ("Switch the patient to oral antibiotics.", "Switch the patient to"),
    ("Discontinue the opioid.", "Discontinue"),
    ("Start the patient on a statin.", "Start the patient on"),
    ("The member should be treated with physical therapy.", "should be treated with"),
    ("I would prescribe a short course of steroids.", "I would prescribe"),
    ("I'd start with PT.", "I'd start"),
    ("I\u2019d start with PT.", "I'd start"),
    ("Consider adding a muscle relaxant.", "Consider adding"),
    ("Consider a trial of physical therapy.", "Consider a trial of"),
    ("Suggest a trial of NSAIDs before imaging.", "Suggest a trial of"),
    ("The treating provider should try home exercise.", "The treating provider should try"),
    ("The patient should undergo 6 weeks of PT first.", "The patient should undergo"),
    ("We recommend that the patient take ibuprofen.", "recommend that the patient take"),
    ("Put her on a steroid taper.", "Put her on"),
]


@pytest.mark.parametrize(("text", "phrase"), ADVICE)
def test_advice_is_flagged(text: str, phrase: str) -> None:
    warnings = advice_warnings(text)
    assert len(warnings) >= 1
    assert f'"{phrase}"' in warnings[0]
    assert "treatment advice" in warnings[0]


NOT_ADVICE = [
    "The request for starting physical therapy is not covered.",
    "The request to increase the dose of the biologic is not supported by the records.",
    "The provider plans to switch to a different implant.",
    "The patient was switched to oral antibiotics on day 2.",
    "Treatment was discontinued last month because of side effects.",
    "The condition can be safely managed at a lower level of care.",
    "The provider should submit the operative report and imaging for review.",
    "I recommend denial: six weeks of conservative therapy are not documented.",
    "I would approve a resubmission once the PT notes are provided.",
    "I would add that the MRI report was not included in the packet.",
    "Symptoms started three weeks ago; no physical therapy was tried.",
    "The member is on metformin 500 mg twice daily and lisinopril.",
    "The plan may discontinue coverage after the authorized days.",
    "Starting dose documented in the records; dose was increased in March.",
    "Conservative treatment has not been tried for the required six weeks.",
]


@pytest.mark.parametrize("text", NOT_ADVICE)
def test_ordinary_coverage_language_is_not_flagged(text: str) -> None:
    assert advice_warnings(text) == []


def test_each_phrase_is_warned_once_and_in_order() -> None:
    text = "Switch to drug B. Increase the dose. switch to drug C."
    warnings = advice_warnings(text)
    assert len(warnings) == 2
    assert '"Switch to"' in warnings[0]
    assert '"Increase the dose"' in warnings[1]


def test_check_decision_returns_labelled_warnings_from_rationale_and_note() -> None:
    warnings = check_decision(
        Outcome.DENY,
        rationale=GOOD_RATIONALE + " I recommend starting physical therapy.",
        guideline=GOOD_GUIDELINE,
        approved_portion=None,
        decline_reason=None,
        note="Consider adding an NSAID.",
        criteria=("Not met: six weeks of conservative care",),
    )
    assert len(warnings) == 2
    assert warnings[0].startswith('rationale: "recommend starting"')
    assert warnings[1].startswith('note: "Consider adding"')


def test_advice_warnings_do_not_stop_a_refusal() -> None:
    with pytest.raises(GuardrailError):
        check(Outcome.DENY, rationale="Switch to PT.", guideline="")


# ------------------------------------------------------------------ agreement

N = NurseRecommendation
OC = Outcome


@pytest.mark.parametrize(
    ("outcome", "nurse", "expected"),
    [
        (OC.APPROVE, N.APPROVE, True),
        (OC.DENY, N.DENY, True),
        (OC.PARTIAL, N.PARTIAL, True),
        (OC.APPROVE, N.DENY, False),
        (OC.APPROVE, N.PARTIAL, False),
        (OC.APPROVE, N.PEND, False),
        (OC.DENY, N.APPROVE, False),
        (OC.DENY, N.PARTIAL, False),
        (OC.DENY, N.PEND, False),
        (OC.PARTIAL, N.APPROVE, False),
        (OC.PARTIAL, N.DENY, False),
    ]
    + [(o, n, None) for o in (OC.DECLINE, OC.CALL_NEEDED, OC.PEND) for n in N]
    + [(o, N.UNKNOWN, None) for o in OC],
)
def test_agreement_matrix(
    outcome: Outcome, nurse: NurseRecommendation, expected: bool | None
) -> None:
    assert agreement(outcome, nurse) is expected
