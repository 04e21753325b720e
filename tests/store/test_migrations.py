"""The schema changes only by migrations: databases made by every earlier schema (with data)
upgrade on SQLite and PostgreSQL, models and migrations agree, concurrent first opens are
safe, and uq refuses a database that is behind until `uq db upgrade`."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.e2e.test_cli import uq
from tests.fixtures.env import write_config
from uq.domain import CaseFields, OutboxState
from uq.errors import StoreError
from uq.store import db, migrations, schema
from uq.store.repo import Store

LEGACY = Path(__file__).parent / "legacy_schemas"
HEAD = migrations.head()
EARLIER = ["0001_released", "0002_pending_mark"]  # what create_all made before Alembic (0003 lived minutes)
T0 = datetime(2026, 11, 20, 14, 30)  # naive UTC, as the store keeps it


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp_path / 'uq.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")


def _make_legacy(url: str, rev: str) -> None:
    """A database exactly as that release's create_all + init_schema left it, with data."""
    engine = db.make_engine(url)
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    ddl = (LEGACY / f"{rev}.{dialect}.sql").read_text(encoding="utf-8")
    pending = {"pending_mark": False} if rev != "0001_released" else {}
    with engine.begin() as c:
        for stmt in ddl.split(";"):
            body = "\n".join(line for line in stmt.splitlines() if not line.startswith("--")).strip()
            if body:
                c.exec_driver_sql(body)
        c.execute(
            text("INSERT INTO uq_meta (key, value) VALUES ('schema_version', '1'), ('audit_head', :h)"),
            {"h": '{"hash": "h1", "count": 1}'},
        )
        c.execute(
            text(
                "INSERT INTO case_row (case_id, sender, sender_name, subject, status, arrived_at, update_count,"
                " paused_seconds, binding, urgency_rank, review_type, urgency, nurse_recommendation, member_name,"
                " due_at, claimed_by, body_text) VALUES ('UM-OLD-1', 'nurse@example-um.com', 'Nurse',"
                " 'Review UM-OLD-1', 'open', :t, 0, 0, 'reviewer', 1, 'prospective', 'urgent', 'approve',"
                " 'Test Member', :t, 'alice', 'synthetic body')"
            ),
            {"t": T0},
        )
        cols = ", pending_mark" if pending else ""
        vals = ", :pending_mark" if pending else ""
        c.execute(
            text(
                "INSERT INTO raw_message (mailbox, uidvalidity, uid, ingested_at, content_hash, size, raw, kind,"
                f" sender, subject, case_pk{cols}) VALUES ('INBOX', 7, 42, :t, 'abc', 3, :raw, 'new',"
                f" 'nurse@example-um.com', 'Review UM-OLD-1', 1{vals})"
            ),
            {"t": T0, "raw": b"raw", **pending},
        )
        c.execute(
            text(
                "INSERT INTO attachment (case_pk, raw_message_pk, filename, content_type, size, part, text)"
                " VALUES (1, 1, 'notes.pdf', 'application/pdf', 3, '2', 'pdf text')"
            )
        )
        c.execute(
            text(
                "INSERT INTO decision (case_pk, outcome, rationale, guideline, note, reviewer, decided_at, undone)"
                " VALUES (1, 'approve', 'meets criteria', 'MCG', '', 'alice', :t, :f)"
            ),
            {"t": T0, "f": False},
        )
        c.execute(
            text(
                "INSERT INTO outbox (case_pk, decision_id, message_id, mail_from, recipients, state, not_before,"
                " attempts, created_at, sent_copy_saved, raw) VALUES (1, 1, '<r1@x>', 'dr@example.org',"
                " 'nurse@example-um.com', 'sent', :t, 1, :t, :f, :raw)"
            ),
            {"t": T0, "f": False, "raw": b"reply"},
        )
        c.execute(
            text(
                "INSERT INTO call_attempt (case_pk, at, number, outcome, note, reviewer)"
                " VALUES (1, :t, '555-0100', 'no_answer', '', 'alice')"
            ),
            {"t": T0},
        )
        c.execute(
            text("INSERT INTO sync_cursor (mailbox, uidvalidity, last_uid, updated_at) VALUES ('INBOX', 7, 42, :t)"),
            {"t": T0},
        )
        c.execute(
            text(
                "INSERT INTO audit (at, actor, action, case_pk, detail, prev_hash, hash)"
                " VALUES (:t, 'alice', 'decide', 1, '', '', 'h1')"
            ),
            {"t": T0},
        )
    engine.dispose()


