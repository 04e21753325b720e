"""Asked on quit while replies are still held or queued: a reply left on hold when the app
closes would wait, unsent, until uq next runs, and the nurse's clock keeps running."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from uq.textsafe import safe_line

if TYPE_CHECKING:
    from uq.services.outbox import PendingReply

QuitChoice = Literal["send", "wait", "cancel"]


def describe(reply: PendingReply, now: datetime) -> str:
    """'NS-118204 deny · held 14 s' - one reply as the prompt and the status line name it."""
    left = max(0, int((reply.not_before - now).total_seconds()))
    when = f"held {left} s" if reply.state.value == "held" else reply.state.value
    return f"{safe_line(reply.case_id)} {reply.outcome} · {when}"


class QuitScreen(ModalScreen[QuitChoice]):
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("s", "choose('send')", "Send now and quit"),
        Binding("w", "choose('wait')", "Quit once sent"),
        Binding("escape,c", "choose('cancel')", "Cancel quit"),
    ]
    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical {
        width: 72; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    QuitScreen #quit-title { text-style: bold; }
    QuitScreen #quit-keys { margin-top: 1; }
    """

    def __init__(self, replies: list[PendingReply], now: datetime) -> None:
        super().__init__()
        self.replies = replies
        self.now = now

    def compose(self) -> ComposeResult:
        n = len(self.replies)
        with Vertical():
            yield Static(f"{n} repl{'y has' if n == 1 else 'ies have'} not been sent yet", id="quit-title")
            lines = Text("\n".join(describe(r, self.now) for r in self.replies[:8]))
            if n > 8:
                lines.append(f"\n… and {n - 8} more")
            yield Static(lines, id="quit-list")
            yield Static(
                Text("s  send now, then quit\nw  wait: quit by itself once they have left\nesc  cancel quit"),
                id="quit-keys",
            )

    def action_choose(self, choice: QuitChoice) -> None:
        self.dismiss(choice)
