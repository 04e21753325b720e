"""The decision and call-attempt modals: where a determination is written.

The modal loads the case in a worker, shows whether the decision agrees with the nurse,
checks the rationale for treatment advice as it is typed, and saves through
`services.review` in a worker. Refusals (GuardrailError) are shown in the modal and nothing
is saved; a treatment-advice warning (GuardrailWarning) arms a second confirm press.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from uq.domain import CallAttempt, CallOutcome, DeclineReason, NurseRecommendation, Outcome
from uq.errors import GuardrailError, GuardrailWarning, UqError
from uq.lookalike import show_id
from uq.services.guardrails import advice_warnings, agreement
from uq.services.reply_content import ReviewFacts, criterion_label
from uq.textsafe import safe_block, safe_line
from uq.tui.messages import CaseChanged, QueueChanged
from uq.tui.widgets.rationale import RationaleEditor

if TYPE_CHECKING:
    from uq.services.context import Context
    from uq.services.review import DecisionResult, Preview

TITLES = {
    Outcome.APPROVE: "Approve",
    Outcome.DENY: "Deny",
    Outcome.PARTIAL: "Partial approval",
    Outcome.CALL_NEEDED: "Call needed",
    Outcome.PEND: "Pend: request information",
    Outcome.DECLINE: "Decline the case",
}
RATIONALE_LABEL = {
    Outcome.CALL_NEEDED: "What to discuss on the call",
    Outcome.PEND: "Information requested",
    Outcome.DECLINE: "Reason in words (needed for \"other\")",
}
DECLINE_CHOICES = [
    ("Conflict of interest", DeclineReason.CONFLICT_OF_INTEREST),
    ("Outside my specialty", DeclineReason.OUTSIDE_SPECIALTY),
    ("Other (say why above)", DeclineReason.OTHER),
]
CALL_CHOICES = [
    ("Reached", CallOutcome.REACHED),
    ("Voicemail", CallOutcome.VOICEMAIL),
    ("No answer", CallOutcome.NO_ANSWER),
]
_FORCE_HINT = " — confirm with --force to send anyway"
_SEND_NOTE = "ctrl+s again queues this reply."
_CONFIRM_NOTE = "Confirm: ctrl+s again sends it anyway, or edit."


# ---------------------------------------------------- helpers shared with the case screen


def app_ctx(app: App[Any]) -> Context:
    """The app's open Context; the screens are only reachable once it is set."""
    ctx = getattr(app, "ctx", None)
    if ctx is None:
        raise UqError("the case store is still opening: try again in a moment")
    return cast("Context", ctx)


def report(app: App[Any], exc: BaseException) -> None:
    """Hand an error to the app's one router (UI thread only)."""
    router = getattr(app, "report_error", None)
    if callable(router):
        router(exc)
    else:
        app.notify(str(exc) or type(exc).__name__, severity="error")


def run_external(app: App[Any], argv: list[str]) -> int:
    """Run a program with the terminal handed over (App.suspend). Where suspending is not
    possible (headless tests, the web), it runs detached from the terminal instead."""
    from textual.app import SuspendNotSupported

    try:
        with app.suspend():
            return subprocess.run(argv, check=False).returncode
    except SuspendNotSupported:
        quiet = subprocess.DEVNULL
        return subprocess.run(argv, check=False, stdin=quiet, stdout=quiet, stderr=quiet).returncode


def outcome_label(outcome: Outcome | CallOutcome) -> str:
    return outcome.value.replace("_", " ")


ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class CaseBrief:
    """What a modal needs to know about the case, loaded once in a worker."""

    case_id: str
    nurse: NurseRecommendation
    nurse_text: str
    guideline: str
    phone: str
    facts: ReviewFacts = dc_field(default_factory=lambda: ReviewFacts(packet_opened=False))
    criteria: tuple[tuple[str, bool], ...] = ()  # the packet's criteria: (label, met)
    specialty: str | None = None  # the case's requesting specialty, when the packet names it
    specialty_matches: bool | None = None


def _brief(ctx: Context, case_pk: int) -> CaseBrief:
    from uq.services.queries import case_detail
    from uq.services.reply_content import case_specialty, packet_criteria, specialty_match
    from uq.services.review import review_facts

    c = case_detail(ctx, case_pk).case
    f = c.fields
    spec = case_specialty(f)
    return CaseBrief(
        show_id(c.case_id),
        f.nurse_recommendation,
        safe_line(f.nurse_recommendation_text or ""),
        safe_line(f.guideline or ""),
        safe_line(f.provider_phone or ""),
        review_facts(ctx, case_pk),
        tuple(packet_criteria(f)),
        safe_line(spec) if spec else None,
        specialty_match(ctx.config.reviewer, spec),
    )


