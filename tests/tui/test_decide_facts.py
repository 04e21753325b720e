"""The decision modal states only what was recorded, through the pilot with replies sent to a
real aiosmtpd: an unopened case is refused, the PDF must be opened (`o`) before the reply
says every record was reviewed, and a case outside the reviewer's specialty needs the
confirmation and then never claims the same specialty."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from tests.corpus_loader import CORPUS_DIR
from tests.fixtures.env import UqHome, write_config
from tests.fixtures.smtp import SmtpServer
from tests.tui.case_host import Host, open_modal, pk_of, settle, sync
from tests.tui.test_decide_flow import tick_first_criterion
from uq.config import load_config
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services import outbox
from uq.services import sync as sync_service
from uq.services.context import Context
from uq.services.demo import load_demo
from uq.tui.screens.decide import DecisionModal
from uq.tui.widgets.rationale import RationaleEditor

ALL_RECORDS = "I reviewed all the records submitted with this case."
LICENCE = "Licence: NY; licence no. NY-123456"
WHY = (
    "Records show three weeks of symptoms with two weeks of NSAIDs and no physical therapy; "
    "the criterion requires six weeks of conservative care, none documented here."
)


def _ctx(tmp_path: Path, clock: FixedClock, smtp: SmtpServer, **reviewer: Any) -> Context:
    path = write_config(
        tmp_path,
        smtp=smtp,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        reviewer={"phone": "(555) 010-7000", "license_states": ["NY"], "license_number": "NY-123456", **reviewer},
    )
    return Context.open(load_config(path), clock=clock)


def _sent_body(ctx: Context, smtp: SmtpServer, clock: FixedClock) -> str:
    clock.advance(seconds=60)  # past any hold
    before = len(smtp.messages)
    assert outbox.send_due(ctx).sent >= 1
    assert len(smtp.messages) > before
    msg = email.message_from_bytes(smtp.messages[-1].raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr,no-any-return]


def _preview(app: Host) -> str:
    return str(app.screen.query_one("#preview", Static).content)


def _messages(app: Host) -> str:
    return str(app.screen.query_one("#messages", Static).content)


async def _ctrl_s(pilot: Any) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


@sync
async def test_an_unopened_case_is_refused_with_a_notice(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock, smtp_server: SmtpServer
) -> None:
    ctx = _ctx(tmp_path, fixed_clock, smtp_server)
    load_demo(ctx)
    pk = pk_of(ctx, "ACR-77305")
    app = Host(ctx, fixed_clock)  # no case screen: as if `a` were pressed on the queue row
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(DecisionModal(pk, DecisionModal.for_action(pk, "approve").outcome))
        await settle(pilot)
        assert not isinstance(app.screen, DecisionModal)
        assert any("ACR-77305 was never opened" in n.message for n in app._notifications)
    assert ctx.store.decisions(pk) == []
    assert [o for o in ctx.store.outbox() if o.case_pk == pk] == []
    ctx.close()


@pytest.mark.parametrize("open_pdf", [False, True])
@sync
async def test_the_full_review_is_claimed_only_once_the_pdf_was_opened(
    open_pdf: bool,
    uq_home: UqHome,
    tmp_path: Path,
    fixed_clock: FixedClock,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("uq.tui.screens.case.viewer_command", lambda: None)  # `o` shows the text in uq
    ctx = _ctx(tmp_path, fixed_clock, smtp_server)
    load_demo(ctx)
    pk = pk_of(ctx, "ACR-77310")  # the PDF packet
    app = Host(ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        if open_pdf:
            await pilot.press("o")
            await settle(pilot)
            assert app.screen.view.showing_raw  # type: ignore[attr-defined]
        modal = await open_modal(pilot, "a")
        assert isinstance(modal, DecisionModal)
        facts = str(modal.query_one("#facts", Static).content)
        assert f"attachments {int(open_pdf)}/1" in facts
        assert modal.query_one("#attest").display is not open_pdf
        await _ctrl_s(pilot)
        assert (ALL_RECORDS in _preview(app)) is open_pdf
        assert LICENCE in _preview(app)
        await _ctrl_s(pilot)
        assert not isinstance(app.screen, DecisionModal)
    body = _sent_body(ctx, smtp_server, fixed_clock)
    assert (ALL_RECORDS in body) is open_pdf
    assert ("I reviewed the case packet." in body) is not open_pdf
    assert LICENCE in body
    ctx.close()


@sync
async def test_cardiology_case_by_a_family_medicine_reviewer(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock, smtp_server: SmtpServer
) -> None:
    ctx = _ctx(tmp_path, fixed_clock, smtp_server, specialty="Family Medicine")
    raw = (CORPUS_DIR / "01-example-text.eml").read_bytes()
    raw = raw.replace(b"Alan Smith, MD (Orthopedic Surgery)", b"Alan Smith, MD (Cardiology)")
    sync_service.ingest_batch(ctx, "INBOX", 1, [FetchedMessage(1, fixed_clock(), raw, ())])
    pk = pk_of(ctx, "UM-2026-004512")
    app = Host(ctx, fixed_clock, open_pk=pk)
    async with app.run_test(size=(120, 40)) as pilot:
        modal = await open_modal(pilot, "d")
        assert isinstance(modal, DecisionModal)
        assert "Case specialty: Cardiology  — outside yours" in str(modal.query_one("#facts", Static).content)
        modal.query_one(RationaleEditor).load_text(WHY)
        ticked = tick_first_criterion(modal)
        await _ctrl_s(pilot)
        assert "specialty (Cardiology) is outside yours (Family Medicine" in _messages(app)
        assert "Confirm: ctrl+s again sends it anyway" in _messages(app)
        assert "same or a similar specialty" not in _preview(app)
        assert ctx.store.decisions(pk) == []
        await _ctrl_s(pilot)
        assert not isinstance(app.screen, DecisionModal)
    body = _sent_body(ctx, smtp_server, fixed_clock)
    assert "Decision: DENY" in body and f"- {ticked}" in body
    assert "same or a similar specialty" not in body
    assert LICENCE in body
    assert "To discuss this determination, call (555) 010-7000" in body
    decided = [e.detail for e in ctx.store.audit_entries(case_pk=pk) if e.action == "decided"]
    assert "confirmed outside specialty" in decided[0]
    ctx.close()
