"""The App: holds config, clock and context, routes errors, locks when idle. Thin on purpose:
the queue and case screens own their workflows.

Start-up order keeps the first paint fast: the queue screen shows at once (no SQLAlchemy
imported), a thread worker opens the store through the `opener` launch.py supplied, and
the rows arrive as a message.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel

from uq.config import Config
from uq.errors import ConfigError, CredentialError, UqError
from uq.queue.active import ActiveTime
from uq.queue.clock import Clock, system_clock
from uq.textsafe import safe_block, safe_line
from uq.tui.keymap import binding, resolve_keymap
from uq.tui.messages import (
    CaseChanged,
    ContextFailed,
    ContextReady,
    ErrorRaised,
    NewCases,
    OutboxResult,
    QueueChanged,
    SyncStateChanged,
)
from uq.tui.palette import UqCommands
from uq.tui.rows import QueueRow as QueueRowLike
from uq.tui.rows import resolve_views
from uq.tui.themes import apply_theme
from uq.tui.workers import Background

if TYPE_CHECKING:
    from uq.services.context import Context
    from uq.services.outbox import PendingReply, Transport
    from uq.tui.screens.queue import QueueScreen

log = logging.getLogger("uq.tui")
ACTIVE_SAVE_SECONDS = 15  # time on the case in front is saved in steps of this, and on leaving it

# Errors the reviewer must act on (fix a password, a config value) get a modal; anything
# else (a dropped connection, a busy database) is a toast: it will retry by itself.
ACTIONABLE: tuple[type[UqError], ...] = (CredentialError, ConfigError)


@dataclass
class Opened:
    """What launch.py's opener returns from its worker thread."""

    ctx: Context
    sync: bool = False  # run the IMAP watcher
    send: bool = True  # run the outbox sender
    transport: Transport | None = None  # None: SMTP
    notice: str = ""  # shown in the status bar (demo: where replies go)
    replies: Path | None = None  # demo: the folder of .eml replies
    cleanup: list[Callable[[], None]] = field(default_factory=list)


