"""The reviewer's private note on a case (`m`): shown on the case, never sent."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static, TextArea

from uq.errors import UqError
from uq.textsafe import safe_line
from uq.tui.messages import CaseChanged
from uq.tui.screens.decide import CaseModal, app_ctx, report


class NoteModal(CaseModal["str | None"]):
    DEFAULT_CSS = """
    NoteModal { align: center middle; }
    NoteModal > #dialog {
        width: 80; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    NoteModal #title { text-style: bold; }
    NoteModal TextArea { height: 8; margin-top: 1; }
    NoteModal #keys { margin-top: 1; color: $text-muted; }
    NoteModal #messages { height: auto; }
    """

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("ctrl+s", "confirm", "Save note", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Private note — never sent, only you see it", id="title", markup=False)
            yield TextArea(id="note")
            yield Static("", id="messages", markup=False)
            yield Static("ctrl+s save (empty clears it) · esc cancel", id="keys", markup=False)

    def on_mount(self) -> None:
        self.query_one("#note", TextArea).focus()
        self._load()
        self._load_note()

    @work(thread=True, exclusive=True, group="note-load")
    def _load_note(self) -> None:
        from uq.services import notes

        try:
            text = notes.note(app_ctx(self.app), self.case_pk)
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        self.app.call_from_thread(self._note_loaded, text)

    def _note_loaded(self, text: str) -> None:
        area = self.query_one("#note", TextArea)
        if not area.text:
            area.text = text

    def action_confirm(self) -> None:
        if self.busy:
            return
        self.busy = True
        self._submit(self.query_one("#note", TextArea).text)

    @work(thread=True, exclusive=True, group="note-save")
    def _submit(self, text: str) -> None:
        from uq.services import notes

        try:
            kept = notes.set_note(app_ctx(self.app), self.case_pk, text)
        except UqError as exc:
            self.app.call_from_thread(self._refused, str(exc))
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
        else:
            self.app.call_from_thread(self._saved, kept)

    def _refused(self, message: str) -> None:
        self.busy = False
        self.query_one("#messages", Static).update(Text(f"✗ {safe_line(message)}", style="bold red"))

    def _saved(self, text: str) -> None:
        self.app.notify(f"{self.case_label}: private note {'saved' if text else 'cleared'}")
        self.app.post_message(CaseChanged(self.case_pk))
        self.dismiss(text)
