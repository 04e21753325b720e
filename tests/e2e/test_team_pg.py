"""The team queue on a real PostgreSQL: two reviewers, one database, no case worked twice;
and the same mailbox gives the same queue on PostgreSQL as on SQLite."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import load_corpus
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from uq.cli import main
from uq.config import load_config
from uq.errors import UqError
from uq.services import team
from uq.services.context import Context


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _reviewer_cfg(tmp_path: Path, dovecot: Dovecot, url: str, user: str) -> Path:
    return write_config(
        tmp_path,
        dovecot=dovecot,
        db_url=url,
        path=tmp_path / f"{user}.toml",
        reviewer={"user": user, "name": f"Dr. {user.title()}"},
        imap={"after_ingest": "none"},
    )


@pytest.fixture
def team_setup(
    pg_url: str, dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path]:
    dovecot_fn.append([case_email(i) for i in range(1, 5)])
    alice = _reviewer_cfg(tmp_path, dovecot_fn, pg_url, "alice")
    bob = _reviewer_cfg(tmp_path, dovecot_fn, pg_url, "bob")
    code, out, err = run(capsys, alice, "sync", "--once")
    assert code == 0 and out.startswith("ingested 4,"), err
    return alice, bob


def _claimed(out: str) -> str:
    case_id, _, rest = out.strip().partition(": claimed by ")
    assert re.fullmatch(r"\w+ until \d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d\d:\d\d", rest), out
    return case_id


def test_two_reviewers_never_hold_the_same_case(
    team_setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = team_setup
    code, out, err = run(capsys, alice, "claim", "--next")
    assert code == 0, err
    a_case = _claimed(out)
    assert "claimed by alice until " in out
    code, out, err = run(capsys, bob, "claim", "--next")
    assert code == 0, err
    b_case = _claimed(out)
    assert b_case != a_case
    # bob cannot take alice's case: one line, nonzero, naming who holds it
    code, out, err = run(capsys, bob, "claim", a_case)
    assert code != 0 and out == ""
    assert err.startswith(f"uq: {a_case} is claimed by alice until ") and err.count("\n") == 1
    # nor give it back for her
    code, _, err = run(capsys, bob, "release", a_case)
    assert code != 0 and err.count("\n") == 1 and "alice" in err
    # claiming your own case again is harmless
    assert run(capsys, alice, "claim", a_case)[0] == 0
    code, out, err = run(capsys, alice, "release", a_case)
    assert code == 0 and out.strip() == f"{a_case}: released", err
    code, out, err = run(capsys, bob, "claim", a_case)
    assert code == 0 and _claimed(out) == a_case and "claimed by bob" in out, err
    code, out, _ = run(capsys, alice, "queue", "--json")
    assert code == 0 and len(json.loads(out)) == 4, "claims do not hide cases from the queue"
    # --next skips what bob holds
    c_case = _claimed(run(capsys, alice, "claim", "--next")[1])
    assert c_case not in {a_case, b_case}
    # once bob holds everything, alice's --next says so in one line
    assert run(capsys, alice, "release", c_case)[0] == 0
    for case_id in {f"TEST-{i:04d}" for i in range(1, 5)} - {a_case, b_case}:
        assert run(capsys, bob, "claim", case_id)[0] == 0
    code, out, err = run(capsys, alice, "claim", "--next")
    assert code != 0 and out == "" and err == "uq: no unclaimed open case\n"
    ctx = Context.open(load_config(alice))
    actions = [(e.actor, e.action) for e in ctx.store.audit_entries() if e.action in ("claimed", "released")]
    assert actions[:4] == [("alice", "claimed"), ("bob", "claimed"), ("alice", "claimed"), ("alice", "released")]


def test_concurrent_claims_on_one_case_have_exactly_one_winner(team_setup: tuple[Path, Path]) -> None:
    alice, bob = team_setup
    ctxs = {u: Context.open(load_config(p)) for u, p in (("alice", alice), ("bob", bob))}
    case_ids = [c.case_id for c in ctxs["alice"].store.cases()]
    assert len(case_ids) == 4
    for case_id in case_ids:  # four races, each on a fresh case
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def attempt(user: str, case_id: str = case_id, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                team.claim(ctxs[user], case_id)
                results[user] = "won"
            except UqError as exc:
                results[user] = str(exc)

        threads = [threading.Thread(target=attempt, args=(u,)) for u in ctxs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        winners = [u for u, r in results.items() if r == "won"]
        assert len(winners) == 1, results
        loser = "bob" if winners == ["alice"] else "alice"
        assert results[loser].startswith(f"{case_id} is claimed by {winners[0]} until ")
        holder = next(c for c in ctxs["bob"].store.cases() if c.case_id == case_id).claimed_by
        assert holder == winners[0]
    for ctx in ctxs.values():
        ctx.close()


# ids and "now"-relative values differ per run
_VOLATILE = {"pk", "seconds_left", "regulatory_seconds_left", "sla_state"}


def test_postgresql_and_sqlite_give_the_same_queue_for_one_mailbox(
    pg_url: str, dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = load_corpus()
    dovecot_fn.append([raw for _, raw, _ in corpus])
    parse_cfg: dict[str, Any] = next((exp["config"] for _, _, exp in corpus if "config" in exp), {})
    outputs: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for name, url in (("sqlite", f"sqlite:///{tmp_path / 'uq.sqlite3'}"), ("pg", pg_url)):
        cfg = write_config(
            tmp_path,
            dovecot=dovecot_fn,
            db_url=url,
            path=tmp_path / f"{name}.toml",
            imap={"after_ingest": "none", "batch_size": 9},
            parse=parse_cfg,
        )
        code, summary, err = run(capsys, cfg, "sync", "--once")
        assert code == 0, f"{name}: {err}"
        code, out, err = run(capsys, cfg, "queue", "--json", "--all")
        assert code == 0, f"{name}: {err}"
        queue = [{k: v for k, v in i.items() if k not in _VOLATILE} for i in json.loads(out)]
        code, out, err = run(capsys, cfg, "quarantine", "--json", "--all")
        assert code == 0, f"{name}: {err}"
        quarantine = [{k: v for k, v in r.items() if k != "id"} for r in json.loads(out)]
        outputs[name] = (summary, queue, quarantine)
    sqlite_summary, sqlite_queue, sqlite_quarantine = outputs["sqlite"]
    pg_summary, pg_queue, pg_quarantine = outputs["pg"]
    assert pg_summary == sqlite_summary and not sqlite_summary.startswith("ingested 0,")
    assert len(sqlite_queue) > 20
    assert pg_queue == sqlite_queue
    assert pg_quarantine == sqlite_quarantine and sqlite_quarantine
