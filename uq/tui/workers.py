"""The long-running background loops: the IMAP watcher and the outbox sender.

Each runs `uq.services` blocking code in its own daemon thread and reports only through
`app.post_message` (thread-safe), so widgets are touched on the UI thread alone. Daemon
threads rather than Textual's executor workers: quitting must not wait for an IDLE slice
to end, and both loops are crash-safe by design (a killed send is leased and resent once,
an interrupted ingest re-fetches).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App

from uq.tui.messages import ErrorRaised, NewCases, OutboxResult, SyncStateChanged

if TYPE_CHECKING:
    from uq.services.context import Context
    from uq.services.outbox import SendSummary
    from uq.services.sync import SyncSummary
    from uq.tui.app import Opened


class Background:
    def __init__(self, app: App[int], *, sender_interval: float = 1.0) -> None:
        self.app = app
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.sender_interval = sender_interval

    def start(self, opened: Opened) -> None:
        if opened.sync:
            self._spawn("uq-sync", lambda: self._sync(opened.ctx))
        if opened.send:
            self._spawn("uq-outbox", lambda: self._send(opened))

    def stop(self, join_seconds: float = 0.5) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(join_seconds)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                target()
            except Exception as exc:
                self.app.post_message(ErrorRaised(exc))

        t = threading.Thread(target=guarded, name=name, daemon=True)
        self.threads.append(t)
        t.start()

    def _sync(self, ctx: Context) -> None:
        from uq.services import sync

        def on_batch(s: SyncSummary) -> None:
            self.app.post_message(NewCases(list(s.new_case_pks), list(s.urgent_case_pks), list(s.updated_case_pks)))

        def on_state(state: str, detail: str) -> None:
            self.app.post_message(SyncStateChanged(state, detail, ctx.clock()))

        sync.watch(ctx, self.stop_event, on_batch=on_batch, on_state=on_state)

    def _send(self, opened: Opened) -> None:
        from uq.services import outbox

        def on_result(s: SendSummary) -> None:
            self.app.post_message(OutboxResult(s.sent, s.failed, list(s.errors)))

        kwargs = {"transport": opened.transport} if opened.transport is not None else {}
        outbox.run_sender(opened.ctx, self.stop_event, on_result, interval=self.sender_interval, **kwargs)
