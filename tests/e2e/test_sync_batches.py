"""A sync over several FETCH batches of the bench mix: exactly once, PDF text filled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from uq.config import load_config
from uq.mail.pdf_text import is_pdf
from uq.services import sync
from uq.services.context import Context


def test_batched_sync_stores_every_message_once_with_pdf_text(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path
) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.gen import make_emails

    n = 60
    dovecot_fn.append(make_emails(n))
    cfg = write_config(
        tmp_path, dovecot=dovecot_fn, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}", imap={"batch_size": 25}
    )
    ctx = Context.open(load_config(cfg))
    try:
        batches: list[int] = []
        summary = sync.sync_once(ctx, on_batch=lambda s: batches.append(s.total))
        assert summary.ingested == n
        assert len(batches) == 3 and sum(batches) == n
        assert ctx.store.counts()["messages"] == n
        assert sync.sync_once(ctx).total == 0  # the cursor moved: nothing again
        pdfs = [a for c in ctx.store.cases(open_only=False) for a in ctx.store.attachments(c.id) if is_pdf(a)]
        assert pdfs and all(a.text for a in pdfs)
    finally:
        ctx.close()
