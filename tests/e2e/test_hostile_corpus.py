"""The hostile corpus (tests/hostile/corpus.py) through a real Dovecot and `uq sync --once`:
no crash, no stall, every email accounted for exactly once, every valid case sent after a
bad email present, each bad email listed by `uq quarantine` with its sender and subject,
and a bounded parse time per message (printed: the slowest one)."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.hostile.corpus import corpus
from uq.cli import main
from uq.config import ParseConfig, load_config
from uq.services import queries, sync
from uq.services.context import Context

# PDF reading is bounded by pdf_seconds per message; set low here so that the parse-time
# bound below covers messages whose packet is read while syncing.
PARSE = {"pdf_seconds": 0.5}


def _run(capsys: pytest.CaptureFixture[str], cfg: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Dovecot, the corpus appended, one `uq sync --once` (module scope: the corpus is
    ~30 MB; every test below reads the same result)."""
    from tests.conftest import _private_dovecot

    tmp = tmp_path_factory.mktemp("hostile")
    emails = corpus()
    gen = _private_dovecot()
    dovecot: Dovecot = next(gen)
    uids = dovecot.append([h.raw for h in emails])
    assert len(uids) == len(emails)
    cfg = write_config(tmp, dovecot=dovecot, db_url=f"sqlite:///{tmp / 'uq.sqlite3'}",
                       imap={"batch_size": 16}, parse=PARSE)
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    t = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(cfg), "sync", "--once"])
        again = main(["--config", str(cfg), "sync", "--once"])
    took = time.monotonic() - t
    yield {"corpus": emails, "cfg": cfg, "uids": uids, "code": code, "again": again, "out": out.getvalue(),
           "err": err.getvalue(), "took": took}
    with contextlib.suppress(StopIteration):
        next(gen)


def _ctx(cfg: Path) -> Context:
    return Context.open(load_config(cfg))


def test_no_crash_no_stall_and_a_second_pass_finds_nothing(synced: dict[str, Any]) -> None:
    emails = synced["corpus"]
    assert synced["code"] == 0, synced["err"]
    assert synced["again"] == 0, synced["err"]
    assert "Traceback" not in synced["err"]
    first, second = synced["out"].strip().splitlines()
    assert second == "ingested 0, updated 0, duplicates 0, not cases 0, quarantined 0"
    want = Counter(h.sync for h in emails)
    assert first == str(sync.SyncSummary(ingested=want["new"], updated=want["updated"], duplicates=want["duplicate"],
                                         not_cases=want["not_case"], quarantined=want["quarantined"],
                                         unverified=want["unverified"]))
    print(f"\nhostile corpus: {len(emails)} emails, 2 x sync --once in {synced['took']:.1f} s")


def test_every_email_is_accounted_for_exactly_once_as_expected(synced: dict[str, Any]) -> None:
    emails = synced["corpus"]
    ctx = _ctx(synced["cfg"])
    rows = ctx.store.raw_messages()
    by_uid = Counter(r.uid for r in rows)
    assert sorted(by_uid) == sorted(synced["uids"]) and set(by_uid.values()) == {1}
    kind = {r.uid: r.kind for r in rows}
    got = {h.name: kind[uid] for h, uid in zip(emails, synced["uids"], strict=True)}
    assert got == {h.name: h.sync for h in emails}


def test_each_valid_case_after_a_bad_email_is_present_and_problems_are_on_the_cases(synced: dict[str, Any]) -> None:
    emails = synced["corpus"]
    ctx = _ctx(synced["cfg"])
    for h in emails:
        if h.case_id and h.sync in ("new", "updated", "duplicate", "unverified"):
            cases = ctx.store.find_cases(h.case_id)
            if h.sync == "new" and h.sender:  # a stranger may use the same ID: a case of its own
                cases = [c for c in cases if c.sender == h.sender]
            (case,) = cases
            if h.problem:
                assert any(h.problem in p for p in case.problems), (h.name, case.problems)
    valid = [h for h in emails if h.name.startswith("valid-")]
    assert len(valid) >= 60
    assert all(ctx.store.find_cases(h.case_id) for h in valid)


def test_uq_quarantine_lists_each_bad_email_with_sender_and_subject(
    synced: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    emails = synced["corpus"]
    code, out, err = _run(capsys, synced["cfg"], "quarantine", "--json")
    assert code == 0, err
    rows = {r["uid"]: r for r in json.loads(out)}
    for h, uid in zip(emails, synced["uids"], strict=True):
        if h.sync != "quarantined":
            continue
        row = rows[uid]
        assert h.reason in (row["reason"] or ""), (h.name, row["reason"])
        if h.sender:
            assert (row["sender"], row["subject"], row["date"]) == (h.sender, h.subject, "2026-11-29T08:14:00-05:00")
    code, out, _ = _run(capsys, synced["cfg"], "quarantine")
    assert code == 0 and out.count("quarantined") == sum(h.sync == "quarantined" for h in emails)


def test_every_case_opens_and_uq_show_works_on_the_hostile_ones(
    synced: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _ctx(synced["cfg"])
    for case in ctx.store.cases(open_only=False):  # what `uq show --json` renders, in-process
        json.dumps(queries.case_json(ctx, queries.case_detail(ctx, case.id)))
    for cid in ("H-PDFSUR", "H-UTF7", "H-DUE9999", "H-REC9999", "H-RESUME", "H-PDFBOMB", "H-THREAD"):
        code, out, err = _run(capsys, synced["cfg"], "show", cid)
        assert code == 0 and cid in out, (cid, err)


def test_the_slowest_message_parses_in_under_a_second(synced: dict[str, Any]) -> None:
    """CPU time of this process is asserted (the machine is shared: wall time also counts
    other processes); PDF reading happens in the worker, bounded by pdf_seconds. Both
    are printed."""
    emails = synced["corpus"]
    tz, parse, now = ZoneInfo("America/New_York"), ParseConfig(**PARSE), datetime(2026, 12, 1, tzinfo=UTC)
    times = []
    for h in emails:
        wall, cpu = time.monotonic(), time.process_time()
        sync.parse_many([h.raw], tz, parse, now=now)
        times.append((time.process_time() - cpu, time.monotonic() - wall, len(h.raw), h.name))
    cpu_max, wall_max = max(times), max(times, key=lambda t: t[1])
    print(f"\nslowest parse (CPU): {cpu_max[3]} ({cpu_max[2] / 1e6:.1f} MB) {cpu_max[0]:.3f} s CPU, "
          f"{cpu_max[1]:.3f} s wall; slowest wall: {wall_max[3]} {wall_max[1]:.3f} s "
          f"(PDF reads capped at pdf_seconds={PARSE['pdf_seconds']})")
    assert max(t[2] for t in times) >= 9_000_000  # inputs up to 10 MB are in the corpus
    assert cpu_max[0] < 1.0, cpu_max
    assert wall_max[1] < 1.0 + PARSE["pdf_seconds"] + 10, wall_max  # bounded, not minutes; a loaded machine
