"""Messages the workers and screens post, so widgets are only touched on the UI thread.

Thread workers call `app.post_message(...)` (thread-safe); handlers run on the event loop.
None of these carry PHI beyond case primary keys and case IDs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from uq.services.context import Context


class ContextReady(Message):
    """The store is open (opened in a worker so the first paint never waits for it)."""

    def __init__(self, ctx: Context, notice: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        self.notice = notice


class ContextFailed(Message):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class SyncStateChanged(Message):
    """From the IMAP watcher: connecting / live / polling / offline / stopped."""

    def __init__(self, state: str, detail: str, at: datetime) -> None:
        super().__init__()
        self.state = state
        self.detail = detail
        self.at = at


class NewCases(Message):
    """A sync batch stored cases: the queue reloads, alerts fire for urgent ones."""

    def __init__(self, new_pks: list[int], urgent_pks: list[int], updated_pks: list[int]) -> None:
        super().__init__()
        self.new_pks = new_pks
        self.urgent_pks = urgent_pks
        self.updated_pks = updated_pks


class OutboxResult(Message):
    def __init__(self, sent: int, failed: int, errors: list[str]) -> None:
        super().__init__()
        self.sent = sent
        self.failed = failed
        self.errors = errors


class CaseChanged(Message):
    """A case was decided, undone, called or opened: the queue reloads and keeps its place."""

    def __init__(self, case_pk: int) -> None:
        super().__init__()
        self.case_pk = case_pk


class QueueChanged(Message):
    """Something changed the queue as a whole: reload it."""


class ErrorRaised(Message):
    """An error from a worker thread, routed through `app.report_error` on the UI thread."""

    def __init__(self, error: BaseException, context: Any = None) -> None:
        super().__init__()
        self.error = error
        self.context = context
