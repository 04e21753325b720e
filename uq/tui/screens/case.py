"""One case: the packet in sections, attachments, thread, P2P log, audit; the raw email on `r`.

Opening the screen records "opened" in the audit log (HIPAA) in a worker, then loads and
renders the case there too; the decision keys open the modals from screens/decide.py.
"""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from uq.domain import Outcome
from uq.errors import UqError
from uq.lookalike import show_id
from uq.queue.countdown import countdown_text, state_glyph, tick_interval
from uq.queue.sla import sla_state
from uq.textsafe import SafeLines, safe_line, safe_lines
from uq.tui.keymap import binding
from uq.tui.messages import CaseChanged, QueueChanged
from uq.tui.screens.decide import CallModal, DecisionModal, app_ctx, report, run_external
from uq.tui.screens.intake import AcceptUpdateModal
from uq.tui.widgets.case_view import CaseView, Section
from uq.tui.widgets.lazy_text import MAX_LINE

if TYPE_CHECKING:
    from uq.services.context import Context
    from uq.services.review import DecisionResult
    from uq.services.team import Hold

# refused while another reviewer holds the case
_CHANGES_CASE = frozenset({"decide", "log_call", "undo", "set_urgency", "accept_update"})

T = TypeVar("T")


@dataclass(frozen=True)
class CaseData:
    """What the case screen shows, built in the worker."""

    case_id: str  # as shown (uq.lookalike.show_id)
    headline: str  # after the countdown
    sections: Sequence[Section]
    attachment_names: list[str]
    messages: int  # in the thread: the case email and its follow-ups
    due_at: datetime
    window_start: datetime | None
    unverified: list[tuple[int, str, str]]  # (message id, sender, subject) not yet accepted


def viewer_command() -> list[str] | None:
    """The system's "open this file" program, or None when there is none."""
    candidates = ["open"] if platform.system() == "Darwin" else ["xdg-open", "gio"]
    for name in candidates:
        found = shutil.which(name)
        if found:
            return [found, "open"] if name == "gio" else [found]
    return None


