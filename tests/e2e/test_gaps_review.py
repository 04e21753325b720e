"""Review gaps end to end: `uq report` (JSON and CSV), `uq extend`, and the audit trail's
verify (tampering found, by entry) and export, on a store filled through a real Dovecot."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_loader import CORPUS_DIR
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from uq.cli import main

FILES = ("01-example-text", "02-acme-concurrent", "03-subject-ref", "04-html-table", "05-html-bold-lines")
DENY_01 = (
    "Records show three weeks of radicular pain with two weeks of NSAIDs and no physical "
    "therapy; MCG requires six weeks of conservative care absent red flags, none documented."
)
DENY_04 = (
    "A 48-hour Holter on 10/28 already captured the reported palpitations with sinus rhythm only; "
    "no new syncope or symptoms since, so a repeat 30-day monitor does not meet the LCD indications."
)
PER_CASE = 62.5


@pytest.fixture
def decided(dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """Five cases in; four decisions: two agree with the nurse, one does not, one call needed
    (no determination, so no agreement either way)."""
    dovecot_fn.append([(CORPUS_DIR / f"{name}.eml").read_bytes() for name in FILES])
    db = tmp_path / "uq.sqlite3"
    cfg = write_config(tmp_path, dovecot=dovecot_fn, db_url=f"sqlite:///{db}", pay={"per_case": PER_CASE})
    assert run(capsys, cfg, "sync", "--once")[0] == 0
    for args in (
        ("UM-2026-004512", "--deny", "--rationale", DENY_01, "--criterion", "Not met: 6 weeks of therapy"),  # agrees
        ("ACM-88120", "--approve"),  # nurse: approve -> agrees
        ("NW-2026-7781", "--deny", "--rationale", DENY_04, "--criterion", "Not met: LCD indication"),  # disagrees
        ("88231-B", "--call-needed", "--note", "Please send the last two therapy notes."),  # nurse: pend
    ):
        assert run(capsys, cfg, "show", args[0])[0] == 0
        code, _, err = run(capsys, cfg, "decide", *args)
        assert code == 0, f"{args[0]}: {err}"
    return cfg, db


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_report_json_counts_agreement_and_pay(decided: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = decided
    code, out, err = run(capsys, cfg, "report", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["decisions"] == 4
    assert rep["by_outcome"] == {"deny": 2, "approve": 1, "call_needed": 1}
    assert rep["agreement_rate"] == pytest.approx(2 / 3), "the call needed is no determination"
    assert rep["earnings"] == pytest.approx(PER_CASE * 3), "a call-needed is not a finished, paid case"
    by_case = {r["case_id"]: r for r in rep["rows"]}
    assert by_case["NW-2026-7781"]["agrees_with_nurse"] is False
    assert by_case["88231-B"]["agrees_with_nurse"] is None
    assert by_case["ACM-88120"]["client"]
    # a period with none of these decisions in it
    code, out, _ = run(capsys, cfg, "report", "--json", "--since", "2099-01-01")
    assert code == 0
    empty = json.loads(out)
    assert empty["decisions"] == 0 and empty["by_outcome"] == {} and empty["agreement_rate"] is None
    assert empty["earnings"] == 0
    code, _, err = run(capsys, cfg, "report", "--since", "last tuesday")
    assert code != 0 and err.count("\n") == 1 and "YYYY-MM-DD" in err


def test_report_csv_one_row_per_decision(decided: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = decided
    code, out, err = run(capsys, cfg, "report", "--csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["case_id"] for r in rows] == ["UM-2026-004512", "ACM-88120", "NW-2026-7781", "88231-B"]
    assert [r["outcome"] for r in rows] == ["deny", "approve", "deny", "call_needed"]
    assert [r["agrees_with_nurse"] for r in rows] == ["True", "True", "False", ""]
    assert all(r["decided_at"].endswith(("-05:00", "-04:00")) for r in rows), "in the reviewer's zone"
    code, out, _ = run(capsys, cfg, "report")
    assert code == 0
    assert "decisions 4" in out and "agreement with nurse 67%" in out and f"earnings {PER_CASE * 3:.2f}" in out


def _queue(capsys: pytest.CaptureFixture[str], cfg: Path) -> dict[str, dict[str, Any]]:
    code, out, _ = run(capsys, cfg, "queue", "--json", "--all")
    assert code == 0
    return {i["case_id"]: i for i in json.loads(out)}


def test_extend_moves_the_regulatory_deadline_with_an_audited_reason(
    decided: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _ = decided
    before = _queue(capsys, cfg)["PA-300417"]
    reason = "Member requested the 14-day extension by phone."
    code, out, err = run(capsys, cfg, "extend", "PA-300417", "--to", "2026-12-21T17:00", "--reason", reason)
    assert code == 0, err
    assert "2026-12-21T17:00:00-05:00" in out
    after = _queue(capsys, cfg)["PA-300417"]
    assert after["regulatory_due_at"] == "2026-12-21T17:00:00-05:00" != before["regulatory_due_at"]
    assert after["reviewer_due_at"] == before["reviewer_due_at"], "only the regulatory clock moves"
    code, out, _ = run(capsys, cfg, "audit", "export")
    entries = [e for e in json.loads(out) if e["action"] == "extended"]
    assert len(entries) == 1 and entries[0]["actor"] == "reviewer"
    assert "2026-12-21" in entries[0]["detail"] and reason not in entries[0]["detail"], "no free text (PHI) in audit"
    assert entries[0]["case_pk"] == after["pk"]
    code, out, _ = run(capsys, cfg, "show", "PA-300417", "--json")
    assert json.loads(out)["extension_reason"] == reason  # the reason is kept with the case
    # a reason is required; a blank one changes nothing
    code, _, err = run(capsys, cfg, "extend", "PA-300417", "--to", "2027-01-05", "--reason", "  ")
    assert code != 0 and err.count("\n") == 1 and "reason" in err
    assert _queue(capsys, cfg)["PA-300417"]["regulatory_due_at"] == "2026-12-21T17:00:00-05:00"


def test_audit_verify_names_the_tampered_entry(decided: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, db = decided
    code, out, err = run(capsys, cfg, "audit", "verify")
    assert code == 0 and out.startswith("audit chain intact"), err
    code, out, _ = run(capsys, cfg, "audit", "export")
    entries = json.loads(out)
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert {"ingested", "decided", "queued"} <= {e["action"] for e in entries}
    keys = {"id", "at", "actor", "action", "case_pk", "detail", "subject", "content_hash", "hash"}
    assert all(set(e) == keys for e in entries)
    assert "Jane" not in out and "Doe" not in out and "radicular" not in out, "no PHI or rationale in the trail"
    victim = next(e for e in entries if e["action"] == "decided" and e["detail"].startswith("approve"))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit SET detail = ? WHERE id = ?", ("deny" + victim["detail"][7:], victim["id"]))
    code, out, err = run(capsys, cfg, "audit", "verify")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and f"entry {victim['id']} " in err, err


def test_audit_verify_notices_a_deleted_entry(decided: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, db = decided
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM audit ORDER BY id")]
        conn.execute("DELETE FROM audit WHERE id = ?", (ids[2],))
    code, _, err = run(capsys, cfg, "audit", "verify")
    assert code == 1 and f"entry {ids[3]} " in err, err
