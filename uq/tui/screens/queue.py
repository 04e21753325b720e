"""The queue screen: the list, its filter/sort/views, the status bar and the alerts.

All store access happens in thread workers that post `Loaded` back; a tick touches only
the visible rows plus two O(log n) look-ups (breach count, next warning crossing), so the
screen costs the same at 10 or 100,000 open cases.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from uq.domain import Outcome
from uq.errors import UqError
from uq.textsafe import safe_line
from uq.tui.keymap import binding
from uq.tui.messages import ErrorRaised, NewCases, OutboxResult, SyncStateChanged
from uq.tui.rows import (
    SORT_KEYS,
    DisplayRow,
    QueueRow,
    flag_lookalikes,
    from_queue_row,
    header,
    sort_rows,
    text_filter,
    view_filter,
)
from uq.tui.widgets.queue_list import QueueList
from uq.tui.widgets.status_bar import Hold, StatusBar

if TYPE_CHECKING:
    from uq.services.context import Context
    from uq.tui.app import UqApp

_OUTCOME_ACTIONS = {
    "approve": Outcome.APPROVE,
    "deny": Outcome.DENY,
    "partial": Outcome.PARTIAL,
    "call_needed": Outcome.CALL_NEEDED,
    "pend": Outcome.PEND,
    "decline": Outcome.DECLINE,
    "decline_specialty": Outcome.DECLINE,
}


class QueueScreen(Screen[None]):
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        binding("cursor_down"),
        binding("cursor_up"),
        binding("first"),
        binding("last"),
        binding("page_down"),
        binding("page_up"),
        binding("open"),
        binding("back"),
        binding("filter"),
        binding("sort"),
        *(binding(name, f"decide('{name}')") for name in _OUTCOME_ACTIONS),
        binding("log_call"),
        binding("undo"),
        binding("set_aside"),
        *(binding(f"view_{n}", f"view({n})") for n in range(1, 10)),
    ]

    class Loaded(Message):
        def __init__(
            self,
            rows: list[DisplayRow],
            outbox: dict[str, int],
            keep_pk: int | None,
            *,
            quick: bool = False,
            set_aside: dict[str, int] | None = None,
            holds: tuple[Hold, ...] = (),
        ) -> None:
            super().__init__()
            self.rows = rows
            self.outbox = outbox
            self.set_aside = set_aside
            self.holds = holds
            self.keep_pk = keep_pk
            self.quick = quick  # from the start-up fast path: the full load replaces it

    def __init__(self) -> None:
        super().__init__()
        self.all_rows: list[DisplayRow] = []
        self.sort_key = "due"
        self.view = "all"
        self.filter_text = ""
        self._view_cache: tuple[tuple[str, str], list[DisplayRow]] | None = None  # dropped on load/view/sort
        self._filtered: tuple[str, list[DisplayRow]] | None = None  # (needle, rows) of the last filter
        self.loaded = False
        self._dues: list[datetime] = []
        self._warn_heap: list[tuple[datetime, int]] = []
        self._warn_checked: datetime | None = None
        self._pending_new: list[int] = []
        self._pending_urgent: set[int] = set()
        self._sync_state = "connecting"

    @property
    def uq(self) -> UqApp:
        return cast("UqApp", self.app)

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        sla = self.uq.config.sla
        yield Static("uq · loading the queue…", id="queue-title", markup=False)
        yield Static("", id="queue-header", markup=False)
        yield QueueList(
            self.uq.clock,
            warning_fraction=sla.warning_fraction,
            warning_minutes=sla.warning_minutes,
            team=self.uq.config.team_mode,
            empty_text="Loading…",
            id="queue-list",
        )
        yield Input(
            placeholder="filter: case ID, member, client, service  (enter keeps it, esc clears)",
            id="filter",
        )
        yield StatusBar(self.uq.config.tz, id="status")
        yield Footer()

    @property
    def queue_list(self) -> QueueList:
        return self.query_one(QueueList)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.queue_list.focus()
        self.status.update_info(sync="loading", reviewer=self.uq.config.reviewer.name)
        self._tick_timer = self.set_timer(1.0, self._tick)
        head = self.uq.initial_rows
        if head is not None:  # read before Textual started: the first frame already has rows
            self.on_queue_screen_loaded(self.Loaded(self._display(head), {}, None, quick=True))
        else:
            self._quick_load()

    def _display(self, rows: Iterable[QueueRow]) -> list[DisplayRow]:
        sla = self.uq.config.sla
        fraction, minutes = sla.warning_fraction, sla.warning_minutes
        return flag_lookalikes([from_queue_row(r, warning_fraction=fraction, warning_minutes=minutes) for r in rows])

    @work(thread=True, exclusive=True, group="queue-quick")
    def _quick_load(self) -> None:
        """Rows straight from a SQLite file while the full store (SQLAlchemy) still loads."""
        from uq.services.quick import first_queue_rows

        rows = first_queue_rows(self.uq.config)
        if rows is None or self.uq.ctx is not None:
            return
        self.post_message(self.Loaded(self._display(rows), {}, None, quick=True))

    def on_resize(self) -> None:
        self.query_one("#queue-header", Static).update(header(self.size.width, self.uq.config.team_mode))

    def context_ready(self, notice: str) -> None:
        sync = "connecting" if self.uq.opened and self.uq.opened.sync else ("demo" if self.uq.demo else "local")
        self._sync_state = sync
        self.status.update_info(sync=sync, notice=notice, reviewer=self.uq.config.reviewer.name)
        self.reload()

    # ------------------------------------------------------------ loading

    def reload(self, keep_pk: int | None = None) -> None:
        if self.uq.ctx is not None:
            self._load(self.uq.ctx, keep_pk)

    @work(thread=True, exclusive=True, group="queue-load")
    def _load(self, ctx: Context, keep_pk: int | None) -> None:
        from uq.domain import OutboxState
        from uq.services import queries
        from uq.services.outbox import pending_replies

        try:
            sla = ctx.config.sla
            rows = flag_lookalikes(
                [
                    from_queue_row(r, warning_fraction=sla.warning_fraction, warning_minutes=sla.warning_minutes)
                    for r in queries.queue_rows(ctx)
                ]
            )
            outbox = queries.outbox_counts(ctx)
            set_aside = queries.set_aside_counts(ctx)
            holds = tuple(
                Hold(p.case_id, p.outcome, p.not_before)
                for p in pending_replies(ctx)
                if p.state is OutboxState.HELD
            )
        except Exception as exc:
            self.app.post_message(ErrorRaised(exc))
            return
        self.post_message(self.Loaded(rows, outbox, keep_pk, set_aside=set_aside, holds=holds))

    def on_queue_screen_loaded(self, message: Loaded) -> None:
        if message.quick and self.loaded:
            return  # the full load won the race
        now = self.uq.clock()
        self.all_rows = message.rows
        self._view_cache = None
        self.loaded = True
        self._dues = sorted(r.due_at for r in self.all_rows if r.due_at is not None)
        since = self._warn_checked or now
        self._warn_heap = [
            (r.warning_at, r.pk) for r in self.all_rows if r.warning_at and r.warning_at > since
        ]
        heapq.heapify(self._warn_heap)
        self._warn_checked = now
        self.queue_list.empty_text = "No open cases. New mail appears here by itself."
        self._apply(keep_pk=message.keep_pk)
        if message.quick:  # only the head of the queue: counts wait for the full load
            self.query_one("#queue-title", Static).update(f"uq · loading the queue… (first {len(message.rows)} shown)")
            return
        self.status.update_info(
            outbox=message.outbox,
            open_cases=len(self.all_rows),
            breached=self._breached(now),
            holds=message.holds,
            now=now,
        )
        if any(h.until > now for h in message.holds):  # a new hold counts down from now, not from the next slow tick
            self._tick_timer.stop()
            self._tick_timer = self.set_timer(1.0, self._tick)
        if message.set_aside is not None:
            self.status.update_info(set_aside=message.set_aside)
        self._announce_new()

    def _apply(self, keep_pk: int | None = None) -> None:
        """View, filter and sort. The sorted view is cached and a filter that only grew
        narrows the previous result, so a keystroke at 100k cases is one pass over what is
        still shown, not a filter-and-sort of the whole queue."""
        sla = self.uq.config.sla
        basis = (self.view, self.sort_key)
        if self._view_cache is None or self._view_cache[0] != basis:
            keep = view_filter(
                self.view,
                self.uq.clock(),
                warning_fraction=sla.warning_fraction,
                warning_minutes=sla.warning_minutes,
            )
            self._view_cache = (basis, sort_rows([r for r in self.all_rows if keep(r)], self.sort_key))
            self._filtered = None
        rows = self._view_cache[1]
        needle = self.filter_text.strip().lower()
        if needle:
            prev = self._filtered
            source = prev[1] if prev is not None and needle.startswith(prev[0]) else rows
            match = text_filter(needle)
            rows = [r for r in source if match(r)]
            self._filtered = (needle, rows)
        else:
            self._filtered = None
        self.queue_list.set_rows(rows, keep_pk=keep_pk)
        shown = f"{len(rows)} of {len(self.all_rows)}" if len(rows) != len(self.all_rows) else f"{len(rows)}"
        title = f"uq · {shown} open · view {self.view} · sort {self.sort_key}"
        if self.filter_text:
            title += f" · filter “{safe_line(self.filter_text)}”"
        self.query_one("#queue-title", Static).update(title)

    def _breached(self, now: datetime) -> int:
        return bisect_left(self._dues, now)

    # ------------------------------------------------------------ ticking and alerts

    def _tick(self) -> None:
        now = self.uq.clock()
        next_in = self.queue_list.tick()
        self._check_warnings(now)
        if self.loaded:
            breached = self._breached(now)
            if breached != self.status.info.breached:
                self.status.update_info(breached=breached)
            if any(h.until > now for h in self.status.info.holds):  # the hold countdown: every second
                self.status.update_info(now=now)
                next_in = min(next_in, 1.0)
            elif self.status.info.holds:  # the last hold ran out: its entry goes
                self.status.update_info(holds=(), now=now)
        if self._warn_heap:
            next_in = min(next_in, max(1.0, (self._warn_heap[0][0] - now).total_seconds()))
        self._tick_timer = self.set_timer(next_in, self._tick)

    def _check_warnings(self, now: datetime) -> None:
        by_pk = None
        while self._warn_heap and self._warn_heap[0][0] <= now:
            _, pk = heapq.heappop(self._warn_heap)
            by_pk = by_pk or {r.pk: r for r in self.all_rows}
            row = by_pk.get(pk)
            if row is not None:
                self.uq.alert(
                    f"{row.shown_id} is now in warning",
                    hook=self.uq.config.hooks.on_warning,
                    case_id=row.case_id,
                )
        self._warn_checked = now

    def new_cases(self, message: NewCases) -> None:
        self._pending_new.extend(message.new_pks)
        self._pending_urgent.update(message.urgent_pks)
        self.reload()

    def _announce_new(self) -> None:
        if not self._pending_new:
            return
        by_pk = {r.pk: r for r in self.all_rows}
        quiet = 0
        for pk in self._pending_new:
            row = by_pk.get(pk)
            if row is None:
                continue
            if pk in self._pending_urgent:
                self.uq.alert(
                    f"New urgent case {row.shown_id}",
                    hook=self.uq.config.hooks.on_new_case,
                    case_id=row.case_id,
                )
            else:
                quiet += 1
                if self.uq.config.hooks.on_new_case:
                    self.uq._run_hook(list(self.uq.config.hooks.on_new_case), row.case_id)
        if quiet:
            self.notify(f"{quiet} new case{'s' if quiet > 1 else ''}", timeout=5)
        self._pending_new.clear()
        self._pending_urgent.clear()

    def sync_state(self, message: SyncStateChanged) -> None:
        was = self._sync_state
        self._sync_state = message.state
        changes: dict[str, object] = {"sync": message.state, "sync_detail": message.detail}
        if message.state in ("live", "polling"):
            changes["last_sync"] = message.at
            if was == "offline":
                self.notify(f"mail connection back ({message.state})", timeout=5)
        if message.state == "offline" and was in ("live", "polling", "connecting"):
            self.uq.report_error(UqError(f"mail offline: {message.detail or 'connection lost'}; retrying"))
        self.status.update_info(**changes)

    def outbox_result(self, message: OutboxResult) -> None:
        if message.failed and message.errors:
            self.uq.report_error(UqError(f"sending failed: {message.errors[-1]}"))
        self.reload()

    # ------------------------------------------------------------ actions: moving

    def action_set_aside(self) -> None:
        from uq.tui.screens.intake import SetAsideScreen

        self.app.push_screen(SetAsideScreen())

    def action_cursor_down(self) -> None:
        self.queue_list.move(1)

    def action_cursor_up(self) -> None:
        self.queue_list.move(-1)

    def action_first(self) -> None:
        self.queue_list.first()

    def action_last(self) -> None:
        self.queue_list.last()

    def action_page_down(self) -> None:
        self.queue_list.page(1)

    def action_page_up(self) -> None:
        self.queue_list.page(-1)

    def action_open(self) -> None:
        pk = self.queue_list.current_pk
        if pk is not None:
            self.uq.open_case(pk)

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self._apply()
            self.queue_list.focus()

    # ------------------------------------------------------------ filter, sort, views

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)  # now, not on the next refresh: keys typed right after `/` land here

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._apply()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.queue_list.focus()

    def action_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._view_cache = None
        self._apply()
        self.notify(f"sorted by {self.sort_key}", timeout=2)

    def action_view(self, n: int) -> None:
        name = self.uq.views.get(str(n))
        if name is None:
            self.notify(f"no view on {n} (set ui.views in the config)", timeout=3)
            return
        self.view = name
        self._view_cache = None  # time-dependent views (breached, warning) are judged now
        self._apply()

    # ------------------------------------------------------------ actions: deciding

    def action_decide(self, action: str) -> None:
        pk = self.queue_list.current_pk
        if pk is None:
            self.notify("no case selected", timeout=2)
            return
        from uq.tui.screens.decide import DecisionModal

        self.app.push_screen(DecisionModal.for_action(pk, action))

    def action_log_call(self) -> None:
        pk = self.queue_list.current_pk
        if pk is None:
            self.notify("no case selected", timeout=2)
            return
        from uq.tui.screens.decide import CallModal

        self.app.push_screen(CallModal(pk))

    def action_undo(self) -> None:
        if self.uq.ctx is not None:
            self._undo(self.uq.ctx)

    @work(thread=True, group="undo")
    def _undo(self, ctx: Context) -> None:
        """Undo the last decided case's held reply and name that case (see review.undo_latest)."""
        from uq.services import review

        try:
            decision, case = review.undo_latest(ctx)
        except Exception as exc:
            self.app.post_message(ErrorRaised(exc))
            return
        message = f"Undone: {decision.outcome.value} on {safe_line(case.case_id)}, reply not sent"
        self.app.call_from_thread(self.notify, message, timeout=5)
        self.app.call_from_thread(self.reload, case.id)
