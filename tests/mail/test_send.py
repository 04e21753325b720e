"""send_message against a real aiosmtpd server with STARTTLS and AUTH."""

from __future__ import annotations

import pytest

from tests.fixtures.mailcfg import case_email, make_cfg
from uq.errors import ConnectionFailed, CredentialError, SendError
from uq.mail.send import PermanentSendError, TransientSendError, check_login, send_message

FROM = "reviewer@example.test"
TO = ["nurse1@payer.example", "um-team@payer.example"]


def reply(n: int = 1) -> bytes:
    return case_email(n).replace(b"UM review request", b"Re: UM review request")


def test_sends_over_starttls_with_auth(tmp_path, smtp_server):
    cfg = make_cfg(tmp_path, smtp=smtp_server)
    raw = reply()
    send_message(cfg, raw, FROM, TO)
    [(mail_from, rcpts, captured)] = smtp_server.messages
    assert mail_from == FROM
    assert rcpts == TO
    assert captured == raw
    assert smtp_server.logins == ["PLAIN:reviewer"]


def test_dot_lines_and_8bit_survive(tmp_path, smtp_server):
    raw = (
        b"From: reviewer@example.test\r\nTo: nurse1@payer.example\r\nSubject: x\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n.leading dot\r\nna\xc3\xafve caf\xc3\xa9\r\n.\r\n"
    )
    send_message(make_cfg(tmp_path, smtp=smtp_server), raw, FROM, TO[:1])
    assert smtp_server.messages[0].raw == raw


def test_451_is_transient_and_the_retry_goes_through(tmp_path, smtp_server):
    cfg = make_cfg(tmp_path, smtp=smtp_server)
    smtp_server.fail_next(1)
    with pytest.raises(TransientSendError) as err:
        send_message(cfg, reply(), FROM, TO)
    assert str(err.value) == f"SMTP 127.0.0.1:{smtp_server.port}: 451 4.3.0 Try again later"
    assert isinstance(err.value, SendError) and isinstance(err.value, ConnectionFailed)
    assert smtp_server.messages == []
    send_message(cfg, reply(), FROM, TO)
    assert len(smtp_server.messages) == 1


def test_5xx_is_permanent(tmp_path, smtp_server):
    smtp_server.fail_next(1, "554 5.6.0 Message rejected")
    with pytest.raises(PermanentSendError, match=r"rejected: 554 5\.6\.0 Message rejected$"):
        send_message(make_cfg(tmp_path, smtp=smtp_server), reply(), FROM, TO)
    assert not isinstance(PermanentSendError("x"), ConnectionFailed)


def test_stopped_server_is_retryable_then_recovers(tmp_path, smtp_server):
    cfg = make_cfg(tmp_path, smtp=smtp_server)
    smtp_server.stop()
    with pytest.raises(TransientSendError) as err:
        send_message(cfg, reply(), FROM, TO)
    assert str(err.value) == f"SMTP 127.0.0.1:{smtp_server.port}: connection refused"
    smtp_server.start()
    send_message(cfg, reply(), FROM, TO)
    assert len(smtp_server.messages) == 1


def test_wrong_password_is_a_credential_error(tmp_path, smtp_server):
    cfg = make_cfg(tmp_path, smtp=smtp_server, smtp_={"password_command": ["printf", "%s", "bad"]})
    with pytest.raises(CredentialError) as err:
        send_message(cfg, reply(), FROM, TO)
    assert str(err.value) == f"SMTP login refused for reviewer at 127.0.0.1:{smtp_server.port}"
    assert smtp_server.messages == []


def test_untrusted_certificate(tmp_path, smtp_server):
    cfg = make_cfg(tmp_path, smtp=smtp_server, smtp_={"ca_file": None})
    with pytest.raises(ConnectionFailed) as err:
        send_message(cfg, reply(), FROM, TO)
    assert not isinstance(err.value, TransientSendError)  # a config problem, not "later"
    assert str(err.value) == (
        f"SMTP 127.0.0.1:{smtp_server.port}: certificate not trusted (set smtp.ca_file?)"
    )


def test_certificate_for_another_host_name_says_so(tmp_path, smtp_server):
    # "127.1" reaches 127.0.0.1, but the certificate names localhost and 127.0.0.1 only
    cfg = make_cfg(tmp_path, smtp=smtp_server, smtp_={"host": "127.1"})
    with pytest.raises(ConnectionFailed) as err:
        send_message(cfg, reply(), FROM, TO)
    assert str(err.value) == (
        f"SMTP 127.1:{smtp_server.port}: the server's certificate is not valid for the name '127.1'; "
        "set smtp.host to a name the certificate lists"
    )


def test_password_needs_tls_so_plain_is_refused(tmp_path, smtp_server):
    # security "none" on loopback: the server never offers AUTH without TLS.
    cfg = make_cfg(tmp_path, smtp=smtp_server, smtp_={"security": "none"})
    with pytest.raises(ConnectionFailed, match=r"check smtp\.security"):
        send_message(cfg, reply(), FROM, TO)


def test_xoauth2(tmp_path, smtp_server):
    token = smtp_server.oauth_token()
    cfg = make_cfg(
        tmp_path,
        smtp=smtp_server,
        smtp_={"auth": "xoauth2", "oauth2_token_command": ["printf", "%s", token]},
    )
    send_message(cfg, reply(), FROM, TO)
    assert len(smtp_server.messages) == 1


def test_xoauth2_bad_token(tmp_path, smtp_server):
    token = smtp_server.oauth_token(ttl=-10)
    cfg = make_cfg(
        tmp_path,
        smtp=smtp_server,
        smtp_={"auth": "xoauth2", "oauth2_token_command": ["printf", "%s", token]},
    )
    with pytest.raises(CredentialError, match=r"^SMTP login refused for reviewer"):
        send_message(cfg, reply(), FROM, TO)


def test_check_login(tmp_path, smtp_server):
    cfg = make_cfg(tmp_path, smtp=smtp_server)
    assert check_login(cfg) == f"ok: logged in to 127.0.0.1:{smtp_server.port} as reviewer"
    assert smtp_server.messages == []
