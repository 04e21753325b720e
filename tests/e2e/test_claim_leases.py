"""Claims are leases: concurrent `uq claim --next` never hands a case out twice (real
PostgreSQL with SKIP LOCKED, and SQLite), a lease runs out and the case is claimable again,
and --next prefers the reviewer's specialty and licence states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.env import write_config
from uq.config import parse_config
from uq.domain import CaseFields, Outcome
from uq.errors import GuardrailError, UqError
from uq.queue.clock import FixedClock
from uq.services import queries, review, team
from uq.services.context import Context

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp_path / 'uq.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")


def _ctx(url: str, user: str, clock: FixedClock, **reviewer: Any) -> Context:
    cfg = parse_config(
        {"reviewer": {"email": f"{user}@example.org", "user": user, **reviewer}, "team": {"lease_minutes": 30}}
    )
    return Context.open(cfg, clock=clock, url=url)


def _add_cases(ctx: Context, n: int, fields: list[CaseFields] | None = None) -> list[int]:
    pks = []
    with ctx.store.tx() as tx:
        for i in range(n):
            f = fields[i] if fields else CaseFields(case_id=f"UM-{i:04d}")
            case = tx.add_case(
                case_id=f.case_id or f"UM-{i:04d}", sender="nurse@example-um.com", sender_name="", subject="s",
                reply_to=None, message_id=f"<c{i}@x>", references=[], arrived_at=NOW - timedelta(minutes=n - i),
                fields=f, problems=[], body_text="",
            )
            pks.append(case.id)
    return pks


_CLAIMER = """
import io, json, sys
from contextlib import redirect_stderr, redirect_stdout
from uq.cli import main
print("ready", flush=True)
sys.stdin.readline()
results = []
for _ in range(int(sys.argv[2])):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--config", sys.argv[1], "claim", "--next"])
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results), flush=True)
"""


# UQ_STRESS=1: the full run, 8 processes x 50 claims over 200 cases (minutes on 2 shared
# cores); by default 4 x 10 over 20, the same race in seconds.
PROCESSES, CLAIMS_EACH, CASES = (8, 50, 200) if os.environ.get("UQ_STRESS") == "1" else (4, 10, 20)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_claiming_next_never_get_the_same_case(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, uq_home: Any
) -> None:
    """PROCESSES processes each running `uq claim --next` CLAIMS_EACH times over half as many
    cases as attempts: every case claimed, none twice, the rest told the queue is empty."""
    url = _url(backend, tmp_path, request)
    ctx = _ctx(url, "setup", FixedClock(NOW))
    pks = _add_cases(ctx, CASES)
    procs = []
    for n in range(PROCESSES):
        cfg = write_config(tmp_path, db_url=url, path=tmp_path / f"r{n}.toml", reviewer={"user": f"r{n}"})
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _CLAIMER, str(cfg), str(CLAIMS_EACH)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=uq_home.env(),
            )
        )
    for p in procs:  # all imported: the claiming starts together
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    claimed: list[tuple[str, str]] = []
    for n, p in enumerate(procs):
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        for code, stdout, stderr in json.loads(out.strip().splitlines()[-1]):
            if code == 0:
                case_id, _, rest = stdout.strip().partition(": claimed by ")
                assert rest.startswith(f"r{n} until "), stdout
                claimed.append((case_id, f"r{n}"))
            else:
                assert stderr == "uq: no unclaimed open case\n", stderr
    assert len(claimed) == CASES
    assert len({case_id for case_id, _ in claimed}) == CASES, "a case was claimed twice"
    holders = {c.case_id: c.claimed_by for c in ctx.store.cases()}
    assert holders == dict(claimed)
    audit = [e.case_pk for e in ctx.store.audit_entries() if e.action == "claimed"]
    assert sorted(audit) == sorted(pks)
    ctx.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_lease_runs_out_and_the_case_is_claimable_again(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    clock = FixedClock(NOW)
    alice, bob = _ctx(url, "alice", clock), _ctx(url, "bob", clock)
    [pk] = _add_cases(alice, 1)
    case = team.claim(alice, "UM-0000")
    assert case.claim_until == NOW + timedelta(minutes=30) and case.holder(NOW) == "alice"
    [(c, d)] = queries.queue(bob)
    item = queries.queue_item_json(bob, c, d)  # `uq queue --json`
    assert item["held_by"] == "alice" and item["held_until"].startswith("2026-11-30T")
    clock.advance(minutes=20)
    with pytest.raises(UqError, match=r"^UM-0000 is claimed by alice until \d\d:\d\d"):
        team.claim(bob, "UM-0000")
    with pytest.raises(UqError, match="no unclaimed open case"):
        team.claim(bob, None, next_case=True)
    review.open_case(bob, pk)  # deciding needs the case opened (looking is not claiming)
    with pytest.raises(GuardrailError, match="claimed by alice"):
        review.decide(bob, pk, Outcome.APPROVE)
    renewed = team.renew(alice, pk)  # the case is open in alice's TUI
    assert renewed is not None and renewed.claim_until == clock() + timedelta(minutes=30)
    clock.advance(minutes=29)
    with pytest.raises(UqError, match="claimed by alice"):
        team.claim(bob, "UM-0000")
    clock.advance(minutes=2)  # alice's laptop died: nothing renewed it
    assert alice.store.case(pk).holder(clock()) is None  # type: ignore[union-attr]
    assert queries.queue_item_json(bob, *queries.queue(bob)[0])["held_by"] is None  # back in the queue
    taken = team.claim(bob, None, next_case=True)
    assert taken.id == pk and taken.holder(clock()) == "bob"
    assert team.renew(alice, pk) is None, "a lost lease is not renewed over bob's"
    review.decide(bob, pk, Outcome.APPROVE)
    alice.close()
    bob.close()


def test_claim_next_prefers_the_reviewers_specialty_and_licence_states(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    clock = FixedClock(NOW)
    fields = [  # queue order: oldest first
        CaseFields(case_id="UM-OUT-OF-STATE", requesting_provider="Dr. A, Cardiology", facility="Austin, TX 78701"),
        CaseFields(case_id="UM-PLAIN", requesting_provider="Dr. B, MD"),
        CaseFields(case_id="UM-CARDIO", requesting_provider="Dr. C, MD, Cardiology"),
        CaseFields(case_id="UM-CARDIO-IL", requesting_provider="Dr. D, Cardiology", facility="Peoria, IL 61603"),
    ]
    ctx = _ctx(url, "carol", clock, specialty="Cardiology", license_states=["IL", "WI"])
    _add_cases(ctx, 4, fields)
    order = [team.claim(ctx, None, next_case=True).case_id for _ in range(4)]
    assert order == ["UM-CARDIO-IL", "UM-CARDIO", "UM-PLAIN", "UM-OUT-OF-STATE"]
    ctx.close()
