"""Saving time on case: seconds the TUI measured (uq.queue.active) added to the case."""

from __future__ import annotations

from collections.abc import Mapping

from uq.services.context import Context


def add_active_time(ctx: Context, seconds: Mapping[int, int]) -> None:
    """{case pk: seconds} in one transaction; reports read the sum per case."""
    if not any(seconds.values()):
        return
    with ctx.store.tx() as tx:
        for case_pk, n in seconds.items():
            if n > 0:
                tx.add_active_seconds(case_pk, n)
