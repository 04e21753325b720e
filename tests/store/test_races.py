"""Two windows (or two reviewers) acting on one case at once: one reply, never two."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from uq.config import parse_config
from uq.domain import CaseFields, OutboxState, Outcome
from uq.errors import GuardrailError
from uq.queue.clock import FixedClock
from uq.services import outbox, review
from uq.services.context import Context
from uq.store.audit_chain import Audited

NOW = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
A = Audited(NOW, "t", "test")  # who changed an outbox item, for the trail


def _ctx(url: str, user: str = "reviewer") -> Context:
    cfg = parse_config({"reviewer": {"email": "dr@example.org", "user": user}, "smtp": {"hold_seconds": 0}})
    return Context.open(cfg, clock=FixedClock(NOW), url=url)


def _case(ctx: Context) -> int:
    with ctx.store.tx() as tx:
        case = tx.add_case(
            case_id="UM-RACE", sender="nurse@example-um.com", sender_name="", subject="s", reply_to=None,
            message_id="<race@x>", references=[], arrived_at=NOW, fields=CaseFields(case_id="UM-RACE"),
            problems=[], body_text="",
        )
    review.open_case(ctx, case.id)  # deciding needs the case opened by the one who decides
    return case.id


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_simultaneous_decisions_make_one_reply(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    ctxs = [_ctx(url), _ctx(url)]
    pk = _case(ctxs[0])
    review.open_case(ctxs[1], pk)
    start = threading.Barrier(2)
    results: list[object] = []

    def decide(ctx: Context) -> None:
        start.wait()
        try:
            results.append(review.decide(ctx, pk, Outcome.APPROVE))
        except GuardrailError as exc:
            results.append(exc)

    threads = [threading.Thread(target=decide, args=(c,)) for c in ctxs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [r for r in results if isinstance(r, GuardrailError)]
    assert len(results) == 2 and len(errors) == 1, results
    assert len(ctxs[0].store.outbox()) == 1
    assert len([d for d in ctxs[0].store.decisions(pk) if not d.undone]) == 1


def test_a_case_claimed_by_someone_else_cannot_be_decided(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    alice, bob = _ctx(url, "alice"), _ctx(url, "bob")
    pk = _case(alice)
    with alice.store.tx() as tx:
        assert tx.claim(pk, "alice", now=NOW, until=NOW + timedelta(minutes=30))
    review.open_case(bob, pk)
    with pytest.raises(GuardrailError, match="claimed by alice"):
        review.decide(bob, pk, Outcome.APPROVE)
    assert bob.store.outbox() == []
    review.decide(alice, pk, Outcome.APPROVE)


def test_a_late_failure_never_overwrites_a_sent_reply(tmp_path: Path) -> None:
    """Sender A's claim runs out while it is stuck; B sends; A's late failure is ignored."""
    ctx = _ctx(f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    pk = _case(ctx)
    review.decide(ctx, pk, Outcome.APPROVE)
    item = ctx.store.outbox()[0]
    with ctx.store.tx() as tx:  # A claims
        a = tx.claim_outbox_item(item.id, OutboxState.QUEUED, now=NOW, audited=A, lease_seconds=0)
        assert a
    with ctx.store.tx() as tx:  # the lease ran out: B takes over; A can no longer start the data
        b = tx.claim_outbox_item(item.id, OutboxState.SENDING, now=NOW, audited=A)
        assert b and b != a
        assert not tx.begin_outbox_data(item.id, a, NOW, A)
        assert tx.begin_outbox_data(item.id, b, NOW, A)
        tx.set_outbox(item.id, state=OutboxState.SENT, sent_at=NOW, audited=A)
    with ctx.store.tx() as tx:  # A's late failure
        assert not tx.set_outbox(item.id, state=OutboxState.FAILED, last_error="timed out", token=a, audited=A)
    assert ctx.store.outbox()[0].state is OutboxState.SENT
    assert outbox.send_due(ctx, transport=lambda *a: None).sent == 0  # nothing left to send


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_follow_up_never_overwrites_what_another_writer_saved_meanwhile(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The batch reads the case first and writes at the end; a field the PDF pass (or any
    other writer) filled in between must survive, and the count is not reset."""
    from uq.mail.imap import FetchedMessage
    from uq.services import sync

    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    ctx = _ctx(url)
    pk = _case(ctx)
    followup = (
        b"From: nurse@example-um.com\r\nSubject: RE: Case UM-RACE - records\r\n"
        b"Message-ID: <race-2@x>\r\nIn-Reply-To: <race@x>\r\n\r\n"
        b"Case ID: UM-RACE\r\nDiagnosis: M54.16 Radiculopathy\r\n"
    )
    real_preload = sync._BatchIngest.preload

    def preload_then_someone_else_writes(self: object, *a: object, **k: object) -> None:
        real_preload(self, *a, **k)  # type: ignore[arg-type]
        other = _ctx(url)
        with other.store.tx() as tx:
            case = tx.case(pk)
            filled = replace(case.fields, facility="Example Imaging Center")
            tx.set_case_fields(replace(case, fields=filled), ["facility"])

    sync._BatchIngest.preload = preload_then_someone_else_writes  # type: ignore[method-assign]
    try:
        summary, _ = sync.ingest_batch(ctx, "INBOX", 1, [FetchedMessage(1, NOW, followup, ())])
    finally:
        sync._BatchIngest.preload = real_preload  # type: ignore[method-assign]
    assert summary.updated == 1
    case = ctx.store.case(pk)
    assert case is not None
    assert case.fields.facility == "Example Imaging Center"
    assert case.fields.diagnosis == "M54.16 Radiculopathy"
    assert case.update_count == 1
