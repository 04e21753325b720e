"""`m` on a case: the reviewer's private note, saved, shown on the case, never in the reply."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.tui.conftest import loaded, wait_for
from uq.tui.keymap import resolve_keymap
from uq.tui.screens.case import CaseScreen
from uq.tui.screens.decide import DecisionModal
from uq.tui.screens.note import NoteModal

MARK = "PRIVNOTE-TUI-42"


def test_m_saves_a_note_shown_on_the_case_and_absent_from_the_reply(make_app: Any) -> None:
    app = make_app()
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CaseScreen))
            case_screen = app.screen
            pk = case_screen.case_pk
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, NoteModal))
            await pilot.press(*f"call back after 3 {MARK}")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: app.screen is case_screen)
            assert app.ctx is not None
            ctx = app.ctx
            await wait_for(pilot, lambda: MARK in ctx.store.note(pk, ctx.user))
            await wait_for(
                pilot,
                lambda: case_screen.data is not None
                and any("Private note" in title for title, _ in case_screen.data.sections),
            )
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal))
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")  # shows the reply
            await wait_for(pilot, lambda: isinstance(app.screen, DecisionModal) and app.screen.armed)
            assert MARK not in str(app.screen.query_one("#preview").content)
            await pilot.press("ctrl+s")  # queues it
            await wait_for(pilot, lambda: any(o.case_pk == pk for o in ctx.store.outbox()))
            seen["raws"] = [o.raw for o in ctx.store.outbox() if o.case_pk == pk]

    asyncio.run(main())
    assert seen["raws"] and all(MARK.encode() not in raw for raw in seen["raws"])


def test_m_is_the_note_key_and_clashes_with_nothing() -> None:
    keys = resolve_keymap({})
    assert keys["note"] == "m"
    assert [a for a, k in keys.items() if "m" in k.split(",")] == ["note"]
