"""The store round-trips a case through SQLite and PostgreSQL by the same code path."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.env import TEST_AUDIT_KEY
from uq.domain import CaseFields, CaseStatus, NurseRecommendation, OutboxState, Outcome, ReviewType, Urgency
from uq.store.audit_chain import Audited
from uq.store.repo import Store

NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)
A = Audited(NOW, "t", "test")  # who changed a decision or outbox item, for the trail
FIELDS = CaseFields(
    case_id="UM-2026-000001",
    review_type=ReviewType.CONCURRENT,
    urgency=Urgency.URGENT,
    received_at=NOW - timedelta(hours=3),
    due_at=NOW + timedelta(hours=1),
    client="Example Plan",
    member_name="Jane Q. Doe",
    member_dob="03/04/1961",
    member_id="EHP1",
    service="CPT 72148 MRI",
    criteria_met="- a\n- b",
    nurse_recommendation=NurseRecommendation.DENY,
    nurse_recommendation_text="why",
)


def _roundtrip(url: str) -> None:
    store = Store.open(url, audit_key=lambda: TEST_AUDIT_KEY)
    try:
        with store.tx() as tx:
            case = tx.add_case(
                case_id="UM-2026-000001",
                sender="nurse@example-um.com",
                sender_name="Nurse",
                subject="s",
                reply_to="queue@example-um.com",
                message_id="<m1@x>",
                references=["<a@x>", "<b@x>"],
                arrived_at=NOW,
                fields=FIELDS,
                problems=["due_at: odd"],
                body_text="body",
            )
            tx.audit(at=NOW, actor="t", action="ingested", case_pk=case.id)
        got = store.case(case.id)
        assert got is not None
        assert got.fields == FIELDS
        assert got.arrived_at == NOW and got.arrived_at.tzinfo is not None
        assert got.references == ("<a@x>", "<b@x>") and got.problems == ("due_at: odd",)
        assert got.status is CaseStatus.OPEN
        assert store.find_cases("um-2026-000001") == [got]
        with store.tx() as tx:
            d = tx.add_decision(
                case_pk=case.id,
                outcome=Outcome.APPROVE,
                agrees=False,
                rationale="r",
                guideline="g",
                note="",
                decline_reason=None,
                approved_portion=None,
                reviewer="t",
                decided_at=NOW,
                seconds_spent=60,
                audited=A,
            )
            item = tx.add_outbox(
                case_pk=case.id,
                decision_id=d.id,
                message_id="<r1@x>",
                mail_from="a@x",
                recipients=["b@x"],
                raw=b"raw",
                state=OutboxState.HELD,
                not_before=NOW,
                now=NOW,
                audited=A,
            )
        with store.tx() as tx:  # the claim is a compare-and-set: only one sender wins
            assert tx.claim_outbox_item(item.id, OutboxState.HELD, now=NOW, audited=A)
            assert not tx.claim_outbox_item(item.id, OutboxState.HELD, now=NOW, audited=A)
        assert store.outbox()[0].state is OutboxState.SENDING
        assert store.decisions(case.id)[0].seconds_spent == 60
    finally:
        store.close()


def test_sqlite_roundtrip_and_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "uq.sqlite3"
    _roundtrip(f"sqlite:///{path}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


@pytest.mark.postgres
def test_postgresql_roundtrip(pg_url: str) -> None:
    _roundtrip(pg_url)


def test_naive_datetime_never_reaches_the_store(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'uq.sqlite3'}", audit_key=lambda: TEST_AUDIT_KEY)
    with pytest.raises(Exception, match="naive"), store.tx() as tx:
        tx.add_case(
            case_id="X",
            sender="s",
            sender_name="",
            subject="",
            reply_to=None,
            message_id=None,
            references=[],
            arrived_at=datetime(2026, 1, 1),
            fields=CaseFields(),
            problems=[],
            body_text="",
        )
