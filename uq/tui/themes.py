"""Themes: Textual's own, plus a readable ANSI-only one for terminals whose palette the
reviewer has tuned (or that lie about truecolor). NO_COLOR is honoured by Textual itself
(it renders monochrome); the queue never relies on colour alone (glyphs, flags)."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.theme import Theme

from uq.errors import ConfigError

UQ_ANSI = Theme(
    name="uq-ansi",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    warning="ansi_yellow",
    error="ansi_bright_red",
    success="ansi_green",
    accent="ansi_cyan",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_white",
        "input-cursor-background": "ansi_white",
        "input-cursor-foreground": "ansi_black",
        "footer-key-foreground": "ansi_cyan",
    },
)
ANSI_THEMES = frozenset({"uq-ansi", "ansi-dark", "ansi-light"})


def apply_theme(app: App[Any], name: str) -> None:
    """Register uq's themes and select `ui.theme`; an unknown name is a ConfigError."""
    app.register_theme(UQ_ANSI)
    if name not in app.available_themes:
        known = ", ".join(sorted(app.available_themes))
        raise ConfigError(f"ui.theme: unknown theme '{name}' (one of {known})")
    if name in ANSI_THEMES:
        app.ansi_color = True
    app.theme = name