def facts_text(brief: CaseBrief, outcome: Outcome) -> Text:
    """What was opened and whether the case is in the reviewer's specialty: what the
    attestation in the reply will and will not say."""
    f = brief.facts
    out = Text("Opened: ", style="dim")
    out.append(f"packet {'✓' if f.packet_opened else '✗'}")
    if f.attachments:
        out.append(f" · attachments {f.attachments_opened}/{f.attachments}")
    if f.messages:
        out.append(f" · follow-ups {f.messages_opened}/{f.messages}")
    if not f.every_part_opened and outcome is not Outcome.DECLINE:
        out.append("  (the reply will not say it reviewed all the records)", style="yellow")
    out.append("\nCase specialty: ", style="dim")
    out.append(brief.specialty or "not stated in the packet")
    if brief.specialty_matches is False:
        out.append("  — outside yours: deny/partial need confirmation; X declines it", style="bold yellow")
    elif brief.specialty_matches:
        out.append("  — yours or similar", style="green")
    return out


def agreement_text(outcome: Outcome, nurse: NurseRecommendation, nurse_text: str) -> Text:
    said = nurse.value.upper() + (f" — {nurse_text}" if nurse_text else "")
    out = Text.assemble(("Nurse recommends: ", "dim"), said, "\n")
    agrees = agreement(outcome, nurse)
    if agrees is None:
        out.append("No agreement question for this decision.", style="dim")
    elif agrees:
        out.append(f"✓ {TITLES[outcome]} agrees with the nurse.", style="bold green")
    else:
        out.append(f"✗ {TITLES[outcome]} DISAGREES with the nurse.", style="bold yellow")
    return out


# ------------------------------------------------------------------ the decision modal


class CaseModal(ModalScreen[ResultT]):
    """What the decision and call modals share: the case brief loaded in a worker, a busy
    flag while saving, and cancel/failure handling."""

    def __init__(self, case_pk: int) -> None:
        super().__init__()
        self.case_pk = case_pk
        self.brief: CaseBrief | None = None
        self.busy = False

    @property
    def case_label(self) -> str:
        return self.brief.case_id if self.brief else f"#{self.case_pk}"

    def _no_blink(self) -> None:
        if self.app.is_headless:  # stable snapshots
            for field in self.query(Input):
                field.cursor_blink = False
            for area in self.query(TextArea):
                area.cursor_blink = False

    @work(thread=True, exclusive=True, group="modal-load")
    def _load(self) -> None:
        try:
            brief = _brief(app_ctx(self.app), self.case_pk)
        except Exception as exc:
            self.app.call_from_thread(report, self.app, exc)
            return
        self.app.call_from_thread(self._loaded, brief)

    def _loaded(self, brief: CaseBrief) -> None:
        self.brief = brief

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        report(self.app, exc)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)