class CaseScreen(Screen[None]):
    DEFAULT_CSS = """
    CaseScreen #headline { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    """

    BINDINGS = [
        binding("cursor_down", "scroll_down"),
        binding("cursor_up", "scroll_up"),
        binding("page_down", "page_down"),
        binding("page_up", "page_up"),
        binding("first", "scroll_home"),
        binding("last", "scroll_end"),
        binding("back", "back"),
        binding("approve", "decide('approve')"),
        binding("deny", "decide('deny')"),
        binding("partial", "decide('partial')"),
        binding("call_needed", "decide('call_needed')"),
        binding("pend", "decide('pend')"),
        binding("decline", "decide('decline')"),
        binding("decline_specialty", "decide('decline_specialty')"),
        binding("log_call", "log_call"),
        binding("note", "note"),
        binding("undo", "undo"),
        binding("set_urgency", "set_urgency"),
        binding("open_attachment", "open_attachment", show=True),
        binding("raw", "toggle_raw", show=True),
        binding("accept_update", "accept_update"),
        Binding("space", "page_down", show=False),
    ]

    def __init__(self, case_pk: int) -> None:
        super().__init__()
        self.case_pk = case_pk
        self.data: CaseData | None = None
        self._timer: Timer | None = None
        self.raw_text: SafeLines | None = None
        self.hold: Hold | None = None  # team mode: our claim, or who else holds the case
        self._team = False
        self._renewal: Timer | None = None
        self.raw_index = 0  # the thread message the raw view shows
        self.next_attachment = 0  # `o` opens each attachment in turn

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="headline", markup=False)
        yield CaseView(id="case-view")
        yield Footer()

    @property
    def view(self) -> CaseView:
        return self.query_one(CaseView)

    def on_mount(self) -> None:
        self.view.focus()
        self._team = bool(self.app.config.team_mode)  # type: ignore[attr-defined]
        self._load(audit_open=True)

    # -------------------------------------------------------------- loading

    @work(thread=True, exclusive=True, group="case-load")
    def _load(self, audit_open: bool = False) -> None:
        from uq.services import review
        from uq.services.queries import case_detail
        from uq.services.render import case_sections

        try:
            ctx = app_ctx(self.app)
            if audit_open and self._team:
                from uq.services import team

                hold = team.hold_on_open(ctx, self.case_pk)
                self.app.call_from_thread(self._held, hold, team.renew_seconds(ctx))
            if audit_open:
                review.open_case(ctx, self.case_pk)
            detail = case_detail(ctx, self.case_pk)
            c, d = detail.case, detail.deadlines
            headline = f"{c.fields.urgency.value} · {c.fields.review_type.value}  [{c.status.value.replace('_', ' ')}]"
            data = CaseData(
                show_id(c.case_id),
                headline,
                case_sections(ctx, detail),
                [a.filename for a in detail.attachments],
                max(1, len(detail.thread)),
                d.due_at,
                d.window_start,
                [(m.id, m.sender, m.subject) for m in detail.thread if m.kind == "unverified"],
            )
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        self.app.call_from_thread(self._loaded, data)
        if audit_open:
            self.app.call_from_thread(self.app.post_message, CaseChanged(self.case_pk))

    def _loaded(self, data: CaseData) -> None:
        self.data = data
        self._tick()
        if not self.view.showing_raw:
            self.view.show_sections(data.sections)

    def _tick(self) -> None:
        """Repaint the headline countdown at the precision it shows (1 s near the deadline,
        else 30 s), from the injected clock."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.data is None:
            return
        sla = self.app.config.sla  # type: ignore[attr-defined]
        now = self.app.clock()  # type: ignore[attr-defined]
        seconds, state = sla_state(
            self.data.due_at,
            self.data.window_start,
            now,
            warning_fraction=sla.warning_fraction,
            warning_minutes=sla.warning_minutes,
        )
        text = f"{self.data.case_id}  {state_glyph(state)} {countdown_text(seconds)}  {self.data.headline}"
        text += self._hold_text()
        self.query_one("#headline", Static).update(Text(text))
        self._timer = self.set_timer(tick_interval(seconds), self._tick)

    def reload(self) -> None:
        self._load()

    # -------------------------------------------------------------- team claim

    def _held(self, hold: Hold, renew_seconds: float) -> None:
        self.hold = hold
        if hold.mine:
            self._renewal = self.set_interval(renew_seconds, self._renew)
        elif hold.holder:
            self.notify(f"Read-only: {hold.holder} holds this case{self._until(hold)}", severity="warning")
        self.refresh_bindings()
        self._tick()

    def _until(self, hold: Hold) -> str:
        if hold.until is None:
            return ""
        return " until " + hold.until.astimezone(self.app.config.tz).strftime("%H:%M")  # type: ignore[attr-defined]

    def _hold_text(self) -> str:
        if self.hold is None or not self.hold.holder:
            return ""
        if self.hold.mine:
            return f"  · yours{self._until(self.hold)}"
        return f"  · READ-ONLY: held by {self.hold.holder}{self._until(self.hold)}"

    @property
    def read_only(self) -> bool:
        """Another reviewer holds the case: it can be read, not decided."""
        return self.hold is not None and not self.hold.mine and bool(self.hold.holder)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in _CHANGES_CASE and self.read_only)

    @work(thread=True, exclusive=True, group="case-renew")
    def _renew(self) -> None:
        from uq.services import team

        hold = self.hold
        if hold is not None and hold.mine:
            self._in_worker(lambda ctx: team.keep_hold(ctx, self.case_pk, hold), self._renewed)

    def _renewed(self, hold: Hold) -> None:
        if not hold.mine:
            if self._renewal is not None:
                self._renewal.stop()
            taker = f"{hold.holder} took this case: read-only" if hold.holder else "the case was closed"
            self.notify(f"Your claim ran out and {taker}", severity="warning")
        self.hold = hold
        self.refresh_bindings()
        self._tick()

    def on_unmount(self) -> None:
        """Leaving a case gives back the claim that opening it took (not one made before)."""
        if self._renewal is not None:
            self._renewal.stop()
        hold = self.hold
        if hold is None or not hold.mine or hold.keep:
            return
        app, case_pk = self.app, self.case_pk

        def release() -> None:
            from uq.services import team

            try:
                team.release_case(app_ctx(app), case_pk)
            except Exception as exc:
                app.call_from_thread(report, app, exc)
                return
            app.post_message(CaseChanged(case_pk))  # the queue's holder column

        app.run_worker(release, thread=True, group="claim-release")

    # -------------------------------------------------------------- scrolling

    def action_scroll_down(self) -> None:
        self.view.scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.view.scroll_up(animate=False)

    def action_page_down(self) -> None:
        self.view.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.view.scroll_page_up(animate=False)

    def action_scroll_home(self) -> None:
        self.view.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        self.view.scroll_end(animate=False)

    def action_back(self) -> None:
        self.dismiss(None)

    # -------------------------------------------------------------- raw email

    def action_toggle_raw(self) -> None:
        """`r` shows the case email as received, then each follow-up in turn, then the
        packet again; each message shown is recorded as opened."""
        messages = self.data.messages if self.data else 1
        if self.view.showing_raw and self.raw_index + 1 >= messages:
            self.raw_index = 0
            if self.data:
                self.view.show_sections(self.data.sections)
            return
        index = self.raw_index + 1 if self.view.showing_raw else 0
        self._load_raw(index)

    @work(thread=True, exclusive=True, group="case-raw")
    def _load_raw(self, index: int) -> None:
        from uq.services import review

        try:
            raw = review.open_message(app_ctx(self.app), self.case_pk, index)
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        text = raw.decode("utf-8", "backslashreplace") or "(no raw message stored)"
        self.app.call_from_thread(self._raw_loaded, index, safe_lines(text, MAX_LINE))

    def _raw_loaded(self, index: int, text: SafeLines) -> None:
        self.raw_index = index
        self.raw_text = text
        messages = self.data.messages if self.data else 1
        head = [f"[message {index + 1} of {messages}; r shows the next]", ""] if messages > 1 else []
        self.view.show_raw(SafeLines([*head, *text]))

    # -------------------------------------------------------------- attachments

    def action_open_attachment(self) -> None:
        """`o` opens the attachments in turn: in the system viewer where there is one, else
        as text in the case view. Either way it is recorded as opened."""
        if self.data is None or not self.data.attachment_names:
            self.notify("This case has no attachments", severity="warning")
            return
        index = self.next_attachment % len(self.data.attachment_names)
        self.next_attachment = index + 1
        self._open_attachment(index, viewer_command() is not None)

    @work(thread=True, exclusive=True, group="case-attachment")
    def _open_attachment(self, index: int, external: bool) -> None:
        from uq.services import review
        from uq.services.case_files import private_copy

        try:
            ctx = app_ctx(self.app)
            att = review.open_attachment(ctx, self.case_pk, index)
            path = private_copy(ctx, att, index) if external else None
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        if path is not None:
            self.app.call_from_thread(self._open_file, path)
        else:
            text = (att.text or "").strip() or "(no text could be read from this file)"
            head = f"[attachment {index + 1}: {att.filename}; no system viewer, its text]"
            lines = safe_lines(f"{head}\n\n{text}", MAX_LINE)
            self.app.call_from_thread(self._show_attachment, index, safe_line(att.filename), lines)

    def _show_attachment(self, index: int, name: str, lines: SafeLines) -> None:
        count = len(self.data.attachment_names) if self.data else 1
        self.view.show_raw(lines)
        self.notify(f"Opened {name} ({index + 1} of {count})")

    def _open_file(self, path: Path) -> None:
        argv = viewer_command()
        if argv is None:
            self.notify("No system viewer found (xdg-open / open)", severity="warning")
            return
        try:
            code = run_external(
                self.app,
                [*argv, str(path)],
            )
        except (OSError, UqError) as exc:
            self.notify(f"Could not open the attachment: {exc}", severity="error")
            return
        if code != 0:
            self.notify(f"The viewer exited with status {code}", severity="warning")
        else:
            self.notify(f"Opened {path.name} in the system viewer")

    # -------------------------------------------------------------- unverified updates

    def action_accept_update(self) -> None:
        if self.data is None or not self.data.unverified:
            self.notify("No unverified update on this case", severity="warning")
            return
        raw_pk, sender, subject = self.data.unverified[0]  # the oldest first
        case_id = self.data.case_id

        def answered(accept: bool | None) -> None:
            if accept:
                self._accept(raw_pk)

        self.app.push_screen(AcceptUpdateModal(case_id, raw_pk, sender, subject), answered)

    @work(thread=True, exclusive=True, group="case-accept")
    def _accept(self, raw_pk: int) -> None:
        from uq.services import trust

        self._in_worker(
            lambda ctx: trust.accept_update(ctx, self.case_pk, raw_pk), lambda changed: self._accepted(raw_pk, changed)
        )

    def _in_worker(self, call: Callable[[Context], T], done: Callable[[T], None]) -> None:
        """Run a service call from a thread worker: a UqError is a warning toast, anything
        else the app's error report; `done` gets the result on the UI thread."""
        try:
            result = call(app_ctx(self.app))
        except UqError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="warning")
            return
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        self.app.call_from_thread(done, result)

    def _accepted(self, raw_pk: int, changed: list[str]) -> None:
        self.notify(f"update #{raw_pk} accepted; changed: {', '.join(changed) or 'nothing'}")
        self.app.post_message(CaseChanged(self.case_pk))
        self.app.post_message(QueueChanged())
        self.reload()

    # -------------------------------------------------------------- actions

    def action_decide(self, action: str) -> None:
        self.app.push_screen(DecisionModal.for_action(self.case_pk, action), self._decided)

    def _decided(self, result: DecisionResult | None) -> None:
        if result is None:
            return
        if not result.decision.outcome.is_determination and result.decision.outcome is not Outcome.DECLINE:
            self.reload()
        else:  # the case left the queue: back to it, where the next most urgent case waits
            self.dismiss(None)

    def action_log_call(self) -> None:
        self.app.push_screen(CallModal(self.case_pk), lambda _call: self.reload())

    def action_note(self) -> None:
        from uq.tui.screens.note import NoteModal

        self.app.push_screen(NoteModal(self.case_pk), lambda _text: self.reload())

    def action_set_urgency(self) -> None:
        self._set_urgency()

    @work(thread=True, exclusive=True, group="case-urgency")
    def _set_urgency(self) -> None:
        self._in_worker(self._flip_urgency, self._urgency_set)

    def _flip_urgency(self, ctx: Context) -> tuple[str, str] | None:
        """`U`: a packet without urgency (or a wrong one) runs on the urgent clocks until
        the reviewer says; each press flips between urgent and standard."""
        from uq.domain import Urgency
        from uq.services import review

        case = ctx.store.case(self.case_pk)
        if case is None:
            return None
        target = Urgency.STANDARD if case.fields.urgency is Urgency.URGENT else Urgency.URGENT
        review.set_facts(ctx, self.case_pk, urgency=target)
        return case.case_id, target.value

    def _urgency_set(self, done: tuple[str, str] | None) -> None:
        if done is None:
            return
        case_id, urgency = done
        other = "standard" if urgency == "urgent" else "urgent"
        self.notify(f"{case_id}: urgency set to {urgency} (U again for {other})")
        self.app.post_message(CaseChanged(self.case_pk))
        self.app.post_message(QueueChanged())
        self.reload()

    def action_undo(self) -> None:
        self._undo()

    @work(thread=True, exclusive=True, group="case-undo")
    def _undo(self) -> None:
        from uq.services import review

        self._in_worker(lambda ctx: review.undo(ctx, self.case_pk), lambda _result: self._undone())

    def _undone(self) -> None:
        case_id = self.data.case_id if self.data else f"#{self.case_pk}"
        self.notify(f"{case_id}: decision undone, reply not sent")
        self.app.post_message(CaseChanged(self.case_pk))
        self.app.post_message(QueueChanged())
        self.reload()
