"""Issue 11 in the TUI: hostile case emails (the same bytes the Dovecot test delivers, through
the real parser and ingest) drawn with placeholders in the queue, the case screen and the
raw view; the urgent and warning notifications and the `[/]` filter do not kill the app."""

from __future__ import annotations

import asyncio
import heapq
import unicodedata
from datetime import timedelta
from typing import Any

from textual.widgets import Input

from tests.e2e.hostile_mail import case_email
from tests.tui.conftest import wait_for
from tests.tui.test_app_lock import screen_text
from uq.config import SecurityConfig
from uq.mail.imap import FetchedMessage
from uq.queue.clock import FixedClock
from uq.services.sync import ingest_batch
from uq.tui.messages import NewCases
from uq.tui.widgets.case_view import CaseView


def run(app: Any, body: Any) -> None:
    """As test_app_lock.run, with waits long enough for a machine busy with other tests."""

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.ctx is not None and app.queue_screen.loaded, timeout=30)
            await pilot.pause()
            await body(pilot)

    asyncio.run(main())


def drawn_safe(text: str, what: str) -> None:
    bad = [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]
    assert not bad, f"{what}: {[hex(ord(c)) for c in bad[:5]]}"


def test_hostile_cases_draw_with_placeholders_and_alerts_survive(make_app: Any, fixed_clock: FixedClock) -> None:
    app = make_app(security=SecurityConfig(lock_after_minutes=0))  # the clock jumps ahead: no idle lock

    async def body(pilot: Any) -> None:
        screen = app.queue_screen
        msgs = [
            FetchedMessage(901, fixed_clock(), case_email(1, urgent=True), ()),
            FetchedMessage(902, fixed_clock(), case_email(2, urgent=False), ()),
        ]
        summary, _ = ingest_batch(app.ctx, "INBOX", 7, msgs)
        assert len(summary.new_case_pks) == 2 and summary.urgent_case_pks
        app.post_message(NewCases(summary.new_case_pks, summary.urgent_case_pks, []))  # as the watcher does
        await wait_for(pilot, lambda: any("[/]" in r.case_id for r in screen.queue_list.rows), timeout=30)
        await wait_for(pilot, lambda: any("New urgent case" in str(n.message) for n in app._notifications), timeout=30)
        urgent = next(n for n in app._notifications if "New urgent case" in str(n.message))
        assert "UM-2026-[/]7⟨ZWSP⟩⟨RLO⟩␛[8m1" in str(urgent.message) and not urgent.markup
        await pilot.pause()

        # the queue: every drawn line is plain, the hostile IDs are marked and told apart
        ql = screen.queue_list
        lines = [ql.render_line(y).text for y in range(ql.size.height)]
        drawn_safe("\n".join(lines), "queue list")
        hostile = [ln for ln in lines if "␛[8m" in ln]  # the ID is cut in the middle: its end shows
        assert len(hostile) == 2 and hostile[0] != hostile[1] and all("!" in ln for ln in hostile)
        drawn_safe(screen_text(app), "whole queue screen")

        # the warning alert for a `[/`-bearing case
        pk = summary.new_case_pks[1]
        row = next(r for r in screen.all_rows if r.pk == pk)
        heapq.heappush(screen._warn_heap, (row.warning_at, pk))
        fixed_clock.now = row.warning_at + timedelta(seconds=1)
        screen._tick()
        warned = lambda: any("is now in warning" in str(n.message) for n in app._notifications)  # noqa: E731
        await wait_for(pilot, warned, timeout=30)
        await pilot.pause()
        drawn_safe(screen_text(app), "screen with toasts")

        # the filter, with markup typed into it
        await pilot.press("slash")
        box = screen.query_one("#filter", Input)
        await wait_for(pilot, lambda: app.focused is box, timeout=30)
        await pilot.press("left_square_bracket", "slash", "right_square_bracket")
        await wait_for(pilot, lambda: screen.filter_text == "[/]", timeout=30)
        assert {r.pk for r in ql.rows} == set(summary.new_case_pks)
        assert "filter “[/]”" in screen_text(app)
        await pilot.press("escape")

        # the case screen and its raw view
        assert ql.select_pk(pk)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen.query(CaseView).first(None), CaseView), timeout=30)
        view = app.screen.query_one(CaseView)
        await wait_for(pilot, lambda: " Clinical summary " in view.text, timeout=30)
        assert "␛]52;c;" in view.text and "⟨RLO⟩evil" in view.text and "[@click=app.quit]" in view.text
        drawn_safe(view.text, "case view")
        drawn_safe(screen_text(app), "case screen")
        await pilot.press("r")
        await wait_for(pilot, lambda: view.showing_raw and "Message-ID" in view.text, timeout=30)
        assert "␛]0;pwned-title␇" in view.text and "\\x9b2J" in view.text
        drawn_safe(view.text, "raw view")
        drawn_safe(screen_text(app), "raw screen")
        assert app.is_running

        # the palette searched with markup typed: case IDs are drawn as text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press("left_square_bracket", "slash")
        await pilot.pause(0.5)
        drawn_safe(screen_text(app), "palette")
        assert app.is_running

    run(app, body)


LOOKALIKE = (
    "From: Intake <intake@um.example-um.com>\r\nTo: dr@example.org\r\n"
    "Subject: UM Review Request - Case #{cid}\r\nDate: Sun, 29 Nov 2026 08:29:00 -0500\r\n"
    "Message-ID: <look-{n}@example-um.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Case ID: {cid}\r\nUrgency: Standard\r\nReview Type: Prospective\r\nRequested Service: MRI\r\n"
)


def test_lookalike_ids_are_flagged_on_both_rows(make_app: Any, fixed_clock: FixedClock) -> None:
    app = make_app(security=SecurityConfig(lock_after_minutes=0))
    latin, cyrillic = "UM-2026-555001", "U\u041c-2026-555001"

    async def body(pilot: Any) -> None:
        from uq.services.queries import id_problem_map

        msgs = [
            FetchedMessage(950 + n, fixed_clock(), LOOKALIKE.format(cid=cid, n=n).encode(), ())
            for n, cid in enumerate((latin, cyrillic))
        ]
        summary, _ = ingest_batch(app.ctx, "INBOX", 7, msgs)
        assert len(summary.new_case_pks) == 2
        app.queue_screen.reload()
        rows = lambda: [r for r in app.queue_screen.all_rows if r.pk in summary.new_case_pks]  # noqa: E731
        await wait_for(pilot, lambda: len(rows()) == 2, timeout=30)
        assert all(r.problems for r in rows()), "both twins carry the problem flag"
        assert {r.shown_id for r in rows()} == {latin, "U⟨cyrillic \u041c⟩-2026-555001"}
        cases = [app.ctx.store.case(pk) for pk in summary.new_case_pks]
        found = id_problem_map(app.ctx, [c for c in cases if c is not None])
        assert all(any("looks like another open case" in p for p in found[pk]) for pk in summary.new_case_pks)

    run(app, body)
