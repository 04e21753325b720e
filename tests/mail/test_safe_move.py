"""after_ingest = "move" on servers without MOVE: another client's \\Deleted message is never
expunged by uq (no plain EXPUNGE), on a real Dovecot advertising less than it has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dovecot import DOVECOT, Dovecot, started_dovecot
from tests.fixtures.mailcfg import case_email, make_cfg
from uq.mail.imap import INGESTED_KEYWORD, ImapSession

# Dovecot 2.3's post-login capabilities without MOVE, with and without UIDPLUS.
_BASE = (
    "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT THREAD=REFERENCES MULTIAPPEND UNSELECT "
    "CHILDREN NAMESPACE LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH SEARCHRES WITHIN "
    "CONTEXT=SEARCH LIST-STATUS BINARY SPECIAL-USE"
)
SERVERS = {"no-uidplus": _BASE, "uidplus-only": _BASE + " UIDPLUS"}


@pytest.fixture(params=sorted(SERVERS))
def old_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Dovecot]]:
    if not Path(DOVECOT).exists():
        pytest.fail(f"{DOVECOT} is missing: the IMAP tests need a real Dovecot", pytrace=False)
    d = started_dovecot(extra_conf=f"imap_capability = {SERVERS[request.param]}\n")
    try:
        yield request.param, d
    finally:
        d.stop()


def test_move_without_move_never_expunges_another_clients_deleted_message(
    old_server: tuple[str, Dovecot], tmp_path: Path
) -> None:
    kind, dovecot = old_server
    dovecot.append([case_email(1), case_email(2), case_email(3)])
    other = dovecot.client()  # another mail client, e.g. the nurse team's, on the same mailbox
    caps = other.capabilities()
    assert b"MOVE" not in caps and (b"UIDPLUS" in caps) == (kind == "uidplus-only")
    other.select_folder("INBOX")
    other.add_flags([3], ["\\Deleted"])  # marked, not yet expunged: the other client's business

    with ImapSession(make_cfg(tmp_path, dovecot, imap={"after_ingest": "move", "move_to": "Processed"})) as s:
        s.select()
        s.mark_ingested([1, 2])

    c = dovecot.client()
    c.select_folder("INBOX")
    left = c.get_flags(c.search("ALL"))
    assert 3 in left and b"\\Deleted" in left[3], "another client's \\Deleted message was expunged"
    if kind == "uidplus-only":  # UID EXPUNGE of exactly uq's two
        assert sorted(left) == [3]
    else:  # copied and flagged: no plain EXPUNGE, so they stay until someone expunges
        assert sorted(left) == [1, 2, 3]
        for uid in (1, 2):
            assert {b"\\Deleted", b"\\Seen", INGESTED_KEYWORD.encode()} <= set(left[uid])
    c.select_folder("Processed")
    assert len(c.search("ALL")) == 2
