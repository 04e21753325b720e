"""The one table of rebindable actions, and the validation of `ui.keymap` against it.

Bindings everywhere in the TUI carry an `id` equal to an action name here, so the App can
hand the validated map to Textual's `set_keymap` and every screen picks it up. Validation
happens before the App starts: a typo or a clash is a one-line ConfigError (exit 2), never
a silently dead key in the middle of a shift.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from uq.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    keys: str  # Textual key names, comma-separated
    description: str
    show: bool = True  # in the footer


_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("cursor_down", "j,down", "Down", show=False),
    ActionSpec("cursor_up", "k,up", "Up", show=False),
    ActionSpec("first", "g,home", "First case", show=False),
    ActionSpec("last", "G,end", "Last case", show=False),
    ActionSpec("page_down", "pagedown", "Page down", show=False),
    ActionSpec("page_up", "pageup", "Page up", show=False),
    ActionSpec("open", "enter", "Open"),
    ActionSpec("back", "escape", "Back", show=False),
    ActionSpec("filter", "slash", "Filter"),
    ActionSpec("sort", "s", "Sort"),
    ActionSpec("approve", "a", "Approve"),
    ActionSpec("deny", "d", "Deny"),
    ActionSpec("partial", "p", "Partial"),
    ActionSpec("call_needed", "c", "Call needed"),
    ActionSpec("pend", "i", "Pend (info)"),
    ActionSpec("decline", "x", "Decline"),
    ActionSpec("decline_specialty", "X", "Decline: outside specialty", show=False),
    ActionSpec("log_call", "l", "Log call"),
    ActionSpec("note", "m", "Private note", show=False),
    ActionSpec("undo", "u", "Undo"),
    ActionSpec("set_urgency", "U", "Set urgency", show=False),
    ActionSpec("open_attachment", "o", "Open attachment", show=False),
    ActionSpec("raw", "r", "Raw email", show=False),
    ActionSpec("accept_update", "V", "Accept (verify) an unverified update", show=False),
    ActionSpec("set_aside", "I", "Set-aside mail", show=False),
    ActionSpec("help", "question_mark", "Help"),
    ActionSpec("palette", "ctrl+p", "Commands", show=False),
    ActionSpec("redraw", "ctrl+l", "Redraw screen", show=False),
    ActionSpec("lock", "L", "Lock screen", show=False),
    ActionSpec("quit", "q", "Back / Quit"),
    *(ActionSpec(f"view_{n}", str(n), f"View {n}", show=False) for n in range(1, 10)),
)
ACTIONS: dict[str, ActionSpec] = {s.name: s for s in _SPECS}

# Queue and case screens are never focused at once, but both sit under the App's global
# keys; the simplest rule that keeps every screen unambiguous is one key, one action.
KEY_ALIASES = {"/": "slash", "?": "question_mark", "esc": "escape", "return": "enter"}


def _split(keys: str) -> list[str]:
    return [KEY_ALIASES.get(k.strip(), k.strip()) for k in keys.split(",") if k.strip()]


def resolve_keymap(overrides: dict[str, str]) -> dict[str, str]:
    """Defaults with the config's overrides applied: {action: "key1,key2"}.

    Raises ConfigError naming the offending action or key."""
    for action in overrides:
        if action not in ACTIONS:
            raise ConfigError(f"ui.keymap: unknown action '{action}' (see `?` in uq for the list)")
    effective = {name: ",".join(_split(overrides.get(name, spec.keys))) for name, spec in ACTIONS.items()}
    owner: dict[str, str] = {}
    for name, keys in effective.items():
        if not keys:
            raise ConfigError(f"ui.keymap: action '{name}' has no key")
        for key in keys.split(","):
            if key in owner:
                raise ConfigError(f"ui.keymap: key '{key}' is bound twice ('{owner[key]}' and '{name}')")
            owner[key] = name
    return effective


def binding(action: str, method: str | None = None, *, show: bool | None = None, priority: bool = False) -> Binding:
    """A Binding for a known action, keyed by its default keys and identified by its name
    so `App.set_keymap` can rebind it. `method` is the Textual action string to run."""
    spec = ACTIONS[action]
    return Binding(
        spec.keys,
        method or action,
        spec.description,
        show=spec.show if show is None else show,
        id=action,
        priority=priority,
    )


def display_key(key: str) -> str:
    """How a Textual key name reads in help: 'question_mark' → '?', 'ctrl+p' → 'ctrl+p'."""
    from textual.keys import format_key

    return format_key(key)
