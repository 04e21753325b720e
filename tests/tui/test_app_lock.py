"""Idle lock (HIPAA automatic logoff) measured on the injected clock, and its unlock modes."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

from textual.command import CommandPalette

from tests.tui.conftest import loaded, wait_for
from uq.config import SecurityConfig, UiConfig
from uq.queue.clock import FixedClock
from uq.tui.screens.lock import LockScreen


def run(app: Any, body: Any) -> None:
    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            await body(pilot)

    asyncio.run(main())


def screen_text(app: Any) -> str:
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def test_idle_lock_hides_phi_and_any_key_unlocks(make_app: Any, fixed_clock: FixedClock) -> None:
    app = make_app(security=SecurityConfig(lock_after_minutes=10))

    async def body(pilot: Any) -> None:
        fixed_clock.advance(minutes=9, seconds=59)
        app.check_lock()
        assert not isinstance(app.screen, LockScreen)
        await pilot.press("j")  # activity resets the idle timer
        fixed_clock.advance(minutes=9, seconds=59)
        app.check_lock()
        assert not isinstance(app.screen, LockScreen)
        fixed_clock.advance(seconds=2)
        await wait_for(pilot, lambda: isinstance(app.screen, LockScreen))  # the 1 s timer did it
        await pilot.pause(0.1)  # let it paint before the screenshot
        shot = screen_text(app)
        assert not app.screen.is_modal  # opaque: nothing beneath is composited
        assert "curtain, not a lock" in shot  # named for what it is
        for row in app.queue_screen.all_rows:  # no case on screen: IDs, clients, services
            assert row.case_id not in shot and row.service[:20] not in shot
        await pilot.press("space")
        await wait_for(pilot, lambda: app.screen is app.queue_screen)
        assert not app.locked
        # while locked, ctrl+p is just "a key": it unlocks, it never opens the palette over
        # the lock (the palette searches cases)
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, CommandPalette)
        assert app.screen is app.queue_screen

    run(app, body)


def test_lock_off_when_zero(make_app: Any, fixed_clock: FixedClock) -> None:
    app = make_app(security=SecurityConfig(lock_after_minutes=0))

    async def body(pilot: Any) -> None:
        fixed_clock.advance(hours=5)
        app.check_lock()
        await pilot.pause(0.1)
        assert not isinstance(app.screen, LockScreen)

    run(app, body)


def test_password_unlock_uses_the_keyring_passphrase(make_app: Any, fixed_clock: FixedClock) -> None:
    import keyring

    keyring.set_password("uq", "unlock", "correct horse")
    app = make_app(security=SecurityConfig(lock_after_minutes=1, unlock="password"))

    async def body(pilot: Any) -> None:
        await pilot.press("L")  # lock now
        await wait_for(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.press("x", "enter")  # any key does not unlock here
        await wait_for(pilot, lambda: "wrong passphrase" in str(app.screen.query_one("#lock-error").render()))
        assert isinstance(app.screen, LockScreen)
        await pilot.press(*"correct horse", "enter")
        await wait_for(pilot, lambda: app.screen is app.queue_screen)

    run(app, body)


def test_passphrase_lock_guards_start_up_and_quitting_is_no_way_around_it(
    make_app: Any, fixed_clock: FixedClock
) -> None:
    import keyring

    keyring.set_password("uq", "unlock", "correct horse")
    security = SecurityConfig(lock_after_minutes=10, unlock="password")
    first = make_app(security=security)

    async def quit_while_locked() -> None:
        async with first.run_test(size=(120, 40)) as pilot:
            assert isinstance(first.screen, LockScreen) and first.locked  # before anything paints
            await loaded(pilot)
            await pilot.pause(0.1)
            shot = screen_text(first)
            assert "passphrase needed to start" in shot
            for row in first.queue_screen.all_rows:
                assert row.case_id not in shot
            await pilot.press("ctrl+p", "ctrl+l", "j", "enter")  # nothing opens over the lock
            assert isinstance(first.screen, LockScreen)
            await pilot.press("ctrl+q")  # quitting works ...
            await wait_for(pilot, lambda: not first.is_running)

    asyncio.run(quit_while_locked())
    second = make_app(security=security)  # ... and the restart asks again

    async def body(pilot: Any) -> None:
        assert isinstance(second.screen, LockScreen)
        await pilot.press(*"wrong", "enter")
        await wait_for(pilot, lambda: "wrong passphrase" in str(second.screen.query_one("#lock-error").render()))
        await pilot.press(*"correct horse", "enter")
        await wait_for(pilot, lambda: second.screen is second.queue_screen)
        assert not second.locked

    run(second, body)


def test_error_router_toasts_transient_and_modals_actionable(make_app: Any) -> None:
    from uq.errors import ConnectionFailed, CredentialError
    from uq.tui.screens.error import ErrorScreen

    app = make_app(ui=UiConfig(bell=False))

    async def body(pilot: Any) -> None:
        app.report_error(ConnectionFailed("imap.example.test: connection refused"))
        await pilot.pause()
        assert any("connection refused" in str(n.message) for n in app._notifications)
        assert app.screen is app.queue_screen
        app.report_error(CredentialError("IMAP login refused for reviewer: check the password"))
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.pause()
        assert "login refused" in str(app.screen.query_one("#error-message").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.queue_screen)

    run(app, body)
