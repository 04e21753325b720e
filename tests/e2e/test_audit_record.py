"""`uq audit verify` vouches for the record itself: a decision, a reply body or an outbox
state edited directly in the database is reported by case ID (SQLite and PostgreSQL), the
chain's keyed hash cannot be recomputed from a copy of the file, and a deleted head shows."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.fixtures.cases import add_bare_case
from tests.fixtures.env import write_config
from uq.cli import main
from uq.config import load_config
from uq.domain import Outcome
from uq.queue.clock import FixedClock
from uq.services import audit, outbox, review
from uq.services.context import Context
from uq.store import digest
from uq.store.audit_chain import keyed_hash
from uq.store.db import make_engine
from uq.store.tables import DecisionRow, OutboxRow

NOW = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
DENIAL = "Imaging shows no nerve root compression; six weeks of conservative care are not documented."


class Setup:
    def __init__(self, cfg: Path, url: str, ctx: Context, pks: dict[str, int]) -> None:
        self.cfg, self.url, self.ctx, self.pks = cfg, url, ctx, pks

    def sql(self, statement: str, **params: Any) -> None:
        engine = make_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(text(statement), params)
        finally:
            engine.dispose()

    def verify(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        code = main(["--config", str(self.cfg), "audit", "verify"])
        out, err = capsys.readouterr()
        return code, out, err


@pytest.fixture(params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path: Path, uq_home: Any) -> Iterator[Setup]:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    cfg = write_config(tmp_path, db_url=url, sections={"smtp": {"from_address": "dr@example.org", "hold_seconds": 0}})
    ctx = Context.open(load_config(str(cfg)), clock=FixedClock(NOW))
    pks = {"UM-REC-1": add_bare_case(ctx, "UM-REC-1", NOW), "UM-REC-2": add_bare_case(ctx, "UM-REC-2", NOW)}
    for pk in pks.values():
        review.open_case(ctx, pk)  # deciding needs the case opened
    denial = review.DecisionInput(
        rationale=DENIAL, guideline="MCG A-0123 (27th ed.)", criteria=("Not met: six weeks of therapy",)
    )
    review.decide(ctx, pks["UM-REC-1"], Outcome.DENY, denial)
    review.decide(ctx, pks["UM-REC-2"], Outcome.APPROVE)
    assert outbox.send_due(ctx, transport=lambda *a: None).sent == 2
    try:
        yield Setup(cfg, url, ctx, pks)
    finally:
        ctx.close()


EDITS = {
    "outcome": ("UPDATE decision SET outcome = 'approve', agrees_with_nurse = NULL WHERE case_pk = :pk", "(outcome)"),
    "rationale": ("UPDATE decision SET rationale = 'Meets criteria.' WHERE case_pk = :pk", "(rationale)"),
    "reply body": ("UPDATE outbox SET raw = :raw WHERE case_pk = :pk", "(reply body)"),
    "outbox state": ("UPDATE outbox SET state = 'failed', attempts = 0 WHERE case_pk = :pk", "(outbox state)"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_row_is_reported_by_case_id(setup: Setup, edit: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = setup.verify(capsys)
    assert code == 0 and out.startswith("audit chain intact"), err
    assert "2 decisions match their recorded content" in out and "2 replies match" in out
    statement, label = EDITS[edit]
    setup.sql(statement, pk=setup.pks["UM-REC-1"], raw=b"Approved. Regards")
    code, out, err = setup.verify(capsys)
    lines = err.splitlines()
    assert code == 1 and out == "" and len(lines) == 1, err
    assert "UM-REC-1" in lines[0] and label in lines[0] and "UM-REC-2" not in err


def test_deleted_and_unrecorded_rows_are_reported(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    pk1, pk2 = setup.pks["UM-REC-1"], setup.pks["UM-REC-2"]
    setup.sql("DELETE FROM outbox WHERE case_pk = :pk", pk=pk2)
    setup.sql(
        "INSERT INTO decision (case_pk, outcome, rationale, guideline, note, reviewer, decided_at, undone) "
        "VALUES (:pk, 'approve', '', '', '', 'reviewer', :at, false)",
        pk=pk1,
        at=NOW.replace(tzinfo=None),
    )
    code, _, err = setup.verify(capsys)
    lines = err.splitlines()
    assert code == 1 and len(lines) == 2, err
    assert any("UM-REC-2" in line and "was deleted" in line for line in lines)
    assert any("UM-REC-1" in line and "not on the audit record" in line for line in lines)


def test_a_copy_of_the_file_is_not_enough_to_rewrite_the_record(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attacker flips the denial and recomputes everything they can without the key:
    the entry's content digest, every hash after it and the head. Verify still fails."""
    engine = make_engine(setup.url)
    pk = setup.pks["UM-REC-1"]
    guess = b""  # any key but the real one
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE decision SET outcome = 'approve' WHERE case_pk = :pk"), {"pk": pk})
            cols = ", ".join(digest.columns(digest.DECISION))
            row = conn.execute(text(f"SELECT id, {cols} FROM decision WHERE case_pk = :pk"), {"pk": pk}).mappings()
            d = dict(row.one())
            d["decided_at"] = NOW
            forged = digest.row_digest(guess, digest.DECISION, d)
            conn.execute(
                text("UPDATE audit SET content_hash = :h WHERE subject = :s"),
                {"h": forged, "s": f"decision:{d['id']}"},
            )
            prev = ""
            for e in conn.execute(text("SELECT * FROM audit ORDER BY id")).mappings().all():
                at = e["at"].replace(tzinfo=UTC) if isinstance(e["at"], datetime) else datetime.fromisoformat(e["at"])
                at = at.replace(tzinfo=UTC)
                args = (prev, at, e["actor"], e["action"], e["case_pk"], e["detail"], e["subject"], e["content_hash"])
                h = keyed_hash(guess, *args)
                conn.execute(
                    text("UPDATE audit SET prev_hash = :p, hash = :h WHERE id = :i"), {"p": prev, "h": h, "i": e["id"]}
                )
                prev = h
            count = conn.execute(text("SELECT count(*) FROM audit")).scalar_one()
            head = json.loads(conn.execute(text("SELECT value FROM uq_meta WHERE key = 'audit_head'")).scalar_one())
            head.update(hash=prev, count=count)
            body = {k: head[k] for k in ("hash", "count", "key_id")}
            blob = json.dumps(["head", body], sort_keys=True, separators=(",", ":"))
            head["mac"] = hmac.new(guess, blob.encode(), hashlib.sha256).hexdigest()
            conn.execute(text("UPDATE uq_meta SET value = :v WHERE key = 'audit_head'"), {"v": json.dumps(head)})
    finally:
        engine.dispose()
    code, _, err = setup.verify(capsys)
    assert code == 1, err
    assert "altered" in err and "head" in err