def _check_data(store: Store) -> None:
    case = store.case(1)
    assert case is not None and case.case_id == "UM-OLD-1" and case.fields.member_name == "Test Member"
    assert case.claimed_by == "alice" and case.arrived_at == T0.replace(tzinfo=UTC)
    assert store.body_text(1) == "synthetic body"
    [raw] = store.raw_messages(case_pk=1)
    assert store.raw_bytes(raw.id) == b"raw"
    [att] = store.attachments(1)
    assert (att.filename, att.text) == ("notes.pdf", "pdf text")
    [dec] = store.decisions(1)
    assert dec.reviewer == "alice" and dec.rationale == "meets criteria"
    [item] = store.outbox()
    assert item.state is OutboxState.SENT and item.message_id == "<r1@x>"
    assert item.reviewer == "alice"  # a reply made before per-reviewer sending: its decision's reviewer
    assert len(store.calls(1)) == 1
    head = store.audit_head()
    assert head is not None and (head.hash, head.count) == ("h1", 1) and len(store.audit_entries()) == 1
    assert head.since == {"decision": 1, "outbox": 1}, "rows before content digests are known as such"
    with store.tx() as tx:
        assert tx.cursor("INBOX", 7) == 42
        assert tx.pending_marks("INBOX", 7) == []  # old rows were all marked when stored


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as c:
        rev = MigrationContext.configure(c).get_current_revision()
    engine.dispose()
    return rev


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("rev", EARLIER)
def test_a_database_from_every_earlier_schema_upgrades_with_its_data(
    backend: str, rev: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    _make_legacy(url, rev)
    if rev != HEAD:
        with pytest.raises(StoreError, match=r"behind this uq .*run `uq db upgrade`"):
            Store.open(url)
        engine = db.make_engine(url)
        state = schema.ensure(engine, upgrade=True)
        engine.dispose()
        assert (state.before, state.after) == (rev, HEAD)
        assert (state.backup is not None) == (backend == "sqlite")
    store = Store.open(url)  # a pre-Alembic database already at head is recognised and stamped
    try:
        _check_data(store)
        assert _revision(url) == HEAD
        with store.read() as s:
            assert s.execute(text("SELECT value FROM uq_meta WHERE key = 'schema_version'")).first() is None
        # the bug this fixes: the next sync writes pending_mark
        with store.tx() as tx:
            tx.set_pending_marks("INBOX", 7, [42], True)
        with store.tx() as tx:
            assert tx.pending_marks("INBOX", 7) == [42]
    finally:
        store.close()


def test_the_sqlite_backup_is_a_working_copy_of_the_old_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    _make_legacy(url, "0001_released")
    engine = db.make_engine(url)
    state = schema.ensure(engine, upgrade=True)
    engine.dispose()
    assert state.backup is not None and state.backup.stat().st_mode & 0o777 == 0o600
    old = create_engine(f"sqlite:///{state.backup}")
    with old.connect() as c:
        assert "pending_mark" not in {col["name"] for col in inspect(c).get_columns("raw_message")}
        assert c.execute(text("SELECT case_id FROM case_row")).scalar() == "UM-OLD-1"
    old.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_models_and_migrations_agree(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Fails when someone changed uq/store/tables.py without a migration (see migrations/__init__)."""
    url = _url(backend, tmp_path, request)
    Store.open(url).close()
    engine = create_engine(url)
    with engine.connect() as c:
        context = MigrationContext.configure(c, opts={"compare_type": True})
        diff = compare_metadata(context, migrations.target_metadata())
    engine.dispose()
    assert diff == [], f"models and migrations differ (add a migration): {diff}"


def test_one_head_and_uqs_reading_of_the_chain_is_alembics() -> None:
    script = migrations.script()
    assert script.get_heads() == [HEAD]
    assert migrations.revisions() == {s.revision: s.down_revision for s in script.walk_revisions()}


_OPEN_ON_GO = """
import sys
from uq.store.repo import Store
print("ready", flush=True)
sys.stdin.readline()
Store.open(sys.argv[1]).close()
print("ok", flush=True)
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_opening_a_new_store_at_once_create_it_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_ON_GO, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for p in procs:  # every process has imported uq: the opens start together
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    assert all(out.strip() == "ok" for out, _ in outs)
    engine = create_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        assert c.execute(text("SELECT count(*) FROM uq_meta WHERE key = 'audit_head'")).scalar() == 1
    engine.dispose()


def test_uq_refuses_a_database_behind_with_one_line_and_db_upgrade_fixes_it(uq_home: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    _make_legacy(url, "0001_released")
    env = {**uq_home.env(), "UQ_CONFIG": str(write_config(tmp_path, db_url=url))}
    r = uq(env, "queue", "--json")
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.strip().count("\n") == 0 and "run `uq db upgrade`" in r.stderr, r.stderr
    r = uq(env, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"database at schema {HEAD} (upgraded from 0001_released); backup ")
    r = uq(env, "queue", "--json")
    assert r.returncode == 0 and "UM-OLD-1" in r.stdout


def test_a_new_database_is_created_at_head_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    store = Store.open(url)
    with store.tx() as tx:
        tx.add_case(
            case_id="UM-1",
            sender="n@x",
            sender_name="",
            subject="s",
            reply_to=None,
            message_id=None,
            references=[],
            arrived_at=T0.replace(tzinfo=UTC),
            fields=CaseFields(case_id="UM-1"),
            problems=[],
            body_text="",
        )
    with store.read() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        s.commit()
    store.close()
    with pytest.raises(StoreError, match="newer than this uq"):
        Store.open(url)


def test_a_look_only_open_creates_nothing(tmp_path: Path) -> None:
    """`uq doctor` opens with create=False: an empty database stays empty."""
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    with pytest.raises(StoreError, match="no uq schema: run `uq db upgrade`"):
        Store.open(url, create=False)
    _make_legacy(url, "0002_pending_mark")
    with pytest.raises(StoreError, match="behind this uq"):
        Store.open(url, create=False)
    assert _revision(url) is None  # not even stamped


def test_a_create_all_database_with_send_onces_columns_is_recognised(tmp_path: Path) -> None:
    """create_all ran for minutes after send-once's outbox columns and before Alembic: such a
    database has no alembic_version but is at 0003, and upgrades from there."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    engine = db.make_engine(url)
    with engine.begin() as c:
        command.upgrade(migrations.alembic_config(c), "0003_outbox_send_once")
        c.execute(text("DROP TABLE alembic_version"))
    with pytest.raises(StoreError, match="0003_outbox_send_once is behind"):
        Store.open(url)
    state = schema.ensure(engine, upgrade=True)
    engine.dispose()
    assert (state.before, state.after) == ("0003_outbox_send_once", HEAD)
    Store.open(url).close()
