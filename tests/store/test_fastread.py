"""The start-up fast path reads exactly what the repository reads, without SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.env import TEST_AUDIT_KEY
from uq.domain import CaseFields, CaseStatus, Clock, Deadlines, SlaState, Urgency
from uq.store.fastread import quick_queue_rows, sqlite_file
from uq.store.repo import Store

NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)


def _seed(url: str, n: int) -> Store:
    store = Store.open(url, audit_key=lambda: TEST_AUDIT_KEY)
    with store.tx() as tx:
        for i in range(n):
            urgency = Urgency.URGENT if i % 3 == 0 else Urgency.STANDARD
            case = tx.add_case(
                case_id=f"F-{i}", sender="n@example-um.com", sender_name="", subject="s", reply_to=None,
                message_id=f"<f{i}@x>", references=[], arrived_at=NOW - timedelta(minutes=i),
                fields=CaseFields(case_id=f"F-{i}", urgency=urgency, member_name="Test Person", client="Plan"),
                problems=["x: y"] if i % 5 == 0 else [], body_text="",
            )
            due = NOW + timedelta(minutes=(i * 7) % 50)
            tx.set_deadlines(case.id, Deadlines(due, due, None, due, Clock.REVIEWER, 0, SlaState.OK, NOW))
            if i % 4 == 0:
                tx.set_status(case.id, CaseStatus.DECIDED)
            elif i == 7:  # information requested, and the policy tolls the regulatory clock
                tx.start_pend(case.id, NOW, "op note")
                tx.set_deadlines(case.id, Deadlines(due, due, None, due, Clock.REVIEWER, 0, SlaState.OK, NOW,
                                                    regulatory_paused=True))
            elif i == 9:  # every fact the clocks need: no problem to show
                tx.set_facts(case.id, received_at=NOW)
    return store


def test_same_rows_same_order_as_the_repository(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    store = _seed(url, 60)
    full = store.queue_rows()
    assert len(full) == 45
    assert quick_queue_rows(url, limit=500) == full
    assert [r.case_id for r in full if r.status == "pended"] == ["F-7"]
    assert [r.case_id for r in full if r.regulatory_paused] == ["F-7"]
    # the paused clock's instants come with its row only: the list shows what it had left
    (tolled,) = [r for r in full if r.regulatory_paused]
    assert tolled.paused_due_at == NOW + timedelta(minutes=49) and tolled.paused_since == NOW
    assert all(r.paused_due_at is None for r in full if not r.regulatory_paused)
    # problems: the parser's, or a missing received time (all but F-9 here)
    assert [r.case_id for r in full if not r.has_problems] == ["F-9"]
    assert quick_queue_rows(url, limit=10) == full[:10]


@pytest.mark.postgres
def test_postgresql_reads_the_paused_clock_with_its_row() -> None:
    from tests.fixtures.postgres import fresh_database

    gen = fresh_database()
    try:
        store = _seed(next(gen), 12)
        (tolled,) = [r for r in store.queue_rows() if r.regulatory_paused]
        assert (tolled.case_id, tolled.paused_since) == ("F-7", NOW)
        assert tolled.paused_due_at == NOW + timedelta(minutes=49)
        assert all(r.paused_due_at is None for r in store.queue_rows() if not r.regulatory_paused)
        store.close()
    finally:
        gen.close()


def test_none_when_only_the_full_path_can_tell(tmp_path: Path) -> None:
    assert quick_queue_rows(f"sqlite:///{tmp_path / 'missing.sqlite3'}") is None
    assert quick_queue_rows("postgresql+psycopg://postgres@127.0.0.1/x") is None
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database")
    assert quick_queue_rows(f"sqlite:///{tmp_path / 'junk.sqlite3'}") is None
    assert sqlite_file("sqlite:///:memory:") is None


def test_fast_path_does_not_import_sqlalchemy() -> None:
    code = "import sys, uq.services.quick; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_odd_characters_in_the_path(tmp_path: Path) -> None:
    odd = tmp_path / "dr #1 notes"  # ("?" cannot be in a SQLAlchemy sqlite URL at all)
    odd.mkdir()
    url = f"sqlite:///{odd / 'uq.sqlite3'}"
    store = _seed(url, 4)
    assert quick_queue_rows(url) == store.queue_rows()
