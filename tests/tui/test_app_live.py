"""The App in run mode against a real Dovecot: a case arriving by IDLE shows up while the
app runs, and an IMAP outage is shown (offline) and recovered (live, new mail arrives)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from tests.fixtures.env import write_config
from tests.tui.conftest import wait_for
from uq.config import load_config
from uq.tui.app import UqApp
from uq.tui.launch import run_opener


def case_email(case_id: str, urgent: bool = True) -> bytes:
    now = datetime.now(UTC)
    return (
        f"From: Nurse Example <rn@um.example.com>\r\n"
        f"To: reviewer@example.test\r\n"
        f"Subject: UM Review Request - Case #{case_id} - {'EXPEDITED' if urgent else 'Standard'}\r\n"
        f"Date: {format_datetime(now)}\r\n"
        f"Message-ID: <{case_id}@um.example.com>\r\n"
        f"\r\n"
        f"Case ID: {case_id}\r\n"
        f"Review Type: Prospective\r\n"
        f"Urgency: {'Expedited' if urgent else 'Standard'}\r\n"
        f"Client: Example Health Plan\r\n"
        f"Member Name: Pat Example\r\n"
        f"Requested Service: CPT 72148 MRI lumbar spine\r\n"
        f"Nurse Recommendation: Deny - criteria not met\r\n"
    ).encode()


def live_app(tmp_path: Path, dovecot: Any) -> UqApp:
    cfg = load_config(write_config(tmp_path, dovecot=dovecot, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
                                   ui={"bell": False}))
    return UqApp(cfg, opener=run_opener(cfg, datetime_now))


def datetime_now() -> datetime:
    return datetime.now(UTC)


def case_ids(app: UqApp) -> list[str]:
    return [r.case_id for r in app.queue_screen.all_rows]


def test_new_case_arrives_through_idle_while_the_app_runs(tmp_path: Path, uq_home: Any, dovecot: Any) -> None:
    app = live_app(tmp_path, dovecot)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            status = app.queue_screen.status
            await wait_for(pilot, lambda: status.info.sync == "live", timeout=20)
            assert status.info.last_sync is not None
            dovecot.append(case_email("UM-2026-900001"))
            await wait_for(pilot, lambda: "UM-2026-900001" in case_ids(app), timeout=15)
            assert "UM-2026-900001" in [r.case_id for r in app.queue_screen.queue_list.rows]
            await wait_for(pilot, lambda: any("New urgent case UM-2026-900001" in str(n.message)
                                              for n in app._notifications))

    asyncio.run(main())


def test_imap_outage_is_shown_and_recovered(tmp_path: Path, uq_home: Any, dovecot_fn: Any) -> None:
    dovecot = dovecot_fn
    app = live_app(tmp_path, dovecot)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            status = app.queue_screen.status
            await wait_for(pilot, lambda: status.info.sync == "live", timeout=20)
            dovecot.kill()
            await wait_for(pilot, lambda: status.info.sync == "offline", timeout=30)
            assert "offline" in str(status.render())
            assert any("mail offline" in str(n.message) for n in app._notifications)
            dovecot.start()
            await wait_for(pilot, lambda: status.info.sync == "live", timeout=40)
            dovecot.append(case_email("UM-2026-900002", urgent=False))
            await wait_for(pilot, lambda: "UM-2026-900002" in case_ids(app), timeout=15)

    asyncio.run(main())
