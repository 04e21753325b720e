"""The treatment-advice detector against a table of sentences a reviewer might write.

A reply is a coverage determination: advice on care (imperatives, "should start", "would
be appropriate", "consider", dosing) must be caught wherever it appears, and the plain
language of a determination must not be.
"""

from __future__ import annotations

import pytest

from uq.services.guardrails import advice_warnings

ADVICE = [
    "A 6-week course of physical therapy would be the appropriate next step.",
    "Physical therapy would be appropriate before any imaging.",
    "An ultrasound would be more appropriate than a CT.",
    "It would be reasonable to add a beta blocker.",
    "The patient should start physical therapy.",
    "Should start CPAP as soon as possible.",
    "She should be started on anticoagulation.",
    "The member needs to try six weeks of PT before surgery.",
    "He ought to try acupuncture first.",
    "Consider an MRI after six weeks of therapy.",
    "Consider physical therapy.",
    "Please consider a referral to neurology.",
    "The surgeon may want to consider a nerve block.",
    "I recommend physical therapy.",
    "Recommend a home sleep test.",
    "We would recommend a repeat echocardiogram in three months.",
    "Suggest they just order a home sleep test and start CPAP.",
    "I suggest an MRI of the cervical spine instead.",
    "A trial of CPAP is recommended.",
    "Physical therapy is advised before surgery.",
    "Switch to oral antibiotics.",
    "They could switch to a generic statin.",
    "Prescribe gabapentin 300 mg at bedtime.",
    "The provider should prescribe a shorter course.",
    "Start prednisone 40 mg daily for 5 days.",
    "Gabapentin 300 mg three times daily would help.",
    "Ibuprofen 600 mg every 6 hours with food.",
    "Take ibuprofen 600 mg every 6 hours.",
    "Try a course of NSAIDs first.",
    "Please start CPAP tonight.",
    "Add a proton pump inhibitor.",
    "Continue metformin and add a GLP-1 agonist.",
    "Order an echocardiogram before the catheterization.",
    "Obtain a stress test first.",
    "Refer to pain management for an epidural injection.",
    "Treat with amoxicillin 875 mg twice daily for 10 days.",
    "Titrate lisinopril to 20 mg.",
    "Taper the opioid over four weeks.",
    "Increase metformin to 1000 mg BID.",
    "Use a knee brace and ice.",
    "The next step is a CT of the abdomen.",
    "The appropriate treatment would be a course of oral steroids.",
    "Best to start with conservative care.",
    "Have the patient start a home exercise program.",
    "I would start with a home exercise program.",
    "Recommend discontinuing the benzodiazepine.",
    "Outpatient management with oral antibiotics is recommended.",
    "Avoid opioids and use acetaminophen.",
]

DETERMINATIONS = [
    "Criteria for inpatient level of care are not met.",
    "The lumbar MRI is not medically necessary under MCG A-0317 because symptoms have lasted only three weeks.",
    "Six weeks of conservative therapy are not documented.",
    "The records show two weeks of NSAIDs and no physical therapy.",
    "The inpatient stay is approved through day 4.",
    "The requested service is approved for 6 physical therapy visits.",
    "Days 1 to 4 are approved; day 5 is denied because the patient was stable for discharge on day 4.",
    "The member was started on prednisone 40 mg daily on 11/20.",
    "The patient was switched to oral antibiotics on day 2.",
    "The provider requested a trial of spinal cord stimulation.",
    "Imaging is not covered before six weeks of conservative care unless red flags are present.",
    "No progressive neurologic deficit is documented.",
    "The member has been on CPAP since 2024.",
    "The plan's policy requires a sleep study before CPAP is covered.",
    "The requested 5-day stay exceeds the 3-day goal length of stay in MCG.",
    "Home health is not covered because the member is not homebound.",
    "The record documents prednisone 40 mg daily for five days in October.",
    "Metformin 1000 mg twice daily and lisinopril 10 mg daily are listed as current medications.",
    "The nurse's summary matches the records.",
    "The request does not meet criterion 3 because no failed trial of two oral agents is documented.",
    "This determination does not prevent the provider from treating the patient.",
    "Coverage for days 1 through 4 is approved.",
    "Day 5 is not covered: the patient met discharge criteria on day 4.",
    "The physical therapy notes document 12 visits with no functional gain.",
    "An MRI was performed on 11/02 and showed no fracture.",
    "The treating surgeon plans a fusion at L4-L5.",
    "The requesting provider asks to increase the dose of the biologic.",
    "The member tried and failed gabapentin and duloxetine.",
    "Criteria met: radicular pain; criteria not met: six weeks of conservative therapy.",
    "The documentation does not show a failed trial of conservative therapy.",
    "Inpatient admission is approved under InterQual Acute Adult (2025).",
    "Outpatient surgery meets the guideline; the overnight stay does not.",
    "The clinical picture supports the level of care requested.",
    "Decision: deny, because the imaging criterion requires six weeks of symptoms.",
    "Symptoms began three weeks before the request.",
    "Blood pressure was 150/95 on admission and 128/80 at discharge.",
    "The provider may resubmit with the missing records.",
    "Information needed: the last two clinic notes and the PT discharge summary.",
    "I reviewed the operative note and the discharge summary.",
    "The criteria for continued stay are met through day 3.",
    "The service was ordered by the attending on day 2.",
    "No dose change is documented since March.",
    "Antibiotics were discontinued on day 3.",
    "The appeal may be submitted within 60 days.",
    "The request is partially approved: 6 of 12 visits.",
    "I recommend denial: six weeks of conservative therapy are not documented.",
    "The plan does not consider this service medically necessary for this member.",
    "Start of symptoms was three weeks before the request.",
    "A peer-to-peer call is needed to discuss the imaging findings.",
    "The PT discharge summary would change this determination if it shows a failed trial.",
]


def test_the_table_is_big_enough() -> None:
    assert len(ADVICE) >= 40 and len(DETERMINATIONS) >= 40
    assert not set(ADVICE) & set(DETERMINATIONS)


@pytest.mark.parametrize("sentence", ADVICE)
def test_advice_is_caught(sentence: str) -> None:
    warnings = advice_warnings(sentence)
    assert warnings, sentence
    assert all("reads as treatment advice" in w for w in warnings)


@pytest.mark.parametrize("sentence", DETERMINATIONS)
def test_determination_language_is_not_flagged(sentence: str) -> None:
    assert advice_warnings(sentence) == []


def test_advice_inside_a_longer_determination_is_still_caught() -> None:
    text = " ".join(DETERMINATIONS[:5]) + " " + ADVICE[0] + " " + " ".join(DETERMINATIONS[5:9])
    warnings = advice_warnings(text)
    assert len(warnings) == 1 and "would be the appropriate" in warnings[0]
