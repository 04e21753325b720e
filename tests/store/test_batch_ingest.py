"""Batch ingest: a whole FETCH batch classified in memory and written in bulk must store
exactly what one-message-at-a-time ingest stores, on SQLite and PostgreSQL alike.

The corpus is ordered so duplicates and follow-ups come after their originals; in one
batch they must be recognised from the batch's own earlier messages, not from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import load_corpus
from tests.fixtures.env import TEST_AUDIT_KEY
from tests.fixtures.mailcfg import case_email
from uq.config import Config, ParseConfig, ReviewerConfig
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services import audit, case_files, sync
from uq.services.context import Context
from uq.store.repo import Store

CORPUS = load_corpus()
NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)
ARRIVED = NOW - timedelta(minutes=10)


def _config() -> Config:
    parse_cfg = next((exp["config"] for _, _, exp in CORPUS if "config" in exp), {})
    return Config(reviewer=ReviewerConfig(timezone="America/New_York", user="t"), parse=ParseConfig(**parse_cfg))


def _msgs(raws: list[bytes], first_uid: int = 1) -> list[FetchedMessage]:
    return [FetchedMessage(first_uid + i, ARRIVED, raw, ()) for i, raw in enumerate(raws)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def open_ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Context]]:
    """A factory of fresh stores on the parametrised database."""
    made: list[Context] = []

    def make(tag: str) -> Context:
        url = f"sqlite:///{tmp_path / (tag + '.sqlite3')}"
        if request.param == "postgresql":
            url = next(request.getfixturevalue("_pg_urls"))
        ctx = Context(config=_config(), store=Store.open(url, audit_key=lambda: TEST_AUDIT_KEY), clock=FixedClock(NOW))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def _pg_urls() -> Iterator[Iterator[str]]:
    from tests.fixtures.postgres import fresh_database

    gens = []

    def urls() -> Iterator[str]:
        while True:
            g = fresh_database()
            gens.append(g)
            yield next(g)

    yield urls()
    for g in gens:
        g.close()


def _snapshot(ctx: Context) -> dict[str, Any]:
    """Everything ingest writes, in a comparable form (ids included: both paths assign them
    in message order)."""
    store = ctx.store
    cases = store.cases(open_only=False)
    return {
        "raw": [(r.id, r.uid, r.kind, r.reason, r.case_pk, r.message_id, r.size) for r in store.raw_messages()],
        "cases": cases,
        "bodies": [store.body_text(c.id) for c in cases],
        "queue": store.queue_rows(open_only=False),
        "attachments": [case_files.attachments_with_data(ctx, c.id) for c in cases],
        "audit": [(e.action, e.case_pk, e.detail) for e in store.audit_entries()],
    }


def test_one_batch_stores_what_one_message_per_batch_stores(open_ctx: Callable[[str], Context]) -> None:
    raws = [raw for _, raw, _ in CORPUS]
    one, each = open_ctx("one"), open_ctx("each")
    s_one, mark_one = sync.ingest_batch(one, "INBOX", 7, _msgs(raws))
    s_each = sync.SyncSummary()
    mark_each: list[int] = []
    for m in _msgs(raws):
        s, mk = sync.ingest_batch(each, "INBOX", 7, [m])
        s_each.add(s)
        mark_each += mk
    assert str(s_one) == str(s_each)
    assert (s_one.new_case_pks, s_one.urgent_case_pks, s_one.updated_case_pks) == (
        s_each.new_case_pks,
        s_each.urgent_case_pks,
        s_each.updated_case_pks,
    )
    assert mark_one == mark_each
    assert _snapshot(one) == _snapshot(each)
    assert audit.verify(one)[0] and audit.verify(each)[0]


def test_one_batch_classifies_the_corpus_as_expected(open_ctx: Callable[[str], Context]) -> None:
    ctx = open_ctx("corpus")
    summary, to_mark = sync.ingest_batch(ctx, "INBOX", 7, _msgs([raw for _, raw, _ in CORPUS]))
    raws = ctx.store.raw_messages()
    assert [r.uid for r in raws] == list(range(1, len(CORPUS) + 1))
    case_of = {name: r.case_pk for (name, _, _), r in zip(CORPUS, raws, strict=True)}
    for (name, _, exp), r in zip(CORPUS, raws, strict=True):
        assert r.kind == exp["sync"], name
        original = exp.get("update_of") or exp.get("duplicate_of")
        if original:  # recognised from the same batch, linked to the original's case
            assert r.case_pk is not None and r.case_pk == case_of[original], name
    updated = sum(1 for _, _, e in CORPUS if e["sync"] == "updated")
    assert summary.updated == updated and len(summary.updated_case_pks) == updated
    assert sorted(to_mark) == sorted(r.uid for r in raws if r.kind in ("new", "updated", "duplicate"))
    rows = ctx.store.queue_rows(open_only=False)
    assert rows and all(r.due_at is not None for r in rows)  # deadlines written for every case
    for case in ctx.store.cases(open_only=False):
        assert case.update_count == sum(1 for r in raws if r.kind == "updated" and r.case_pk == case.id)


def test_redelivered_uids_are_skipped_and_the_cursor_advances_once(open_ctx: Callable[[str], Context]) -> None:
    ctx = open_ctx("uids")
    first = _msgs([case_email(n) for n in range(1, 6)])
    sync.ingest_batch(ctx, "INBOX", 7, first[:3])
    summary, to_mark = sync.ingest_batch(ctx, "INBOX", 7, first)  # 1-3 again, after a crash before marking
    assert summary.ingested == 2 and to_mark == [4, 5]
    assert [r.uid for r in ctx.store.raw_messages()] == [1, 2, 3, 4, 5]
    with ctx.store.tx() as tx:
        assert tx.cursor("INBOX", 7) == 5


def test_a_uidvalidity_rescan_in_one_batch_stores_nothing_twice(open_ctx: Callable[[str], Context]) -> None:
    ctx = open_ctx("rescan")
    raws = [raw for _, raw, _ in CORPUS]
    sync.ingest_batch(ctx, "INBOX", 7, _msgs(raws))
    before = _snapshot(ctx)
    summary, to_mark = sync.ingest_batch(ctx, "INBOX", 8, _msgs(raws, first_uid=100), rescan=True)
    assert summary.duplicates == len(raws) and summary.ingested == summary.updated == 0
    assert _snapshot(ctx)["raw"] == before["raw"]
    kept = {r.uid for r in ctx.store.raw_messages() if r.kind not in ("not_case", "quarantined")}
    assert to_mark == [100 + uid - 1 for uid in sorted(kept)]


def test_a_failing_batch_leaves_nothing_behind(open_ctx: Callable[[str], Context]) -> None:
    """Crash safety: the raw rows, cases, audit and cursor of a batch commit together."""
    ctx = open_ctx("fail")
    msgs = _msgs([case_email(1)])
    bad = [msgs[0], FetchedMessage(2, datetime(2026, 11, 29, 13, 0), case_email(2), ())]  # naive: refused
    with pytest.raises(Exception, match="naive datetime"):
        sync.store_batch(ctx, "INBOX", 7, bad, [_parse(ctx, m.raw) for m in bad])
    assert ctx.store.raw_messages() == [] and ctx.store.cases(open_only=False) == []
    assert ctx.store.audit_entries() == []
    with ctx.store.tx() as tx:
        assert tx.cursor("INBOX", 7) is None


def _parse(ctx: Context, raw: bytes) -> Any:
    from uq.mail.parse import parse_email

    return parse_email(raw, tz=ctx.tz, parse=ctx.config.parse)
