"""ImapSession when the server dies, restarts or changes UIDVALIDITY (a Dovecot per test)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.fixtures.mailcfg import case_email, make_cfg
from uq.errors import ConnectionFailed
from uq.mail.imap import ImapSession, check_login


def test_wait_for_change_raises_after_kill(tmp_path, dovecot_fn):
    with ImapSession(make_cfg(tmp_path, dovecot_fn)) as s:
        s.select()
        timer = threading.Timer(0.2, dovecot_fn.kill)
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(ConnectionFailed) as err:
                s.wait_for_change(10)
        finally:
            timer.join()
        assert time.monotonic() - started < 3
        assert str(err.value).startswith(f"IMAP 127.0.0.1:{dovecot_fn.imaps_port}: ")
        assert "\n" not in str(err.value)
        # The dead link is dropped: later calls fail fast, they do not hang.
        with pytest.raises(ConnectionFailed, match="not connected"):
            s.uids_after(0)


def test_killed_server_is_refused_then_restart_keeps_mail(tmp_path, dovecot_fn):
    dovecot_fn.append([case_email(1), case_email(2)])
    cfg = make_cfg(tmp_path, dovecot_fn)
    with ImapSession(cfg) as s:
        before = s.select()
    dovecot_fn.kill()
    with pytest.raises(ConnectionFailed, match=r"^IMAP 127\.0\.0\.1:\d+: connection refused$"):
        check_login(cfg)
    dovecot_fn.start()
    with ImapSession(cfg) as s:
        assert s.select() == before
        assert [m.raw for b in s.fetch_new(0, 10) for m in b] == [case_email(1), case_email(2)]


def test_command_after_kill_is_connection_failed(tmp_path, dovecot_fn):
    with ImapSession(make_cfg(tmp_path, dovecot_fn)) as s:
        s.select()
        dovecot_fn.kill()
        with pytest.raises(ConnectionFailed):
            s.uids_after(0)


def test_uidvalidity_change_while_selected(tmp_path, dovecot_fn):
    dovecot_fn.append([case_email(1), case_email(2)])
    cfg = make_cfg(tmp_path, dovecot_fn)
    with ImapSession(cfg) as s:
        first = s.select()
        dovecot_fn.set_uidvalidity(first.uidvalidity + 1000)
        # Dovecot notices at the next mailbox sync (NOOP/IDLE) and drops the session.
        with pytest.raises(ConnectionFailed, match="connection lost"):
            s.wait_for_change(0.2)
    with ImapSession(cfg) as s:
        assert s.select().uidvalidity == first.uidvalidity + 1000
        assert s.uids_after(0) == [1, 2]  # doveadm keeps the UIDs
