"""A modal for errors the reviewer has to act on (a refused password, a bad setting).

Transient faults are toasts; this one stays until dismissed, because the fix is elsewhere
(the keyring, the config file) and the message must be read."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from uq.logfile import log_path
from uq.textsafe import safe_block, safe_line


class ErrorScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape,enter,space", "dismiss_error", "Dismiss"),
    ]
    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen > Vertical {
        width: 72; height: auto; border: thick $error; background: $surface; padding: 1 2;
    }
    ErrorScreen #error-title { text-style: bold; color: $error; }
    ErrorScreen #error-hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, message: str, title: str = "Needs your attention") -> None:
        super().__init__()
        self.message = message
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe_line(self.title_text), id="error-title", markup=False)
            yield Static(safe_block(self.message), id="error-message", markup=False)
            yield Static(f"enter / esc to dismiss · log: {log_path()}", id="error-hint", markup=False)

    def action_dismiss_error(self) -> None:
        self.dismiss(None)
