"""`uq run` and `uq demo`: build the App with the right opener and run it.

The opener runs in a worker thread after the first paint; it is the only place that
imports the services (and so SQLAlchemy). Config problems the TUI can detect (keymap,
views, theme) raise ConfigError before the terminal is taken over, so the CLI prints one
line and exits 2.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from uq.config import Config
from uq.queue.clock import Clock, system_clock
from uq.services.quick import first_queue_rows
from uq.tui.app import Opened, UqApp


def run_opener(cfg: Config, clock: Clock, *, url: str | None = None) -> Callable[[], Opened]:
    """The real thing: the configured store, the IMAP watcher when IMAP is configured, SMTP."""

    def open_() -> Opened:
        from uq.services.context import Context

        ctx = Context.open(cfg, clock=clock, url=url)
        return Opened(ctx=ctx, sync=bool(cfg.imap.host), send=bool(cfg.smtp.host), cleanup=[ctx.close])

    return open_


def demo_opener(cfg: Config, clock: Clock, root: Path, *, save_template: bool = False) -> Callable[[], Opened]:
    """Bundled cases in a private temp database; replies become .eml files; no network."""

    def open_() -> Opened:
        from uq.paths import ensure_private_dir
        from uq.services import demo_template
        from uq.services.context import Context
        from uq.services.demo import demo_config, load_demo
        from uq.services.outbox import file_transport

        # the demo's trail lives and dies with its temporary database: its own random key,
        # never the reviewer's real one (and no keyring needed to try uq)
        demo_key = secrets.token_bytes(32)
        ctx = Context.open(demo_config(cfg, ensure_private_dir(root)), clock=clock, audit_key=lambda: demo_key)
        folder = load_demo(ctx)
        if save_template:
            demo_template.save(root / demo_template.DB_NAME, ctx.clock())
        return Opened(
            ctx=ctx,
            sync=False,
            send=True,
            transport=file_transport(folder),
            notice=f"replies → {folder}",
            replies=folder,
            cleanup=[ctx.close],
        )

    return open_


def build_app(cfg: Config, *, demo: bool, clock: Clock = system_clock) -> tuple[UqApp, Path | None]:
    """The demo's temp dir is made here (mkdtemp: 0700) so its name is known even if the
    App never gets as far as opening the store."""
    if demo:
        from uq.services import demo_template

        root = Path(tempfile.mkdtemp(prefix="uq-demo-"))
        restored = demo_template.restore(root, clock())  # stdlib only: the fast path can read it at once
        shown = replace(cfg, database=replace(cfg.database, url=f"sqlite:///{root / demo_template.DB_NAME}"))
        opener = demo_opener(cfg, clock, root, save_template=not restored)
        head = first_queue_rows(shown) if restored else None
        return UqApp(shown, opener=opener, clock=clock, demo=True, initial_rows=head), root
    return UqApp(cfg, opener=run_opener(cfg, clock), clock=clock, initial_rows=first_queue_rows(cfg)), None


def run_app(cfg: Config, *, demo: bool) -> int:
    app, root = build_app(cfg, demo=demo)
    result = app.run()
    if root is not None:
        folder = app.opened.replies if app.opened and app.opened.replies else root / "replies"
        sys.stdout.write(f"uq demo: replies were written to {folder}\n")
    return result if isinstance(result, int) else 0
