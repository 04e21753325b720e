"""Mail that made no change to the queue on its own: the set-aside list (quarantined and
not-case emails, `I` on the queue) and the confirmation before an unverified update
(a follow-up from someone other than the case's sender) is accepted (`V` on a case)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from uq.textsafe import safe_line
from uq.tui.screens.decide import app_ctx, report

if TYPE_CHECKING:
    from uq.services.queries import RawMessageInfo


class SetAsideScreen(ModalScreen[None]):
    """What sync kept but did not queue, newest first, with the reason for each."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape,q,I", "close", "Close"),
    ]
    DEFAULT_CSS = """
    SetAsideScreen { align: center middle; }
    SetAsideScreen > VerticalScroll {
        width: 96%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []  # as shown, once loaded

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Loading…", id="set-aside", markup=False)

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="set-aside")
    def _load(self) -> None:
        from uq.services.queries import set_aside

        try:
            rows = set_aside(app_ctx(self.app))
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[RawMessageInfo]) -> None:
        tz = self.app.config.tz  # type: ignore[attr-defined]
        table = Table(
            title="Mail set aside (not in the queue) · `uq quarantine --all` lists it too",
            expand=True,
            show_edge=False,
            pad_edge=False,
        )
        for name in ("kind", "received", "from", "subject", "reason"):
            table.add_column(name, no_wrap=name != "subject", overflow="ellipsis")
        for m in rows:
            when = (m.internaldate or m.ingested_at).astimezone(tz)
            kind = "quarantined" if m.kind == "quarantined" else "not a case"
            row = (kind, f"{when:%m/%d %H:%M}", safe_line(m.sender), safe_line(m.subject), safe_line(m.reason or ""))
            self.rows.append(row)
            table.add_row(*(Text(cell) for cell in row))  # Text: a Table parses str cells as markup
        if not rows:
            table.add_row("", "", "", "nothing set aside: every email became a case or an update", "")
        self.query_one("#set-aside", Static).update(table)

    def action_close(self) -> None:
        self.dismiss(None)


class AcceptUpdateModal(ModalScreen[bool]):
    """The reviewer vouches for a sender sync could not: says who, and what it changes."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("y", "answer(True)", "Accept"),
        Binding("n,escape", "answer(False)", "Keep unverified"),
    ]
    DEFAULT_CSS = """
    AcceptUpdateModal { align: center middle; }
    AcceptUpdateModal > Vertical {
        width: 76; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    AcceptUpdateModal #accept-title { text-style: bold; color: $warning; }
    """

    def __init__(self, case_id: str, raw_pk: int, sender: str, subject: str) -> None:
        super().__init__()
        self.lines = (
            f"Accept update #{raw_pk} on {case_id}?",
            f"From {sender}, not the case's sender. Subject: {subject}",
            "Every field it carries will replace the case's (urgency, recommendation, service, "
            "member...), and its clocks are recomputed.",
            "y accept · n / esc keep it unverified",
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe_line(self.lines[0]), id="accept-title", markup=False)
            for line in self.lines[1:]:
                yield Static(safe_line(line), markup=False)

    def action_answer(self, accept: bool) -> None:
        self.dismiss(accept)