class DecisionModal(CaseModal["DecisionResult | None"]):
    """Approve / deny / partial / call needed / pend / decline one case.

    ctrl+s first shows the exact reply (To, Subject, body) with whatever must be confirmed;
    a second ctrl+s on unchanged input queues it. Any edit withdraws the preview."""

    DEFAULT_CSS = """
    DecisionModal { align: center middle; }
    DecisionModal > #dialog {
        width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    DecisionModal #title { text-style: bold; }
    DecisionModal Label { margin-top: 1; }
    DecisionModal #messages { margin-top: 1; height: auto; }
    DecisionModal #preview { margin-top: 1; height: auto; border: round $secondary; padding: 0 1; }
    DecisionModal #keys { margin-top: 1; color: $text-muted; }
    DecisionModal Select { width: 1fr; }
    DecisionModal SelectionList { height: auto; max-height: 8; }
    """

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm", priority=True),
        Binding("ctrl+e", "external_editor", "$EDITOR", priority=True),
        Binding("ctrl+t", "templates", "Template", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, case_pk: int, outcome: Outcome, *, reason: DeclineReason | None = None) -> None:
        super().__init__(case_pk)
        self.outcome = outcome
        self.reason = reason
        self.previewed: dict[str, Any] | None = None  # the input the shown preview was made from
        self.confirm: tuple[str, ...] = ()  # what the shown preview needs confirmed
        self.last_error = ""

    @classmethod
    def for_action(cls, case_pk: int, action: str) -> DecisionModal:
        """The modal for a key's action name ("decline_specialty" = decline, reason preset)."""
        if action == "decline_specialty":
            return cls(case_pk, Outcome.DECLINE, reason=DeclineReason.OUTSIDE_SPECIALTY)
        return cls(case_pk, Outcome(action))

    @property
    def armed(self) -> bool:
        return self.previewed is not None

    # -------------------------------------------------------------- layout

    def _templates(self) -> dict[str, str]:
        cfg = getattr(self.app, "config", None)
        found = dict(cfg.ui.templates) if cfg is not None else {}
        found.pop("dir", None)  # ui.templates.dir names the reply-template folder, not a text
        return found

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(TITLES[self.outcome], id="title", markup=False)
            yield Static("Loading the case…", id="agreement", markup=False)
            yield Static("", id="facts", markup=False)
            templates = self._templates()
            if templates:
                yield Select(
                    [(name, name) for name in templates],
                    prompt="Insert a template (ctrl+t)",
                    id="template",
                )
            yield Label(RATIONALE_LABEL.get(self.outcome, "Rationale"))
            yield RationaleEditor(id="rationale")
            if self.outcome is not Outcome.DECLINE:
                yield Label("Guideline relied on, with its edition")
                yield Input(id="guideline", placeholder="e.g. MCG A-0317 (27th ed.)")
            if self.outcome.is_determination:
                yield Label("Criteria the decision rests on (space ticks; deny and partial need one)")
                yield SelectionList[str](id="criteria")
                yield Input(id="criterion", placeholder="or type one, e.g. Not met: 6 weeks of conservative therapy")
            if self.outcome is Outcome.PARTIAL:
                yield Label("What is approved")
                yield Input(id="portion", placeholder="e.g. 6 of 12 visits")
                yield Label("What is denied")
                yield Input(id="denied", placeholder="e.g. visits 7 to 12")
            if self.outcome in (Outcome.DENY, Outcome.PARTIAL):
                yield Label("What would change the decision (optional)")
                yield Input(id="change", placeholder="e.g. PT notes showing six weeks without improvement")
            if self.outcome is Outcome.DECLINE:
                yield Label("Reason")
                yield Select(DECLINE_CHOICES, prompt="Why decline?", id="reason", value=self.reason or Select.NULL)
            else:
                yield Checkbox("I reviewed every record, also parts not opened in uq", id="attest")
            yield Input(id="statement", placeholder="Your statement, sent instead of 'not treatment advice'")
            yield Static("", id="messages", markup=False)
            yield Static("", id="preview", markup=False)
            yield Static(
                "ctrl+s preview, then ctrl+s queue · ctrl+e $EDITOR · ctrl+t template · esc cancel",
                id="keys",
                markup=False,
            )

    def on_mount(self) -> None:
        self._no_blink()
        for hidden in ("#attest", "#statement", "#preview"):
            for w in self.query(hidden):
                w.display = False
        self.query_one(RationaleEditor).focus()
        self._load()

    def _loaded(self, brief: CaseBrief) -> None:
        super()._loaded(brief)
        if not brief.facts.packet_opened:
            self.app.notify(
                f"{brief.case_id} was never opened: open it (enter) and read it before deciding",
                title="Not opened",
                severity="warning",
            )
            self.dismiss(None)
            return
        self.query_one("#title", Static).update(f"{TITLES[self.outcome]} — {brief.case_id}")
        self.query_one("#agreement", Static).update(agreement_text(self.outcome, brief.nurse, brief.nurse_text))
        self.query_one("#facts", Static).update(facts_text(brief, self.outcome))
        for field in self.query("#guideline").results(Input):
            if not field.value:
                field.value = brief.guideline
        for sl in self.query("#criteria").results(SelectionList):
            labels = [criterion_label(label, met) for label, met in brief.criteria]
            sl.add_options([Selection(safe_line(text), text) for text in labels])
            sl.display = bool(brief.criteria)
        for box in self.query("#attest").results(Checkbox):
            box.display = not brief.facts.every_part_opened

    # -------------------------------------------------------------- live messages

    def _show(
        self, errors: list[str], warnings: list[str], *, armed_note: str = "", notices: Sequence[str] = ()
    ) -> None:
        out = Text()
        for e in errors:
            out.append(f"✗ {safe_line(e)}\n", style="bold red")
        for w in warnings:
            out.append(f"! {safe_line(w)}\n", style="yellow")
        for n in notices:
            out.append(f"· {safe_line(n)}\n", style="dim")
        if armed_note:
            out.append(armed_note, style="bold reverse yellow")
        self.query_one("#messages", Static).update(out)

    def _withdraw(self) -> None:
        """The input changed: the preview no longer shows what would be sent."""
        self.previewed = None
        self.confirm = ()
        self.query_one("#preview", Static).display = False

    @on(TextArea.Changed, "#rationale")
    def _rationale_changed(self) -> None:
        self._withdraw()
        self.last_error = ""
        self._show([], advice_warnings(self.query_one(RationaleEditor).text))

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed, "#reason")
    def _field_changed(self) -> None:
        if self.previewed is not None and self.previewed != self._values():
            self._withdraw()
            self._show([], [])

    @on(Select.Changed, "#template")
    def _template_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        text = self._templates().get(str(event.value), "")
        if text:
            self.query_one(RationaleEditor).insert_template(text)
        event.select.clear()

    def action_templates(self) -> None:
        for select in self.query("#template").results(Select):
            select.focus()
            select.expanded = True
            return
        self.notify("No templates: add some under [ui.templates] in the config", severity="warning")

    # -------------------------------------------------------------- $EDITOR

    def action_external_editor(self) -> None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify("Set $EDITOR (or $VISUAL) to write the rationale in your editor", severity="warning")
            return
        area = self.query_one(RationaleEditor)
        fd, name = tempfile.mkstemp(prefix="uq-rationale-", suffix=".txt")  # 0600
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(area.text)
            code = run_external(self.app, [*shlex.split(editor), str(path)])
            if code != 0:
                self.notify(f"The editor exited with status {code}; rationale unchanged", severity="warning")
                return
            area.load_text(path.read_text(encoding="utf-8").rstrip("\n"))
            self._rationale_changed()
        except (UqError, OSError) as exc:
            self.notify(str(exc), severity="error")
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        area.focus()

    # -------------------------------------------------------------- preview, then confirm

    def _values(self) -> dict[str, Any]:
        """The DecisionInput fields as entered."""
        values: dict[str, Any] = {"rationale": self.query_one(RationaleEditor).text}
        for wid, key in (
            ("guideline", "guideline"),
            ("portion", "approved_portion"),
            ("denied", "denied_portion"),
            ("change", "change_info"),
            ("statement", "advice_statement"),
        ):
            for field in self.query(f"#{wid}").results(Input):
                values[key] = field.value
        criteria: list[str] = []
        for sl in self.query("#criteria").results(SelectionList):
            criteria += [str(v) for v in sl.selected]
        for field in self.query("#criterion").results(Input):
            if field.value.strip():
                criteria.append(field.value)
        values["criteria"] = tuple(criteria)
        for box in self.query("#attest").results(Checkbox):
            values["attest_reviewed"] = box.value
        for select in self.query("#reason").results(Select):
            values["decline_reason"] = None if select.value is Select.NULL else DeclineReason(str(select.value))
        return values

    def action_confirm(self) -> None:
        if self.busy:
            return
        values = self._values()
        self.busy = True
        if self.previewed is not None and self.previewed == values:
            self._submit(values, bool(self.confirm))
        else:
            self._preview(values)

    @work(thread=True, exclusive=True, group="decision-save")
    def _preview(self, values: dict[str, Any]) -> None:
        from uq.services import review

        try:
            shown = review.preview(
                app_ctx(self.app), self.case_pk, self.outcome, review.DecisionInput(**values), force=True
            )
        except (GuardrailError, UqError) as exc:
            self.app.call_from_thread(self._refused, str(exc))
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
        else:
            self.app.call_from_thread(self._previewed, values, shown)

    def _previewed(self, values: dict[str, Any], shown: Preview) -> None:
        self.busy = False
        self.previewed = values
        self.confirm = shown.confirm
        preview = self.query_one("#preview", Static)
        preview.update(Text(safe_block(shown.text().rstrip("\n"))))
        preview.display = True
        advice = any("treatment advice" in w for w in shown.confirm)
        statement = self.query_one("#statement", Input)
        statement.display = advice or bool(statement.value)
        note = _CONFIRM_NOTE if shown.confirm else _SEND_NOTE
        self._show([], list(shown.confirm), armed_note=note, notices=shown.notices)
        preview.scroll_visible(animate=False)

    @work(thread=True, exclusive=True, group="decision-save")
    def _submit(self, values: dict[str, Any], force: bool) -> None:
        from uq.services import review

        try:
            result = review.decide(
                app_ctx(self.app), self.case_pk, self.outcome, review.DecisionInput(**values), force=force
            )
        except GuardrailWarning as exc:
            self.app.call_from_thread(self._warned, str(exc).removesuffix(_FORCE_HINT))
        except (GuardrailError, UqError) as exc:
            self.app.call_from_thread(self._refused, str(exc))
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
        else:
            self.app.call_from_thread(self._saved, result)

    def _warned(self, message: str) -> None:
        """Something new needs confirming since the preview (a call note marked meanwhile)."""
        self.busy = False
        self._withdraw()
        self._show([], [message], armed_note="Press ctrl+s to preview again.")

    def _refused(self, message: str) -> None:
        self.busy = False
        self._withdraw()
        self.last_error = message
        self._show([message], advice_warnings(self.query_one(RationaleEditor).text))

    def _saved(self, result: DecisionResult) -> None:
        case_id = self.case_label
        hold = int((result.outbox.not_before - result.outbox.created_at).total_seconds())
        tail = f"reply held {hold} s (u to undo)" if result.outbox.state.value == "held" else "reply queued"
        self.app.notify(f"{case_id} {outcome_label(self.outcome)} saved — {tail}", title="Decision saved")
        self.app.post_message(CaseChanged(self.case_pk))
        self.app.post_message(QueueChanged())
        self.dismiss(result)


