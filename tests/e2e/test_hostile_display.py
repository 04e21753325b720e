"""Issue 11 end to end: hostile case emails delivered through a real Dovecot, then every
CLI printer, the reply received by a real aiosmtpd, and the log file checked on bytes."""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.hostile_mail import (
    CASE_ID,
    assert_no_formula_cells,
    assert_terminal_safe,
    case_email,
    quarantined_email,
)
from tests.e2e.test_decisions import config_file
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.smtp import SmtpServer


def uq(env: dict[str, str], cfg: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real CLI in a subprocess; output kept as bytes, as the terminal would get it."""
    r = subprocess.run(
        [sys.executable, "-m", "uq.cli", "--config", str(cfg), *args],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    assert_terminal_safe(r.stderr, f"uq {' '.join(args)} (stderr)")
    return r


@pytest.fixture
def hostile(dovecot_fn: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path) -> tuple[dict[str, str], Path]:
    dovecot_fn.create_folder("Sent", special_use="\\Sent")
    for n in (1, 2):
        dovecot_fn.append(case_email(n, urgent=n == 1))
    dovecot_fn.append(quarantined_email())
    cfg = config_file(tmp_path / "config.toml", dovecot_fn, smtp_server)
    env = uq_home.env()
    r = uq(env, cfg, "sync", "--once")
    assert "quarantined 1" in r.stdout.decode()
    assert r.stderr == b"", "nothing from a library reaches stderr during sync: it goes to the log"
    return env, cfg


def test_cli_output_holds_no_control_byte_and_no_formula(
    hostile: tuple[dict[str, str], Path], smtp_server: SmtpServer, uq_home: Any
) -> None:
    env, cfg = hostile
    items = json.loads(uq(env, cfg, "queue", "--json").stdout)
    assert {i["case_id"] for i in items} == {f"{CASE_ID}1", f"{CASE_ID}2"}, "--json keeps the exact IDs"
    assert all(any("invisible or control" in p for p in i["problems"]) for i in items)
    pk = items[0]["pk"]

    queue = assert_terminal_safe(uq(env, cfg, "queue").stdout, "uq queue")
    assert "UM-2026-[/]7⟨ZWSP⟩⟨RLO⟩␛[8m" in queue
    show = assert_terminal_safe(uq(env, cfg, "show", f"#{pk}").stdout, "uq show")
    assert "␛]52;c;" in show and "⟨RLO⟩evil" in show and "[@click=app.quit]" in show
    raw = assert_terminal_safe(uq(env, cfg, "show", f"#{pk}", "--raw").stdout, "uq show --raw")
    assert "␛]0;pwned-title␇" in raw and "Message-ID: <hostile-" in raw
    quarantine = assert_terminal_safe(uq(env, cfg, "quarantine").stdout, "uq quarantine")
    assert "quarantined" in quarantine and "␛[2J" in quarantine

    uq(env, cfg, "decide", f"#{pk}", "--approve", "--rationale", "Meets criteria.")
    outbox = assert_terminal_safe(uq(env, cfg, "outbox").stdout, "uq outbox")
    assert "⟨ZWSP⟩" in outbox or "[/]" in outbox
    uq(env, cfg, "send")
    rows = assert_no_formula_cells(uq(env, cfg, "report", "--csv").stdout)
    assert rows[1][0].startswith("UM-2026-[/]7⟨ZWSP⟩"), "the ID is shown with its marks"
    assert rows[1][1].startswith("'=HYPERLINK("), "a formula cell is neutralised"

    # The reply, as the SMTP server received it: no control byte anywhere.
    assert len(smtp_server.messages) == 1
    _from, _to, wire = smtp_server.messages[0]
    bad = re.findall(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", wire)
    assert not bad, f"control bytes on the wire: {bad[:5]}"
    msg = email.message_from_bytes(wire, policy=email.policy.default)
    for name, value in msg.items():
        assert_terminal_safe(str(value).encode(), f"reply header {name}")
    body = msg.get_content().replace("\r\n", "\n")  # the wire line ends are CRLF
    assert_terminal_safe(body.encode(), "reply body")
    assert "UM-2026-[/]7⟨ZWSP⟩⟨RLO⟩␛[8m1" in body or "UM-2026-[/]7⟨ZWSP⟩⟨RLO⟩␛[8m1" in str(msg["Subject"])


def test_the_log_file_holds_no_case_text(hostile: tuple[dict[str, str], Path], uq_home: Any) -> None:
    """sync (done by the fixture), open, decide, send; then the log is grepped for every
    field value, body line and address of the case."""
    env, cfg = hostile
    items = json.loads(uq(env, cfg, "queue", "--json").stdout)
    pk = items[0]["pk"]
    detail = json.loads(uq(env, cfg, "show", f"#{pk}", "--json").stdout)
    uq(env, cfg, "decide", f"#{pk}", "--approve", "--rationale", "Meets the imaging criterion today.")
    uq(env, cfg, "send")
    logs = sorted((uq_home.data_dir / "state").glob("uq.log*"))
    assert logs, "uq wrote its log file"
    text = "\n".join(p.read_text(encoding="utf-8") for p in logs)
    assert f"case {pk} opened" in text and f"case {pk} decided: approve" in text and "sent (case" in text
    secrets = [
        detail["sender"],
        "nurse@reviews.example-um.com",
        "dr@example.org",
        "reviewer@example.test",
        "Zed",
        "Quux",
        "Meets the imaging criterion",
        "M54.16",
        "72148",
        "010-0001",
        "MID",
        "evil",
        "HYPERLINK",
        "UM-2026",
    ]
    enums = {"review_type", "urgency", "nurse_recommendation", "received_at", "due_at"}  # words uq itself logs
    free_text = [v for k, v in detail["fields"].items() if k not in enums and isinstance(v, str)]
    for value in [*secrets, *free_text]:
        for piece in re.split(r"[\x00-\x1f\u200b-\u206f\u202e]+", value):
            if len(piece) > 3 and piece.strip() not in ("Dr", "MCG"):
                assert piece not in text, f"log holds case text: {piece!r}"
