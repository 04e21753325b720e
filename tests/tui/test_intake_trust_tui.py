"""Set-aside mail and unverified updates in the real App (demo store, fixed clock): the
status bar counts quarantined and set-aside emails and `I` lists them; a follow-up from a
stranger shows on the case and changes nothing until `V` and a confirmation."""

from __future__ import annotations

from typing import Any

from tests.tui.case_host import settle, sync
from tests.tui.conftest import loaded, wait_for
from uq.domain import Urgency
from uq.mail.imap import FetchedMessage
from uq.services.sync import ingest_batch
from uq.tui.messages import QueueChanged
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.intake import AcceptUpdateModal, SetAsideScreen
from uq.tui.widgets.case_view import CaseView


def _forged(msgid: str) -> bytes:
    return (
        "From: Someone Else <someone@elsewhere.example>\r\nSubject: RE: corrected packet\r\n"
        f"Message-ID: <forged-tui@elsewhere.example>\r\nIn-Reply-To: {msgid}\r\n\r\n"
        "Urgency: Standard\r\nMember: John Other\r\n"
    ).encode()


def _urgency(ctx: Any, pk: int) -> Urgency | None:
    c = ctx.store.case(pk)
    return c.fields.urgency if c is not None else None


NOT_CASE = b"From: News <news@list.example>\r\nSubject: Weekly digest\r\nList-Id: <l.example>\r\n\r\nHello\r\n"
BROKEN = b"From: x@y.example\r\nContent-Type: multipart/mixed\r\nSubject: broken\r\n\r\nno boundary\r\n"


@sync
async def test_status_counts_set_aside_and_unverified_updates(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        ctx = app.ctx
        assert ctx is not None
        case = next(c for c in ctx.store.cases() if c.message_id and c.fields.urgency is Urgency.URGENT)
        now = ctx.clock()
        msgs = [FetchedMessage(i, now, raw, ()) for i, raw in enumerate([_forged(case.message_id or ""), NOT_CASE,
                                                                      BROKEN], start=1)]
        summary, _ = ingest_batch(ctx, "INBOX-TUI", 1, msgs)
        assert (summary.unverified, summary.not_cases, summary.quarantined) == (1, 1, 1)
        app.post_message(QueueChanged())
        status = app.queue_screen.status
        await wait_for(pilot, lambda: "1 quarantined 1 set aside (I)" in str(status.render_info()))

        await pilot.press("I")
        await wait_for(pilot, lambda: isinstance(app.screen, SetAsideScreen))
        listing = app.screen
        assert isinstance(listing, SetAsideScreen)
        await wait_for(pilot, lambda: len(listing.rows) == 2)
        assert {(r[0], r[3]) for r in listing.rows} == {("not a case", "Weekly digest"), ("quarantined", "broken")}
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetAsideScreen))

        app.queue_screen.queue_list.select_pk(case.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.data is not None)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        text = screen.query_one(CaseView).text
        assert "Unverified updates" in text and "someone@elsewhere.example" in text
        assert screen.data is not None and screen.data.headline.startswith("urgent")
        await pilot.press("V")
        await wait_for(pilot, lambda: isinstance(app.screen, AcceptUpdateModal))
        await pilot.press("n")  # kept unverified: nothing changes
        await settle(pilot)
        assert _urgency(ctx, case.id) is Urgency.URGENT
        await pilot.press("V")
        await wait_for(pilot, lambda: isinstance(app.screen, AcceptUpdateModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: _urgency(ctx, case.id) is Urgency.STANDARD)
        await wait_for(pilot, lambda: screen.data is not None and not screen.data.unverified)
        got = ctx.store.case(case.id)
        assert got is not None and got.fields.member_name == "John Other"
        assert "Unverified updates" not in screen.query_one(CaseView).text