def test_deleting_the_head_with_the_newest_entries_fails_and_stays_recorded(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.sql("DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id DESC LIMIT 2)")
    setup.sql("DELETE FROM uq_meta WHERE key = 'audit_head'")
    code, _, err = setup.verify(capsys)
    assert code == 1 and "head is missing" in err, err
    # the next audited action does not paper over it: the loss is written into the chain
    review.open_case(setup.ctx, setup.pks["UM-REC-2"])
    code, _, err = setup.verify(capsys)
    assert code == 1 and "audit head missing" in err, err


def test_a_rewritten_head_after_deleting_entries_fails(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.sql("DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)")
    engine = make_engine(setup.url)
    try:
        with engine.begin() as conn:
            last, count = conn.execute(
                text("SELECT hash, (SELECT count(*) FROM audit) FROM audit ORDER BY id DESC")
            ).first()  # type: ignore[misc]
            head = json.loads(conn.execute(text("SELECT value FROM uq_meta WHERE key = 'audit_head'")).scalar_one())
            head.update(hash=last, count=count)
            conn.execute(text("UPDATE uq_meta SET value = :v WHERE key = 'audit_head'"), {"v": json.dumps(head)})
    finally:
        engine.dispose()
    code, _, err = setup.verify(capsys)
    assert code == 1 and "head was altered" in err, err


def test_another_key_cannot_verify_or_extend_the_chain(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UQ_AUDIT_KEY", "someone-elses-key")
    code, _, err = setup.verify(capsys)
    assert code == 1 and "keyed with key" in err and "UQ_AUDIT_KEY" in err, err
    code = main(["--config", str(setup.cfg), "show", "UM-REC-2"])
    _, err = capsys.readouterr()
    assert code != 0 and err.count("\n") == 1 and "audit key mismatch" in err


def test_every_column_is_hashed_or_left_out_on_purpose() -> None:
    for kind, table in ((digest.DECISION, DecisionRow), (digest.OUTBOX, OutboxRow)):
        names = {c.name for c in table.__table__.columns}  # type: ignore[attr-defined]
        hashed = set(digest.columns(kind))
        assert hashed.isdisjoint(digest.UNHASHED[kind])
        assert names == hashed | set(digest.UNHASHED[kind]), (
            f"{kind}: classify {names ^ (hashed | set(digest.UNHASHED[kind]))}"
        )


def test_verify_in_process_matches_the_cli(setup: Setup) -> None:
    v = audit.check(setup.ctx)
    assert v.ok and v.entries > 0 and "2 replies match their recorded content" in v.notes, v.notes


def test_an_older_unkeyed_chain_is_checked_as_written_then_keyed_after_a_marker(
    tmp_path: Path, uq_home: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chain written before uq keyed it (plain SHA-256, a head without a key): verify
    checks it as it was written and says so; the next audited action appends the marker
    and keys everything after it; an edit to an old entry is still found."""
    from uq.store.audit_chain import legacy_hash

    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    cfg = write_config(tmp_path, db_url=url, sections={"smtp": {"from_address": "dr@example.org", "hold_seconds": 0}})
    ctx = Context.open(load_config(str(cfg)), clock=FixedClock(NOW))
    pk = add_bare_case(ctx, "UM-OLD-9", NOW, audit=False)
    review.open_case(ctx, pk)  # deciding needs the case opened
    review.decide(ctx, pk, Outcome.APPROVE)  # keys the new chain: rebuild it below as an old one
    ctx.close()
    s = Setup(cfg, url, ctx, {"UM-OLD-9": pk})
    s.sql("DELETE FROM audit")
    prev = ""
    for i, action in enumerate(("ingested", "opened", "decided")):
        h = legacy_hash(prev, NOW, "reviewer", action, pk, str(i))
        s.sql(
            "INSERT INTO audit (at, actor, action, case_pk, detail, prev_hash, hash) "
            "VALUES (:at, 'reviewer', :a, :pk, :d, :p, :h)",
            at=NOW.replace(tzinfo=None),
            a=action,
            pk=pk,
            d=str(i),
            p=prev,
            h=h,
        )
        prev = h
    head = {"hash": prev, "count": 3, "since": {"decision": 1, "outbox": 1}}  # as migration 0007 leaves it
    s.sql("UPDATE uq_meta SET value = :v WHERE key = 'audit_head'", v=json.dumps(head))
    code, out, err = s.verify(capsys)
    assert code == 0, err
    assert "entries 1-3 were written before the chain was keyed" in out and "not keyed yet" in out
    assert "1 decision predate" not in out and "predate content digests" in out
    ctx = Context.open(load_config(str(cfg)), clock=FixedClock(NOW))
    try:
        review.open_case(ctx, pk)  # the first audited action keys the chain
    finally:
        ctx.close()
    code, out, err = s.verify(capsys)
    assert code == 0, err
    assert "entries 1-3 were written before the chain was keyed" in out and "not keyed yet" not in out
    s.sql("UPDATE audit SET detail = 'x' WHERE id = (SELECT min(id) FROM audit)")
    code, _, err = s.verify(capsys)
    assert code == 1 and "UM-OLD-9: audit entry" in err and "altered" in err, err

