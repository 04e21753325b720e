"""ctrl+p: every uq action by name, and any open case by its ID.

Actions run on the screen the palette was opened from (queue actions on the queue, case
actions on the case screen); the case search looks only at rows already in memory, so it
answers per keystroke without touching the store."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape

from uq.textsafe import safe_line
from uq.tui.keymap import ACTIONS

if TYPE_CHECKING:
    from uq.tui.app import UqApp

# Actions the App itself handles; the rest are screen actions.
APP_ACTIONS = frozenset({"help", "quit", "lock"})
# Not useful from a palette (they are the palette, or pure motion).
SKIP = frozenset({"palette", "cursor_down", "cursor_up", "page_down", "page_up", "back"})
_ACTION_METHOD = {
    **{
        name: f"decide('{name}')"
        for name in ("approve", "deny", "partial", "call_needed", "pend", "decline", "decline_specialty")
    },
    **{f"view_{n}": f"view({n})" for n in range(1, 10)},
}


class UqCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("UqApp", self.app)
        keymap = getattr(app, "keymap", {})
        out: list[tuple[str, str, Callable[[], object]]] = []
        for name, spec in ACTIONS.items():
            if name in SKIP:
                continue
            label = spec.description
            if name.startswith("view_"):
                view = getattr(app, "views", {}).get(name[5:])
                if view is None:
                    continue
                label = f"View: {view}"
            method = _ACTION_METHOD.get(name, name)
            target = f"app.{method}" if name in APP_ACTIONS else method
            out.append((label, keymap.get(name, spec.keys), partial(self._run, target)))
        return out

    async def _run(self, action: str) -> None:
        if action.startswith("app."):
            await self.app.run_action(action)
        else:
            await self.screen.run_action(action)

    async def discover(self) -> Hits:
        for label, keys, command in self._commands():
            yield DiscoveryHit(label, command, help=f"key: {keys}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, keys, command in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), command, help=f"key: {keys}")
        app = cast("UqApp", self.app)
        try:
            rows = app.queue_screen.all_rows
        except (LookupError, AttributeError):
            return
        needle = query.strip().lower()
        for row in rows:
            if needle and needle in row.case_id.lower():
                text = f"Open case {row.shown_id or safe_line(row.case_id)}"
                yield Hit(
                    max(0.5, matcher.match(text)),
                    _highlight(matcher, text),
                    partial(app.open_case, row.pk),
                    help=escape(f"{row.client} · {row.service}"[:60]),  # Textual parses help as markup
                )


def _highlight(matcher: Matcher, text: str) -> Content:
    """Matcher.highlight parses its argument as markup; a case ID holding `[/` would crash
    the palette. Build the Content from plain text and style the matched characters."""
    content = Content(text)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