# ------------------------------------------------------------------ the call-attempt modal


class CallModal(CaseModal["CallAttempt | None"]):
    """Log one peer-to-peer attempt: outcome, number dialled (pre-filled), a note.

    The outcome starts blank: a quick confirm must not log a call that never happened."""

    DEFAULT_CSS = """
    CallModal { align: center middle; }
    CallModal > #dialog {
        width: 70; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    CallModal #title { text-style: bold; }
    CallModal Label { margin-top: 1; }
    CallModal #keys { margin-top: 1; color: $text-muted; }
    CallModal #messages { height: auto; }
    CallModal #note { height: 4; }
    """

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Log call", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Log a peer-to-peer call attempt", id="title", markup=False)
            yield Label("Outcome")
            yield Select(CALL_CHOICES, prompt="choose an outcome", id="outcome")
            yield Label("Number dialled")
            yield Input(id="number", placeholder="provider phone")
            yield Label("Note")
            yield TextArea(
                soft_wrap=True, tab_behavior="focus", id="note", placeholder="who you spoke to, what was agreed"
            )
            yield Checkbox("Include the note in the reply (it stays private otherwise)", id="in-reply")
            yield Static("", id="messages", markup=False)
            yield Static("ctrl+s log · esc cancel", id="keys", markup=False)

    def on_mount(self) -> None:
        self._no_blink()
        self.query_one("#outcome", Select).focus()
        self._load()

    def _loaded(self, brief: CaseBrief) -> None:
        super()._loaded(brief)
        self.query_one("#title", Static).update(f"Log a peer-to-peer call attempt — {brief.case_id}")
        number = self.query_one("#number", Input)
        if not number.value:
            number.value = brief.phone

    def action_confirm(self) -> None:
        if self.busy:
            return
        chosen = self.query_one("#outcome", Select).value
        if chosen is Select.NULL:
            self._refused("choose an outcome")
            self.query_one("#outcome", Select).focus()
            return
        self.busy = True
        outcome = CallOutcome(str(chosen))
        self._submit(
            outcome,
            self.query_one("#number", Input).value,
            self.query_one("#note", TextArea).text,
            self.query_one("#in-reply", Checkbox).value,
        )

    @work(thread=True, exclusive=True, group="call-save")
    def _submit(self, outcome: CallOutcome, number: str, note: str, in_reply: bool) -> None:
        from uq.services import review

        try:
            call = review.log_call(
                app_ctx(self.app), self.case_pk, outcome, note=note, number=number or None, in_reply=in_reply
            )
        except UqError as exc:
            self.app.call_from_thread(self._refused, str(exc))
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
        else:
            self.app.call_from_thread(self._saved, call)

    def _refused(self, message: str) -> None:
        self.busy = False
        self.query_one("#messages", Static).update(Text(f"✗ {safe_line(message)}", style="bold red"))

    def _saved(self, call: CallAttempt) -> None:
        self.app.notify(f"{self.case_label}: call attempt logged ({outcome_label(call.outcome)})")
        self.app.post_message(CaseChanged(self.case_pk))
        self.dismiss(call)

