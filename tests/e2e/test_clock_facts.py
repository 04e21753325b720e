"""Clock facts through a real Dovecot (issue 13): missing facts shown as problems with the
safe clock, urgent mentions winning, HST and client-zone times, a pend tolling an ERISA
clock until the follow-up, and a reviewer's own appeal refused."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.smtp import SmtpServer
from uq.cli import main

HST = ZoneInfo("Pacific/Honolulu")
ET = ZoneInfo("America/New_York")
PT = ZoneInfo("America/Los_Angeles")


def packet(case_id: str, *, extra: dict[str, str], sender: str = "rn@clocks.example-um.com",
           subject: str | None = None, in_reply_to: str | None = None) -> bytes:
    """A case email; `extra` labels are added (a label with value None is left out)."""
    headers = [
        f"From: Nurse <{sender}>",
        "To: dr@example.org",
        f"Subject: {subject or f'Review request {case_id}'}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: <{case_id.lower()}.{len(extra)}.{sender.partition('@')[0]}@example-um.com>",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    body = {
        "Case ID": case_id,
        "Review Type": "Prospective",
        "Member": "Test Person",
        "Member ID": "M-100200",
        "Requested Service": "CPT 72148 MRI lumbar spine",
        "Nurse Recommendation": "Deny - criteria not met",
        **extra,
    }
    lines = [*headers, "", *(f"{k}: {v}" for k, v in body.items() if v is not None)]
    return ("\r\n".join(lines) + "\r\n").encode()


def cli(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def queue(capsys: pytest.CaptureFixture[str], cfg: Path) -> dict[str, dict[str, Any]]:
    code, out, _ = cli(capsys, cfg, "queue", "--json")
    assert code == 0
    return {i["case_id"]: i for i in json.loads(out)}


def show(capsys: pytest.CaptureFixture[str], cfg: Path, case_id: str) -> dict[str, Any]:
    code, out, _ = cli(capsys, cfg, "show", case_id, "--json")
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def at(item: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(item[key])


def test_missing_and_odd_facts_show_as_problems_with_the_safe_clocks(
    dovecot: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot.reset()
    received = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    hst = received.astimezone(HST)
    east = received.astimezone(ET)
    dovecot.append([
        # no received time: the regulatory clock runs from the email's arrival, flagged
        packet("F-NORECV", extra={"Urgency": "Standard"}),
        # no urgency at all (nor in the subject): unknown, urgent clock, flagged
        packet("F-NOURG", extra={"Received": received.strftime("%Y-%m-%d %H:%M UTC")}),
        # an urgent mention wins over "standard"
        packet("F-UPGR", extra={"Urgency": "Urgent - upgraded from standard",
                                "Received": received.strftime("%Y-%m-%d %H:%M UTC")}),
        # a Hawaii time
        packet("F-HST", extra={"Urgency": "Expedited", "Received": hst.strftime("%m/%d/%Y %I:%M %p HST")}),
        # a time without a zone from an east-coast client, for a west-coast reviewer
        packet("F-EAST", extra={"Urgency": "Urgent", "Client": "EastPlan HMO",
                                "Received": east.strftime("%Y-%m-%d %H:%M")}),
    ])
    cfg = write_config(
        tmp_path, dovecot=dovecot, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        reviewer={"timezone": "America/Los_Angeles"},
        sla={"client": [{"match": "eastplan", "timezone": "America/New_York"}]},
    )
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    items = queue(capsys, cfg)

    norecv = items["F-NORECV"]
    assert norecv["received_at_missing"] is True
    assert any(p.startswith("received time missing") for p in norecv["problems"])
    assert "no received time" in norecv["regulatory_rule"]
    assert at(norecv, "regulatory_due_at") - at(norecv, "arrived_at") == timedelta(days=7)

    nourg = items["F-NOURG"]
    assert nourg["urgency"] == "unknown"
    assert any(p.startswith("urgency unknown") for p in nourg["problems"])
    assert at(nourg, "regulatory_due_at") == received + timedelta(hours=72)  # the urgent clock

    upgr = items["F-UPGR"]
    assert upgr["urgency"] == "urgent" and upgr["problems"] == []
    assert at(upgr, "regulatory_due_at") == received + timedelta(hours=72)

    hst_item = items["F-HST"]
    assert at(hst_item, "received_at") == received  # 10 hours behind UTC, read as such
    assert at(hst_item, "regulatory_due_at") == received + timedelta(hours=72)
    assert hst_item["problems"] == []

    east_item = items["F-EAST"]
    assert at(east_item, "received_at") == received  # Eastern, not the reviewer's Pacific
    assert at(east_item, "received_at").utcoffset() == received.astimezone(PT).utcoffset()  # shown in PT

    code, listing, _ = cli(capsys, cfg, "queue")  # the terminal listing flags them too
    flagged = {m[1]: m[2] for m in re.finditer(r" (F-[A-Z]+) +([-U][-!][-CP]) ", listing)}
    assert flagged["F-NORECV"] == flagged["F-NOURG"] == "-!-" and flagged["F-UPGR"] == "---"

    for case_id in ("F-NORECV", "F-NOURG"):  # the case view says the same
        detail = show(capsys, cfg, case_id)
        assert detail["problems"] == items[case_id]["problems"]
        assert detail["regulatory_due_at"] == items[case_id]["regulatory_due_at"]

    # the reviewer sets the urgency: the problem goes and the standard clock applies
    code, out, err = cli(capsys, cfg, "set", "F-NOURG", "--urgency", "standard")
    assert (code, err) == (0, "") and "urgency unknown → standard" in out
    after = show(capsys, cfg, "F-NOURG")
    assert after["urgency"] == "standard" and after["problems"] == []
    assert at(after, "regulatory_due_at") == received + timedelta(days=7)
    assert "facts_set" in [e["action"] for e in _audit(capsys, cfg, "F-NOURG")]


def _audit(capsys: pytest.CaptureFixture[str], cfg: Path, case_id: str) -> list[dict[str, Any]]:
    from uq.config import load_config
    from uq.services.context import Context

    ctx = Context.open(load_config(cfg))
    try:
        case = ctx.store.find_cases(case_id)[0]
        return [{"action": e.action} for e in ctx.store.audit_entries(case_pk=case.id)]
    finally:
        ctx.close()


def _stored_paused(cfg: Path, case_id: str) -> bool:
    from uq.config import load_config
    from uq.services.context import Context

    ctx = Context.open(load_config(cfg))
    try:
        (row,) = [r for r in ctx.store.queue_rows() if r.case_id == case_id]
        return row.regulatory_paused
    finally:
        ctx.close()


@pytest.fixture
def team(dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path) -> tuple[Path, Dovecot]:
    cfg = write_config(
        tmp_path, dovecot=dovecot_fn, smtp=smtp_server, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        sla={"client": [{"match": "erisa", "standard": "15d", "toll_on_pend": True}]},
        sections={"smtp": {"hold_seconds": 600}},
    )
    return cfg, dovecot_fn


def test_a_pend_tolls_the_erisa_clock_until_the_follow_up(
    team: tuple[Path, Dovecot], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, dovecot = team
    received = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)
    dovecot.append(packet("T-1", extra={"Urgency": "Standard", "Client": "ERISA Employer Plan",
                                        "Received": received.strftime("%Y-%m-%d %H:%M UTC")}))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    before = queue(capsys, cfg)["T-1"]
    assert at(before, "regulatory_due_at") == received + timedelta(days=15)

    assert cli(capsys, cfg, "show", "T-1")[0] == 0  # deciding needs the case opened
    code, _, err = cli(capsys, cfg, "decide", "T-1", "--pend", "--rationale",
                         "Please send the lumbar MRI report and the physical therapy notes.")
    assert code == 0, err
    pended = queue(capsys, cfg)["T-1"]
    assert pended["status"] == "pended" and pended["regulatory_paused"] is True
    left = pended["regulatory_seconds_left"]
    assert 13 * 86400 - 120 < left <= 13 * 86400  # frozen at what was left at the request
    assert pended["binding_clock"] == "reviewer"  # the reviewer's turnaround runs on
    assert _stored_paused(cfg, "T-1") is True  # what the TUI's list reads
    detail = show(capsys, cfg, "T-1")
    assert detail["pend"]["items"].startswith("Please send the lumbar MRI report")
    assert detail["pend"]["info_received_at"] is None

    # a reply from someone else is kept unverified: it answers nothing until accepted
    dovecot.append(packet("T-1", extra={"Clinical Summary": "Reply from another address."},
                          sender="someone@elsewhere.example", subject="RE: Review request T-1",
                          in_reply_to="<t-1.3.rn@example-um.com>"))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    still = queue(capsys, cfg)["T-1"]
    assert still["status"] == "pended" and still["regulatory_paused"] is True
    (msg,) = [m for m in show(capsys, cfg, "T-1")["thread"] if m["kind"] == "unverified"]

    dovecot.append(packet("T-1", extra={"Clinical Summary": "MRI report attached."},
                          subject="RE: Review request T-1 - records", in_reply_to="<t-1.3.rn@example-um.com>"))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    answered = queue(capsys, cfg)["T-1"]
    assert answered["status"] == "open" and answered["regulatory_paused"] is False
    toll = at(answered, "regulatory_due_at") - (received + timedelta(days=15))
    assert timedelta(0) <= toll < timedelta(minutes=2)  # moved by the (short) wait
    assert "tolled" in answered["regulatory_rule"]
    assert _stored_paused(cfg, "T-1") is False
    first_answer = show(capsys, cfg, "T-1")["pend"]["info_received_at"]
    assert first_answer is not None
    # accepting the earlier unverified reply later changes nothing: the pend already ended
    assert cli(capsys, cfg, "accept", "T-1", str(msg["id"]))[0] == 0
    assert show(capsys, cfg, "T-1")["pend"]["info_received_at"] == first_answer


def test_an_accepted_update_answers_a_pend(team: tuple[Path, Dovecot], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot = team
    received = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
    dovecot.append(packet("T-2", extra={"Urgency": "Standard", "Client": "ERISA Employer Plan",
                                        "Received": received.strftime("%Y-%m-%d %H:%M UTC")}))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    assert cli(capsys, cfg, "show", "T-2")[0] == 0  # deciding needs the case opened
    assert cli(capsys, cfg, "decide", "T-2", "--pend", "--rationale", "Please send the operative note.")[0] == 0
    dovecot.append(packet("T-2", extra={"Clinical Summary": "Operative note attached."},
                          sender="records@elsewhere.example", subject="RE: Review request T-2",
                          in_reply_to="<t-2.3.rn@example-um.com>"))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    assert queue(capsys, cfg)["T-2"]["regulatory_paused"] is True
    (msg,) = [m for m in show(capsys, cfg, "T-2")["thread"] if m["kind"] == "unverified"]
    assert cli(capsys, cfg, "accept", "T-2", str(msg["id"]))[0] == 0
    item = queue(capsys, cfg)["T-2"]
    assert item["status"] == "open" and item["regulatory_paused"] is False
    assert show(capsys, cfg, "T-2")["pend"]["info_received_at"] is not None


def test_deciding_the_appeal_of_ones_own_denial_is_refused(
    team: tuple[Path, Dovecot], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, dovecot = team
    received = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    when = received.strftime("%Y-%m-%d %H:%M UTC")
    dovecot.append(packet("A-1", extra={"Urgency": "Standard", "Received": when,
                                        "Guideline": "MCG A-0317 (27th ed.)"}))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    assert cli(capsys, cfg, "show", "A-1")[0] == 0  # deciding needs the case opened
    code, _, err = cli(capsys, cfg, "decide", "A-1", "--deny", "--rationale",
                       "Three weeks of symptoms with no physical therapy tried; MCG requires six weeks "
                       "of conservative care without red flags, and none are documented here.",
                       "--criterion", "Not met: six weeks of conservative care")
    assert code == 0, err
    # the appeal arrives as a new case: another case ID, same member ID and service
    dovecot.append(packet("A-1-APL", extra={"Urgency": "Standard", "Received": when,
                                            "Review Level": "Appeal (first level)"}))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    item = queue(capsys, cfg)["A-1-APL"]
    assert item["review_level"] == "appeal_1"
    assert at(item, "regulatory_due_at") == received + timedelta(days=30)  # the appeal clock
    assert cli(capsys, cfg, "show", "A-1-APL")[0] == 0
    code, out, err = cli(capsys, cfg, "decide", "A-1-APL", "--approve")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "refused: A-1-APL is the appeal 1 of A-1, which you decided (deny" in err
    assert show(capsys, cfg, "A-1-APL")["decisions"] == []  # nothing saved
    # a level the reviewer sets counts the same way
    dovecot.append(packet("A-2", extra={"Urgency": "Standard", "Received": when, "Member ID": "M-999",
                                        "Requested Service": "CPT 99999 other"}))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    assert cli(capsys, cfg, "set", "A-2", "--review-level", "reconsideration")[0] == 0
    assert cli(capsys, cfg, "show", "A-2")[0] == 0
    assert cli(capsys, cfg, "decide", "A-2", "--approve")[0] == 0  # not the reviewer's own denial


def test_the_reviewer_ends_a_pend(team: tuple[Path, Dovecot], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, dovecot = team
    received = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
    dovecot.append(packet("T-3", extra={"Urgency": "Standard", "Client": "ERISA Employer Plan",
                                        "Received": received.strftime("%Y-%m-%d %H:%M UTC")}))
    assert cli(capsys, cfg, "sync", "--once")[0] == 0
    assert cli(capsys, cfg, "show", "T-3")[0] == 0  # deciding needs the case opened
    assert cli(capsys, cfg, "decide", "T-3", "--pend", "--rationale", "Please send the imaging report.")[0] == 0
    assert queue(capsys, cfg)["T-3"]["regulatory_paused"] is True
    code, out, err = cli(capsys, cfg, "set", "T-3", "--end-pend")
    assert (code, err) == (0, "") and "information received" in out
    item = queue(capsys, cfg)["T-3"]
    assert item["status"] == "open" and item["regulatory_paused"] is False
    code, out, err = cli(capsys, cfg, "set", "T-3", "--end-pend")  # nothing waiting: one line
    assert code != 0 and out == "" and err == "uq: case T-3 has no information request waiting\n"
    code, _, err = cli(capsys, cfg, "set", "T-3")
    assert code == 2 and "uq set needs --urgency, --review-level or --end-pend" in err
