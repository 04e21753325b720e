"""The idle screen (HIPAA automatic logoff, 45 CFR 164.312(a)(2)(iii)).

An opaque full screen with no PHI on it: nothing beneath shows through, and while it is up
the App refuses every other action but quitting (no palette, no case search).

`security.unlock = "curtain"` (the default; "key" is its older name) is a screen curtain,
not a lock: any key shows the screen again, and it says so. `"password"` is a lock: a
passphrase kept in the OS keyring (service "uq", name "unlock"; `keyring set uq unlock`),
asked for at start-up too, so quitting and starting again is no way around it. uq does not
check the OS account password: Python 3.13 dropped `crypt`/`spwd` and PAM needs a native
module and often root, so a keyring passphrase is the honest, portable option.
"""

from __future__ import annotations

import hmac
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from uq.secrets import unlock_passphrase


class LockScreen(Screen[None]):
    BINDINGS: ClassVar[list[Binding]] = []  # type: ignore[assignment]
    DEFAULT_CSS = """
    LockScreen { align: center middle; background: $background; }
    LockScreen Vertical { width: 60; height: auto; border: heavy $primary; padding: 1 2; }
    LockScreen #lock-title { text-style: bold; content-align: center middle; width: 100%; }
    LockScreen #lock-hint {
        color: $text-muted; margin-top: 1; width: 100%; content-align: center middle;
    }
    LockScreen #lock-error { color: $error; }
    """

    def __init__(self, unlock: str = "curtain", *, at_start: bool = False) -> None:
        super().__init__()
        self.unlock = unlock
        self.at_start = at_start

    def compose(self) -> ComposeResult:
        with Center(), Vertical():
            if self.unlock == "password":
                why = "passphrase needed to start" if self.at_start else "locked after inactivity"
                yield Static(f"uq is locked · {why}", id="lock-title")
                yield Input(password=True, placeholder="unlock passphrase", id="lock-password")
                yield Static("", id="lock-error")
                yield Static("enter to unlock · ctrl+q quits (a restart asks again)", id="lock-hint")
            else:
                yield Static("screen hidden (curtain, not a lock)", id="lock-title")
                yield Static("hidden after inactivity · any key shows it again", id="lock-hint")

    def on_mount(self) -> None:
        if self.unlock == "password":
            self.query_one(Input).focus()

    def on_key(self, event: events.Key) -> None:
        if self.unlock != "password":
            event.stop()
            event.prevent_default()
            self.dismiss(None)

    @on(Input.Submitted, "#lock-password")
    def _submitted(self, event: Input.Submitted) -> None:
        self._verify(event.value)
        event.input.value = ""

    @work(thread=True, exclusive=True, group="unlock")
    def _verify(self, attempt: str) -> None:
        try:
            secret = unlock_passphrase()
        except Exception as exc:
            self.app.call_from_thread(self._show_error, f"keyring unavailable: {type(exc).__name__}")
            return
        if secret is None:
            self.app.call_from_thread(
                self._show_error, "no unlock passphrase set: run `keyring set uq unlock`, or ctrl+q"
            )
        elif attempt and hmac.compare_digest(attempt.encode(), secret.encode()):
            self.app.call_from_thread(self.dismiss, None)
        else:
            self.app.call_from_thread(self._show_error, "wrong passphrase")

    def _show_error(self, text: str) -> None:
        self.query_one("#lock-error", Static).update(text)
