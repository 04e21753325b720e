"""ImapSession against a real Dovecot (one server per module, mailbox reset per test)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.mailcfg import case_email, make_cfg
from uq.errors import ConnectionFailed, CredentialError
from uq.mail.imap import INGESTED_KEYWORD, FolderState, ImapSession, check_login


@pytest.fixture(autouse=True)
def _clean(dovecot):
    dovecot.reset()


# ---------------------------------------------------------------- login and TLS


def test_imaps_login_with_ca_file(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot)
    assert cfg.imap.security == "ssl" and cfg.imap.port == dovecot.imaps_port
    assert check_login(cfg) == "ok: 0 messages in INBOX"
    dovecot.append([case_email(1), case_email(2)])
    assert check_login(cfg) == "ok: 2 messages in INBOX"


def test_starttls_login_on_plain_port(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot, imap={"port": dovecot.imap_port, "security": "starttls"})
    with ImapSession(cfg) as s:
        assert s.client.ssl is False
        assert s.client._starttls_done is True  # the login went over TLS
        assert s.select().exists == 0


def test_plain_login_allowed_on_loopback(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot, imap={"port": dovecot.imap_port, "security": "none"})
    assert check_login(cfg).startswith("ok: ")


def test_wrong_password_is_a_one_line_credential_error(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot, imap={"password_command": ["printf", "%s", "nope"]})
    with pytest.raises(CredentialError) as err:
        check_login(cfg)
    assert str(err.value) == f"IMAP login refused for reviewer at 127.0.0.1:{dovecot.imaps_port}"


def test_untrusted_certificate_without_ca_file(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot, imap={"ca_file": None})
    with pytest.raises(ConnectionFailed) as err:
        check_login(cfg)
    msg = str(err.value)
    assert msg == (
        f"IMAP 127.0.0.1:{dovecot.imaps_port}: certificate not trusted (set imap.ca_file?)"
    )
    assert "\n" not in msg


def test_certificate_for_another_host_name_says_so(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot, imap={"host": "127.1"})
    with pytest.raises(ConnectionFailed) as err:
        check_login(cfg)
    assert str(err.value) == (
        f"IMAP 127.1:{dovecot.imaps_port}: the server's certificate is not valid for the name '127.1'; "
        "set imap.host to a name the certificate lists"
    )


def test_untrusted_certificate_over_starttls(tmp_path, dovecot):
    cfg = make_cfg(
        tmp_path, dovecot, imap={"ca_file": None, "port": dovecot.imap_port, "security": "starttls"}
    )
    with pytest.raises(ConnectionFailed, match="certificate not trusted"):
        check_login(cfg)


def test_tls_to_the_plain_port_fails_cleanly(tmp_path, dovecot):
    cfg = make_cfg(tmp_path, dovecot, imap={"port": dovecot.imap_port, "security": "ssl"})
    with pytest.raises(ConnectionFailed, match=r"^IMAP 127\.0\.0\.1:\d+: TLS failed"):
        check_login(cfg)


def test_nobody_listening_is_connection_failed(tmp_path, dovecot):
    from tests.fixtures.ports import free_port

    cfg = make_cfg(tmp_path, dovecot, imap={"port": free_port()})
    with pytest.raises(ConnectionFailed, match="connection refused"):
        check_login(cfg)


def test_xoauth2_login_with_fixture_token(tmp_path, dovecot):
    token = dovecot.oauth_token()
    cfg = make_cfg(
        tmp_path,
        dovecot,
        imap={
            "auth": "xoauth2",
            "oauth2_token_command": ["printf", "%s", token],
            "password_command": None,
        },
    )
    assert check_login(cfg) == "ok: 0 messages in INBOX"


@pytest.mark.parametrize("kind", ["expired", "wrong-key", "other-user"])
def test_xoauth2_bad_token_refused(tmp_path, dovecot, kind):
    from tests.fixtures.jwt import make_token

    token = {
        "expired": dovecot.oauth_token(ttl=-60),
        "wrong-key": make_token("reviewer", b"not the server's key", 300),
        "other-user": dovecot.oauth_token(user="mallory"),
    }[kind]
    cfg = make_cfg(
        tmp_path, dovecot, imap={"auth": "xoauth2", "oauth2_token_command": ["printf", "%s", token]}
    )
    with pytest.raises(CredentialError, match=r"^IMAP login refused for reviewer at 127\.0\.0\.1:"):
        check_login(cfg)


def test_no_password_anywhere(tmp_path, dovecot, uq_home):
    cfg = make_cfg(tmp_path, dovecot, imap={"password_command": None})
    with pytest.raises(CredentialError) as err:
        check_login(cfg)
    assert str(err.value) == (
        "no IMAP password: set imap.password_command, UQ_IMAP_PASSWORD, or run `uq auth set imap`"
    )


# ---------------------------------------------------------------- reading


def test_select_reports_folder_state(tmp_path, dovecot):
    dovecot.append([case_email(1), case_email(2), case_email(3)])
    dovecot.set_uidvalidity(777)
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        assert s.select() == FolderState(uidvalidity=777, uidnext=4, exists=3)


def test_fetch_new_in_batches_keeps_raw_bytes_and_aware_dates(tmp_path, dovecot):
    base = datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
    raws = [case_email(i) for i in range(1, 6)]
    for i, raw in enumerate(raws):
        dovecot.append(raw, msg_time=base + timedelta(minutes=i))
    cfg = make_cfg(tmp_path, dovecot)
    with ImapSession(cfg) as s:
        s.select()
        batches = list(s.fetch_new(0, 2))
        assert [[m.uid for m in b] for b in batches] == [[1, 2], [3, 4], [5]]
        msgs = [m for b in batches for m in b]
        assert [m.raw for m in msgs] == raws
        for i, m in enumerate(msgs):
            assert m.internaldate is not None and m.internaldate.tzinfo is not None
            assert m.internaldate == base + timedelta(minutes=i)
            assert "\\Seen" not in m.flags  # BODY.PEEK: reading does not mark read
        assert [m.uid for b in s.fetch_new(3, 10) for m in b] == [4, 5]
        assert list(s.fetch_new(5, 10)) == []
        assert s.uids_after(5) == []  # "6:*" still matches UID 5 on the wire
    flags = dovecot.client()
    flags.select_folder("INBOX", readonly=True)
    assert all(b"\\Seen" not in f for f in flags.get_flags([1, 2, 3, 4, 5]).values())


def test_fetch_skips_expunged_uids(tmp_path, dovecot):
    dovecot.append([case_email(1), case_email(2)])
    c = dovecot.client()
    c.select_folder("INBOX")
    c.delete_messages([1])
    c.expunge()
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        assert [m.uid for m in s.fetch([1, 2])] == [2]


def test_mark_ingested_flag(tmp_path, dovecot):
    dovecot.append([case_email(1), case_email(2), case_email(3)])
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        s.mark_ingested([1, 3])
        s.mark_ingested([])
        flags = {m.uid: m.flags for m in s.fetch([1, 2, 3])}
    assert INGESTED_KEYWORD in flags[1] and "\\Seen" in flags[1]
    assert INGESTED_KEYWORD in flags[3]
    assert INGESTED_KEYWORD not in flags[2] and "\\Seen" not in flags[2]


def test_mark_ingested_move_creates_the_folder(tmp_path, dovecot):
    dovecot.append([case_email(1), case_email(2), case_email(3)])
    cfg = make_cfg(tmp_path, dovecot, imap={"after_ingest": "move", "move_to": "Processed"})
    with ImapSession(cfg) as s:
        s.select()
        s.mark_ingested([1, 2])
        assert s.uids_after(0) == [3]
    c = dovecot.client()
    assert c.select_folder("Processed")[b"EXISTS"] == 2
    subjects = sorted(
        v[b"BODY[HEADER.FIELDS (SUBJECT)]"]
        for v in c.fetch(c.search(), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]).values()
    )
    assert subjects == [
        b"Subject: UM review request #1\r\n\r\n",
        b"Subject: UM review request #2\r\n\r\n",
    ]


def test_mark_ingested_none_leaves_the_mailbox_alone(tmp_path, dovecot):
    dovecot.append(case_email(1))
    with ImapSession(make_cfg(tmp_path, dovecot, imap={"after_ingest": "none"})) as s:
        s.select()
        s.mark_ingested([1])
        flags = s.fetch([1])[0].flags
    assert "\\Seen" not in flags and INGESTED_KEYWORD not in flags


# ---------------------------------------------------------------- sent folder


def test_append_to_the_special_use_sent_folder(tmp_path, dovecot):
    dovecot.create_folder("Archive", special_use="\\Archive")
    dovecot.create_folder("Sent Messages", special_use="\\Sent")
    reply = case_email(9)
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        sent = s.find_sent_folder()
        assert sent == "Sent Messages"
        s.append(sent, reply)
    c = dovecot.client()
    c.select_folder("Sent Messages", readonly=True)
    [(_uid, data)] = c.fetch(c.search(), ["BODY.PEEK[]", "FLAGS"]).items()
    assert data[b"BODY[]"] == reply
    assert b"\\Seen" in data[b"FLAGS"]


def test_configured_sent_folder_wins(tmp_path, dovecot):
    dovecot.create_folder("Sent", special_use="\\Sent")
    with ImapSession(make_cfg(tmp_path, dovecot, imap={"sent_folder": "Replies"})) as s:
        assert s.find_sent_folder() == "Replies"


def test_sent_folder_auto_means_special_use(tmp_path, dovecot):
    dovecot.create_folder("Sent", special_use="\\Sent")
    with ImapSession(make_cfg(tmp_path, dovecot, imap={"sent_folder": "auto"})) as s:
        assert s.find_sent_folder() == "Sent"


def test_no_sent_folder(tmp_path, dovecot):
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        assert s.find_sent_folder() is None


# ---------------------------------------------------------------- waiting for mail


def test_wait_for_change_wakes_on_append_from_another_connection(tmp_path, dovecot):
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        assert s.has_idle
        timer = threading.Timer(0.2, dovecot.append, args=(case_email(1),))
        started = time.monotonic()
        timer.start()
        try:
            assert s.wait_for_change(10) is True
        finally:
            timer.join()
        assert time.monotonic() - started < 2.0
        assert s.uids_after(0) == [1]  # the session is usable after IDLE


def test_wait_for_change_times_out_quietly(tmp_path, dovecot):
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        started = time.monotonic()
        assert s.wait_for_change(0.3) is False
        assert 0.25 < time.monotonic() - started < 1.5
        assert s.select().exists == 0


def test_wait_for_change_reissues_idle(tmp_path, dovecot):
    # With idle_seconds = 1 the mail arrives during the second IDLE.
    cfg = make_cfg(tmp_path, dovecot, imap={"idle_seconds": 1})
    with ImapSession(cfg) as s:
        s.select()
        timer = threading.Timer(1.2, dovecot.append, args=(case_email(1),))
        timer.start()
        try:
            assert s.wait_for_change(5) is True
        finally:
            timer.join()
