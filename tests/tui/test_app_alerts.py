"""Alerts: a toast, the bell and the configured hook (case ID only) when a case crosses into
warning and when a new urgent case arrives."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.tui.conftest import wait_for
from tests.tui.test_app_lock import run
from uq.config import HooksConfig, UiConfig
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services.sync import ingest_batch
from uq.tui.messages import NewCases

RECORD = "import sys, pathlib; p = pathlib.Path(sys.argv[1]); p.write_text(p.read_text() + sys.argv[-1] + '\\n')"

URGENT = (
    b"From: Intake <intake@um.example-um.com>\r\nTo: dr@example.org\r\n"
    b"Subject: UM Review Request - Case #UM-2026-009999 - EXPEDITED - CT head\r\n"
    b"Date: Sun, 29 Nov 2026 08:29:00 -0500\r\nMessage-ID: <alert-9999@example-um.com>\r\n\r\n"
    b"Case ID: UM-2026-009999\r\nUrgency: Expedited\r\nReview Type: Prospective\r\nMember: Test Person\r\n"
    b"Requested Service: CPT 70450 CT head\r\nNurse Recommendation: Approve\r\n"
)


def _hook(path: Path) -> list[str]:
    path.write_text("")
    return [sys.executable, "-c", RECORD, str(path)]


def test_crossing_into_warning_toasts_rings_and_runs_the_hook(
    make_app: Any, fixed_clock: FixedClock, tmp_path: Path
) -> None:
    log = tmp_path / "warn.log"
    app = make_app(ui=UiConfig(bell=True), hooks=HooksConfig(on_warning=_hook(log)))
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]

    async def body(pilot: Any) -> None:
        screen = app.queue_screen
        upcoming = sorted((r.warning_at, r.case_id) for r in screen.all_rows if r.warning_at > fixed_clock())
        when, case_id = upcoming[0]
        fixed_clock.now = when + timedelta(seconds=1)
        screen._tick()
        await wait_for(pilot, lambda: case_id in log.read_text())
        assert any(f"{case_id} is now in warning" in str(n.message) for n in app._notifications)
        assert bells, "the terminal bell rang"
        assert log.read_text().split() == [case_id], "the hook gets the case ID only, once"

    run(app, body)


def test_a_new_urgent_case_alerts_with_the_hook(make_app: Any, fixed_clock: FixedClock, tmp_path: Path) -> None:
    log = tmp_path / "new.log"
    app = make_app(ui=UiConfig(bell=False), hooks=HooksConfig(on_new_case=_hook(log)))

    async def body(pilot: Any) -> None:
        summary, _ = ingest_batch(app.ctx, "INBOX", 7, [FetchedMessage(1, fixed_clock(), URGENT, ())])
        assert summary.urgent_case_pks
        app.post_message(NewCases(summary.new_case_pks, summary.urgent_case_pks, []))  # as the watcher does
        await wait_for(pilot, lambda: "UM-2026-009999" in log.read_text())
        assert any("New urgent case UM-2026-009999" in str(n.message) for n in app._notifications)
        await wait_for(pilot, lambda: any(r.case_id == "UM-2026-009999" for r in app.queue_screen.queue_list.rows))

    run(app, body)
