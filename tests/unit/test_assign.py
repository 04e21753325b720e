"""claim --next's preference, read from the text nurses write (uq.queue.assign)."""

from __future__ import annotations

from uq.domain import CaseFields
from uq.queue.assign import Qualifications, best_first, case_states, matches_specialty


def test_a_state_is_read_only_from_an_address_never_from_a_credential() -> None:
    assert case_states(CaseFields(requesting_provider="Jane Roe, MD, Cardiology")) == set()
    assert case_states(CaseFields(facility="Mercy Hospital, 12 Main St, Springfield, IL 62701")) == {"IL"}
    assert case_states(CaseFields(facility="Unit ZZ 12345")) == set()  # not a state


def test_specialty_matches_whole_words_case_insensitively() -> None:
    assert matches_specialty(CaseFields(service="Outpatient cardiology consult"), "Cardiology")
    assert not matches_specialty(CaseFields(service="Electrocardiology"), "Cardiology")
    assert not matches_specialty(CaseFields(service="Cardiology"), "")


def test_best_first_keeps_queue_order_among_equals_and_puts_unlicensed_states_last() -> None:
    q = Qualifications("Orthopedics", ("NY",))
    candidates = [
        (1, CaseFields(facility="Boston, MA 02115")),  # a state the reviewer is not licensed in
        (2, CaseFields()),
        (3, CaseFields(service="Orthopedics follow-up")),
        (4, CaseFields()),
        (5, CaseFields(service="Orthopedics", facility="Albany, NY 12207")),
    ]
    assert best_first(candidates, q) == [5, 3, 2, 4, 1]
    assert best_first(candidates, Qualifications()) == [1, 2, 3, 4, 5]  # nothing to prefer: queue order
