"""`?`: every key as actually bound right now (after the config's keymap), generated from
the live bindings of the screen underneath, never a hand-written list that can drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from uq.tui.keymap import ACTIONS, display_key

if TYPE_CHECKING:
    from uq.tui.app import UqApp


def bound_keys(screen: Screen[object], views: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(keys, description, action name) for each of uq's own actions reachable on `screen`,
    in the keymap's order; the name is what `[ui] keymap` takes. Framework bindings that are
    not uq actions (focus moves, copy) are left out: they are not the reviewer's keys."""
    by_action: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for key, active in screen.active_bindings.items():
        b = active.binding
        ident = b.id or b.action
        if ident not in ACTIONS:
            continue
        by_action.setdefault(ident, [])
        if key not in by_action[ident]:
            by_action[ident].append(key)
        labels[ident] = b.description or (ACTIONS[ident].description if ident in ACTIONS else b.action)
    for n, view in (views or {}).items():
        if f"view_{n}" in labels:
            labels[f"view_{n}"] = f"View: {view}"
    order = {name: i for i, name in enumerate(ACTIONS)}
    items = sorted(by_action.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return [(", ".join(display_key(k) for k in keys), labels[ident], ident) for ident, keys in items]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape,question_mark,q", "close", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        under = self.under
        table = Table(title="uq keys (as bound now)", expand=True, show_edge=False, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column("keymap name", style="dim", no_wrap=True)
        app = cast("UqApp", self.app)
        for keys, label, name in bound_keys(under, app.views):
            table.add_row(keys, label, name)
        views = ", ".join(f"{k} {v}" for k, v in sorted(app.views.items()))
        with VerticalScroll():
            yield Static(table, id="help-keys")
            yield Static(
                f"\nViews: {views}\nSort keys cycle: due → urgency → arrival → client\n"
                "Flags: U updated · ! parse problems · C call needed\n"
                "Countdown glyphs: ○ ok · ▲ warning · ✖ breached\n\nesc closes",
                id="help-notes",
            )

    def action_close(self) -> None:
        self.dismiss(None)