class UqApp(App[int]):
    CSS_PATH = "uq.tcss"
    TITLE = "uq"
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        binding("help", "help"),
        binding("palette", "command_palette", priority=True),
        binding("quit", "leave"),
        binding("lock", "lock"),
        binding("redraw", "redraw"),
    ]
    COMMANDS = App.COMMANDS | {UqCommands}

    def __init__(
        self,
        config: Config,
        *,
        opener: Callable[[], Opened],
        clock: Clock = system_clock,
        demo: bool = False,
        sender_interval: float = 1.0,
        initial_rows: Sequence[QueueRowLike] | None = None,
    ) -> None:
        self.keymap = resolve_keymap(config.ui.keymap)  # ConfigError before any screen shows
        self.views = resolve_views(config.ui.views)
        super().__init__()
        self.config = config
        self.clock = clock
        self.demo = demo
        self.ctx: Context | None = None
        self.initial_rows = initial_rows  # the queue's head, read before start-up (store.fastread)
        self.opened: Opened | None = None
        self._opener = opener
        self.background = Background(self, sender_interval=sender_interval)
        self.last_activity = clock()
        self.locked = False
        # time on case: the lock's idle rule decides when the reviewer was away
        idle_minutes = config.security.lock_after_minutes or 10
        self.active_time = ActiveTime(idle=timedelta(minutes=idle_minutes))
        self.quit_when_sent = False  # "wait" was chosen on quit: leave once the outbox is empty
        apply_theme(self, config.ui.theme)

    # ------------------------------------------------------------ start / stop

    def on_mount(self) -> None:
        from uq.tui.screens.queue import QueueScreen

        self.set_keymap({k: v for k, v in self.keymap.items() if k in self.config.ui.keymap})
        self.push_screen(QueueScreen())
        if self.config.security.unlock == "password":  # a restart is no way around the lock
            self.action_lock(at_start=True)
        self.set_interval(1.0, self.check_lock)
        self._open_context()

    @work(thread=True, exclusive=True, group="open")
    def _open_context(self) -> None:
        try:
            opened = self._opener()
        except Exception as exc:
            self.post_message(ContextFailed(exc))
            return
        self.opened = opened
        self.post_message(ContextReady(opened.ctx, opened.notice))

    def on_context_ready(self, message: ContextReady) -> None:
        self.ctx = message.ctx
        self.config = message.ctx.config  # the demo swaps in its own store and reviewer
        assert self.opened is not None
        self.background.start(self.opened)
        self.queue_screen.context_ready(message.notice)

    def on_context_failed(self, message: ContextFailed) -> None:
        self.report_error(message.error)

    def on_unmount(self) -> None:
        self.background.stop()
        self.active_time.show(None, self.clock())  # the time on the case shown at quitting
        if self.ctx is not None:
            from uq.services.active import add_active_time

            try:
                add_active_time(self.ctx, self.active_time.take())
            except Exception as exc:  # quitting goes on; the type is logged, never the text
                log.error("time on case not saved: %s", type(exc).__name__)
        if self.opened is not None:
            for fn in self.opened.cleanup:
                fn()

    # ------------------------------------------------------------ quitting

    def action_leave(self) -> None:
        """q: back from the screen in front (as in aerc and neomutt); on the queue, quit."""
        from uq.tui.screens.queue import QueueScreen

        if isinstance(self.screen, QueueScreen) or self.locked:
            self.action_quit_checked()
        else:
            self.screen.dismiss(None)  # what esc does there: the screen's own leaving runs

    async def action_quit(self) -> None:
        """ctrl+q and the palette's quit go through the same check as q on the queue."""
        self.action_quit_checked()

    def action_quit_checked(self) -> None:
        """Quit, asking first while replies are held or queued: a reply on hold when uq
        closes would sit unsent until uq next runs while the nurse's clock keeps going."""
        if self.locked or self.ctx is None:
            self.exit(0)  # nothing is lost: the outbox keeps them for the next start
            return
        self._pending_before_quit(self.ctx)

    @work(thread=True, exclusive=True, group="quit")
    def _pending_before_quit(self, ctx: Context) -> None:
        from uq.services.outbox import pending_replies

        try:
            pending = pending_replies(ctx)
        except Exception as exc:
            self.post_message(ErrorRaised(exc))
            return
        self.call_from_thread(self._ask_quit, pending)

    def _ask_quit(self, pending: list[PendingReply]) -> None:
        from uq.tui.screens.quit import QuitScreen

        if not pending:
            self.exit(0)
            return
        if self.quit_when_sent:
            return  # already waiting for them
        self.push_screen(QuitScreen(pending, self.clock()), self._quit_choice)

    def _quit_choice(self, choice: str | None) -> None:
        if choice == "send" and self.ctx is not None:
            self.notify("sending the replies now…", timeout=5)
            self._send_before_quit(self.ctx)
        elif choice == "wait":
            self.quit_when_sent = True
            self.set_interval(1.0, self._quit_if_sent)
            self.notify("uq quits by itself once every reply has left", timeout=8)

    def _quit_if_sent(self) -> None:
        if self.quit_when_sent and self.ctx is not None:
            self._pending_before_quit(self.ctx)

    @work(thread=True, exclusive=True, group="quit-send")
    def _send_before_quit(self, ctx: Context) -> None:
        from uq.services import outbox

        kwargs = {"transport": self.opened.transport} if self.opened and self.opened.transport else {}
        try:
            outbox.release_holds(ctx)
            for _ in range(3):  # a second pass picks up what the background sender had leased
                summary = outbox.send_due(ctx, **kwargs)
                left = outbox.pending_replies(ctx)
                if not left or summary.failed:
                    break
        except Exception as exc:
            self.post_message(ErrorRaised(exc))
            return
        if left:
            why = summary.errors[-1] if summary.errors else "the server has not confirmed them yet"
            n = len(left)
            text = f"{n} repl{'y' if n == 1 else 'ies'} not sent ({why}); uq stays open"
            self.post_message(ErrorRaised(UqError(text)))
            return
        self.call_from_thread(self.exit, 0)

    @property
    def queue_screen(self) -> QueueScreen:
        from uq.tui.screens.queue import QueueScreen

        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                return screen
        raise LookupError("queue screen not installed")

    # ------------------------------------------------------------ worker and screen news

    def on_case_changed(self, message: CaseChanged) -> None:
        self.queue_screen.reload()

    def on_queue_changed(self, message: QueueChanged) -> None:
        self.queue_screen.reload()

    def on_new_cases(self, message: NewCases) -> None:
        self.queue_screen.new_cases(message)

    def on_sync_state_changed(self, message: SyncStateChanged) -> None:
        self.queue_screen.sync_state(message)

    def on_outbox_result(self, message: OutboxResult) -> None:
        self.queue_screen.outbox_result(message)

    # ------------------------------------------------------------ errors

    def report_error(self, exc: BaseException) -> None:
        """The one error router. Must run on the UI thread (workers post ErrorRaised)."""
        if isinstance(exc, ACTIONABLE):
            from uq.tui.screens.error import ErrorScreen

            self.push_screen(ErrorScreen(str(exc)))
        elif isinstance(exc, UqError):
            self.notify(str(exc), severity="warning", timeout=8)
        else:
            # the type and where it was raised, never the message: it could carry case text
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
            log.error("unexpected %s at %s", type(exc).__name__, where)
            from uq.logfile import log_path

            self.notify(
                f"unexpected error: {type(exc).__name__} (see the log: {log_path()})",
                severity="error",
                timeout=10,
            )

    def on_error_raised(self, message: ErrorRaised) -> None:
        self.report_error(message.error)

    # ------------------------------------------------------------ alerts

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, from any screen, is plain text: notifications carry case IDs and
        server messages, and markup in them (`[/]`, `[@click=...]`) must neither crash the
        app nor run an action. `markup` is accepted for Textual's signature and ignored."""
        super().notify(
            safe_block(message), title=safe_line(title), severity=severity, timeout=timeout, markup=False
        )

    def alert(self, text: str, *, hook: Sequence[str] = (), case_id: str = "") -> None:
        """Toast, bell, and the configured hook with only the case ID (no PHI)."""
        self.notify(text, severity="warning", timeout=10)
        if self.config.ui.bell:
            self.bell()
        if hook and case_id:
            self._run_hook(list(hook), case_id)

    @work(thread=True, group="hooks")
    def _run_hook(self, argv: list[str], case_id: str) -> None:
        """The case ID comes from an email: it goes after `--` (an ID starting with `-` is
        never an option) and in $UQ_CASE_ID, never through a shell."""
        try:
            subprocess.run(
                [*argv, "--", case_id],
                env={**os.environ, "UQ_CASE_ID": case_id},
                check=False,
                timeout=60,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.post_message(ErrorRaised(UqError(f"hook {argv[0]} failed: {type(exc).__name__}")))

    # ------------------------------------------------------------ idle lock

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self.last_activity = self.clock()
            self._watch_front(activity=True)
        await super().on_event(event)

    def front_case(self) -> int | None:
        """The case whose screen or decision modal is in front (None over the queue or
        the lock): the screens that count as time on a case carry `case_pk`."""
        if self.locked or not self.screen_stack:
            return None
        pk = getattr(self.screen, "case_pk", None)
        return pk if isinstance(pk, int) else None

    def _watch_front(self, activity: bool = False) -> None:
        before = self.active_time.front
        now = self.clock()
        front = self.front_case()
        if activity:
            self.active_time.activity(front, now)
        else:
            self.active_time.show(front, now)
        if before is not None and before != front:
            self.save_active_time(self.active_time.take(before))
        elif front is not None and self.active_time.pending.get(front, 0.0) >= ACTIVE_SAVE_SECONDS:
            self.save_active_time(self.active_time.take(front))  # so a decision sees it

    def save_active_time(self, seconds: dict[int, int]) -> None:
        if seconds and self.ctx is not None:
            self._save_active(self.ctx, seconds)

    @work(thread=True, group="active-time")
    def _save_active(self, ctx: Context, seconds: dict[int, int]) -> None:
        from uq.services.active import add_active_time

        try:
            add_active_time(ctx, seconds)
        except Exception as exc:
            self.post_message(ErrorRaised(exc))

    def check_lock(self) -> None:
        """Lock after `security.lock_after_minutes` without a key, measured on the injected
        clock so tests can advance time instead of waiting."""
        minutes = self.config.security.lock_after_minutes
        if minutes <= 0 or self.locked:
            self._watch_front()
            return
        if (self.clock() - self.last_activity).total_seconds() >= minutes * 60:
            self.action_lock()
        self._watch_front()

    def action_redraw(self) -> None:
        """ctrl+l, as in every terminal program: repaint the whole screen (after another
        program or a resize left debris behind)."""
        self.screen.refresh(repaint=True, layout=True)
        self.refresh(repaint=True, layout=True)

    def action_lock(self, at_start: bool = False) -> None:
        if self.locked:
            return
        from uq.tui.screens.lock import LockScreen

        self.locked = True

        def unlocked(_: Any) -> None:
            self.locked = False
            self.last_activity = self.clock()

        self.push_screen(LockScreen(self.config.security.unlock, at_start=at_start), unlocked)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While locked, only quitting works: no palette or case search over the lock."""
        return not self.locked or action in ("quit", "leave", "help_quit", "redraw")

    # ------------------------------------------------------------ navigation

    def action_help(self) -> None:
        from uq.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_case(self, case_pk: int) -> None:
        from uq.tui.screens.case import CaseScreen

        self.push_screen(CaseScreen(case_pk))
