"""`uq queue --json` on an ingested mailbox: both clocks, the binding one, queue order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from uq.cli import main


def case_mail(
    n: int,
    *,
    urgency: str,
    review: str,
    received: datetime | None,
    due: datetime | None,
    client: str = "Example Health Plan",
) -> bytes:
    lines = [
        f"From: Nurse <nurse@um{n}.example-um.com>",
        "To: dr@example.org",
        f"Subject: UM Review Request - Case #Q-{n}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: <q-{n}@example-um.com>",
        "",
        f"Case ID: Q-{n}",
        f"Review Type: {review}",
        f"Urgency: {urgency}",
        f"Client: {client}",
        "Member: Test Person",
        "Requested Service: CPT 99999 test",
        "Nurse Recommendation: Approve",
    ]
    if received:
        lines.append(f"Received: {received.strftime('%Y-%m-%d %H:%M')} UTC")
    if due:
        lines.append(f"Due By: {due.strftime('%Y-%m-%d %H:%M')} UTC")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_queue_json_binding_clocks_and_order(
    dovecot: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot.reset()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dovecot.append(
        [
            # standard prospective, fresh: the 2-hour reviewer clock binds
            case_mail(1, urgency="Standard", review="Prospective", received=now - timedelta(minutes=5), due=None),
            # urgent concurrent received 23 h ago: the 24 h regulatory clock binds (1 h left < 2 h)
            case_mail(2, urgency="Urgent", review="Concurrent", received=now - timedelta(hours=23), due=None),
            # an explicit due time in 30 minutes binds
            case_mail(3, urgency="Standard", review="Retrospective", received=now, due=now + timedelta(minutes=30)),
            # an explicit due time already passed: breached, on top with negative seconds
            case_mail(4, urgency="Standard", review="Prospective", received=now, due=now - timedelta(minutes=15)),
        ]
    )
    cfg = write_config(tmp_path, dovecot=dovecot, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    assert main(["--config", str(cfg), "sync", "--once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "queue", "--json"]) == 0
    items = {i["case_id"]: i for i in json.loads(capsys.readouterr().out)}
    order = list(items)
    assert order == ["Q-4", "Q-3", "Q-2", "Q-1"]
    assert items["Q-1"]["binding_clock"] == "reviewer"
    assert items["Q-2"]["binding_clock"] == "regulatory"
    assert items["Q-3"]["binding_clock"] == "explicit"
    assert items["Q-4"]["sla_state"] == "breached" and items["Q-4"]["seconds_left"] < 0
    assert items["Q-3"]["sla_state"] == "warning"  # under 30 minutes left
    assert items["Q-1"]["sla_state"] == "ok"
    reg2 = datetime.fromisoformat(items["Q-2"]["regulatory_due_at"])
    assert reg2 == now + timedelta(hours=1)
    for i in items.values():
        due = datetime.fromisoformat(i["due_at"])
        assert due == min(
            datetime.fromisoformat(i["reviewer_due_at"]),
            datetime.fromisoformat(i["regulatory_due_at"]),
            *([datetime.fromisoformat(i["explicit_due_at"])] if i["explicit_due_at"] else []),
        )
        assert abs((due - datetime.now(UTC)).total_seconds() - i["seconds_left"]) < 30
