"""A link lost after the batch is stored but before the server marked it: the next sync
finishes the marking (the cursor has moved, so those messages are never fetched again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.mailcfg import case_email
from uq.config import load_config
from uq.errors import ConnectionFailed
from uq.mail.imap import INGESTED_KEYWORD, ImapSession
from uq.services import sync
from uq.services.context import Context


def test_marking_interrupted_after_the_commit_is_finished_next_time(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot_fn.append([case_email(i) for i in range(3)])
    cfg = write_config(tmp_path, dovecot=dovecot_fn, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    ctx = Context.open(load_config(cfg))

    def link_drops(self: ImapSession, uids: Any) -> None:
        raise ConnectionFailed("IMAP 127.0.0.1: connection reset")

    with monkeypatch.context() as m:
        m.setattr(ImapSession, "mark_ingested", link_drops)
        with pytest.raises(ConnectionFailed):
            sync.sync_once(ctx)
    assert ctx.store.counts()["cases"] == 3  # stored (and the cursor moved) before the link dropped

    def flags() -> list[set[bytes]]:
        c = dovecot_fn.client()
        c.select_folder("INBOX", readonly=True)
        got = [set(f) for f in c.get_flags(c.search("ALL")).values()]
        c.logout()
        return got

    assert all(INGESTED_KEYWORD.encode() not in f for f in flags())
    summary = sync.sync_once(ctx)
    assert summary.total == 0, "nothing fetched again"
    assert all(INGESTED_KEYWORD.encode() in f and b"\\Seen" in f for f in flags())
    with ctx.store.tx() as tx:
        assert tx.pending_marks("INBOX", next(iter(tx.known_uidvalidities("INBOX")))) == []
