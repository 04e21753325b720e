"""Ingest end to end: the synthetic corpus through a real Dovecot into a SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import load_corpus
from tests.fixtures.dovecot import Dovecot, wait_until
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from uq.cli import main
from uq.config import load_config
from uq.errors import ConnectionFailed
from uq.services import sync
from uq.services.context import Context

CORPUS = load_corpus()
KIND_OF_SYNC = {
    "new": "new",
    "updated": "updated",
    "duplicate": "duplicate",
    "not_case": "not_case",
    "quarantined": "quarantined",
}


def _ctx(cfg_path: Path) -> Context:
    return Context.open(load_config(cfg_path))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpus_synced(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str]:
    dovecot_fn.append([raw for _, raw, _ in CORPUS])
    parse_cfg = next((exp["config"] for _, _, exp in CORPUS if "config" in exp), {})
    cfg = write_config(
        tmp_path,
        dovecot=dovecot_fn,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        imap={"batch_size": 7},
        parse=parse_cfg,
    )
    code, out, err = _run(capsys, "--config", str(cfg), "sync", "--once")
    assert code == 0, err
    return cfg, out.strip()


def test_corpus_summary_line_counts_every_outcome(corpus_synced: tuple[Path, str]) -> None:
    _, line = corpus_synced
    want = Counter(exp["sync"] for _, _, exp in CORPUS)
    assert line == (
        f"ingested {want['new']}, updated {want['updated']}, duplicates {want['duplicate']}, "
        f"not cases {want['not_case']}, quarantined {want['quarantined']}"
    )


def _norm(b: bytes) -> bytes:
    return b.replace(b"\r", b"").replace(b"\x00", b"\x80")


def _expected_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value)
    return value


def test_corpus_each_message_classified_and_fields_checked(corpus_synced: tuple[Path, str]) -> None:
    cfg, _ = corpus_synced
    ctx = _ctx(cfg)
    raws = {m.uid: m for m in ctx.store.raw_messages()}
    assert len(raws) == len(CORPUS), "every message is kept, whatever it is"
    case_of_file: dict[str, int] = {}
    later_updated = {exp.get("update_of") for _, _, exp in CORPUS if exp["sync"] == "updated"}
    for uid, (name, raw, exp) in enumerate(CORPUS, start=1):
        stored = raws[uid]
        assert stored.kind == KIND_OF_SYNC[exp["sync"]], name
        kept = ctx.store.raw_bytes(stored.id)  # as the server returned it: CRLF, and Dovecot
        assert _norm(kept) == _norm(raw), f"{name}: raw bytes kept"  # turns NUL into 0x80
        if exp["sync"] in ("not_case", "quarantined"):
            assert stored.case_pk is None, name
            if exp.get("reason"):
                assert exp["reason"].lower() in (stored.reason or "").lower(), name
            continue
        assert stored.case_pk is not None, name
        if exp["sync"] == "new":
            case_of_file[name] = stored.case_pk
        else:
            original = exp.get("update_of") or exp.get("duplicate_of")
            assert original, f"{name}: corpus names the original"
            assert stored.case_pk == case_of_file[original], f"{name} belongs to {original}"
            continue
        case = ctx.store.case(stored.case_pk)
        assert case is not None
        if name in later_updated:
            assert case.update_count >= 1, name
            continue
        for field, value in exp["fields"].items():
            got = getattr(case.fields, field)
            got = got.value if hasattr(got, "value") else got
            if field == "case_id" and value is None:
                assert case.case_id.startswith("NOID-"), name
                continue
            assert got == _expected_value(value), f"{name}: {field}"
        for problem in exp.get("problems", []):
            field = problem.split(":")[0]
            assert any(p.startswith(field) for p in case.problems), f"{name}: problem {problem}"
        names = [a.filename for a in ctx.store.attachments(case.id)]
        assert names == [a if isinstance(a, str) else a["filename"] for a in exp.get("attachments", [])], name


def test_second_sync_ingests_nothing(corpus_synced: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = corpus_synced
    code, out, _ = _run(capsys, "--config", str(cfg), "sync", "--once")
    assert code == 0
    assert out.strip() == "ingested 0, updated 0, duplicates 0, not cases 0, quarantined 0"


def test_uidvalidity_change_rescans_without_duplicates(
    corpus_synced: tuple[Path, str], dovecot_fn: Dovecot, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _ = corpus_synced
    ctx = _ctx(cfg)
    before = ctx.store.counts()
    dovecot_fn.set_uidvalidity(4242)
    code, out, _ = _run(capsys, "--config", str(cfg), "sync", "--once")
    assert code == 0
    assert out.startswith("ingested 0, updated 0, duplicates "), out
    assert ctx.store.counts() == before
    assert any(e.action == "uidvalidity_changed" for e in ctx.store.audit_entries())
    # and the new cursor holds: a third sync sees nothing
    _run(capsys, "--config", str(cfg), "sync", "--once")
    assert ctx.store.counts() == before


def test_case_json_and_queue_json_after_ingest(
    corpus_synced: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _ = corpus_synced
    code, out, _ = _run(capsys, "--config", str(cfg), "queue", "--json")
    assert code == 0
    items = json.loads(out)
    required = {
        "case_id",
        "sender",
        "subject",
        "review_type",
        "urgency",
        "status",
        "received_at",
        "due_at",
        "seconds_left",
        "sla_state",
        "nurse_recommendation",
        "member_name",
        "service",
        "problems",
        "reviewer_due_at",
        "regulatory_due_at",
        "binding_clock",
    }
    assert items and all(required <= set(i) for i in items)
    dues = [datetime.fromisoformat(i["due_at"]) for i in items]
    assert dues == sorted(dues)
    # two senders use this case ID (corpus 41): the reviewer is told, not guessed for
    code, out, err = _run(capsys, "--config", str(cfg), "show", "UM-2026-004512", "--json")
    assert code != 0 and "ambiguous" in err and err.count("\n") == 1
    pk = next(i["pk"] for i in items if i["case_id"] == "UM-2026-004512" and i["sender"].endswith("example-um.com"))
    code, out, _ = _run(capsys, "--config", str(cfg), "show", f"#{pk}", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["fields"]["member_id"] == "EHP123456789"
    code, out, _ = _run(capsys, "--config", str(cfg), "show", f"#{pk}", "--raw")
    assert "Message-ID: <case-004512.1@reviews.example-um.com>" in out
    code, out, err = _run(capsys, "--config", str(cfg), "show", "NOPE-1")
    assert code != 0 and err.strip() == "uq: unknown case: NOPE-1"
    code, out, _ = _run(capsys, "--config", str(cfg), "quarantine", "--json", "--all")
    kinds = Counter(r["kind"] for r in json.loads(out))
    want = Counter(exp["sync"] for _, _, exp in CORPUS)
    assert kinds == {"quarantined": want["quarantined"], "not_case": want["not_case"]}


def test_dovecot_killed_mid_sync_then_every_message_exactly_once(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path
) -> None:
    n = 2000
    dovecot_fn.append([case_email(i) for i in range(n)])
    cfg = write_config(
        tmp_path,
        dovecot=dovecot_fn,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        imap={"batch_size": 100, "timeout_seconds": 5.0},
    )
    ctx = _ctx(cfg)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sync.sync_once(ctx)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    assert wait_until(lambda: ctx.store.counts()["messages"] >= 100, timeout=30)
    dovecot_fn.kill()
    t.join(30)
    assert not t.is_alive()
    assert errors and isinstance(errors[0], ConnectionFailed), errors
    partial = ctx.store.counts()["messages"]
    assert 0 < partial < n
    dovecot_fn.start()
    summary = sync.sync_once(ctx)
    assert summary.ingested == n - partial
    counts = ctx.store.counts()
    assert counts["cases"] == n and counts["messages"] == n
    ids = [c.case_id for c in ctx.store.cases(open_only=False)]
    assert len(set(ids)) == n


def test_idle_delivers_a_new_case_within_two_seconds(dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, dovecot=dovecot_fn, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    ctx = _ctx(cfg)
    stop = threading.Event()
    states: list[str] = []
    t = threading.Thread(
        target=sync.watch,
        args=(ctx, stop),
        kwargs={"on_batch": lambda s: None, "on_state": lambda s, d: states.append(s)},
    )
    t.start()
    try:
        assert wait_until(lambda: "live" in states, timeout=10), states
        time.sleep(0.3)  # let IDLE start
        t0 = time.monotonic()
        dovecot_fn.append(case_email(7))
        assert wait_until(lambda: ctx.store.counts()["cases"] == 1, timeout=5)
        assert time.monotonic() - t0 < 2.0
    finally:
        stop.set()
        t.join(20)
    assert not t.is_alive()


def _cli(cfg: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uq.cli", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_wrong_password_is_one_line_nonzero(dovecot: Dovecot, uq_home: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, dovecot=dovecot, imap={"password_command": ["printf", "%s", "wrong"]})
    r = _cli(cfg, uq_home.env(), "sync", "--once")
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "login" in r.stderr.lower()


def test_untrusted_certificate_is_one_line_nonzero(dovecot: Dovecot, uq_home: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, dovecot=dovecot, imap={"ca_file": None})
    r = _cli(cfg, uq_home.env(), "sync", "--once")
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "certificate" in r.stderr.lower()
