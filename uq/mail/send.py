"""The SMTP adapter: deliver one already-composed message, with verified TLS and AUTH.

What the outbox should do with each outcome:
    returns normally        delivered: mark the item sent.
    UncertainSendError      the whole message went out but no final reply came (the link
                            dropped or the end-of-data wait ran out): the server may have
                            stored it. Never resend blindly.
    ServerUnavailable       the session never reached MAIL FROM (refused, unreachable,
                            timed out, 4xx at login): nothing was sent, and the next reply
                            would meet the same server. A TransientSendError.
    TransientSendError      retry later (4xx reply, link gone before the end of the data).
                            Also a ConnectionFailed.
    PermanentSendError      do not retry: the server rejected this message (5xx), or some
                            recipients were refused after others accepted it.
    CredentialError         login refused or no secret: keep the item queued, tell the user.
    ConnectionFailed        TLS/certificate or config problem (not transient on its own):
                            keep the item queued, tell the user.
    ConfigError             smtp section incomplete.
So: everything except PermanentSendError means "the message is fine, try again later";
only TransientSendError should count as a normal retry attempt.

Timeouts follow RFC 5321 §4.5.3.2: every command waits `smtp.timeout_seconds`, but the
reply to the end of the data waits `smtp.data_timeout_seconds` (10 minutes), because a
server may store the message long before it answers, and giving up early is what turns one
reply into several.

API:
    send_message(cfg, raw, mail_from, recipients, before_data=None, accepted=None) -> None
        before_data() runs after the recipients are accepted and before the message is
        sent: the outbox checks there that the item is still its own; raising aborts the
        session before anything can be stored. accepted() runs as soon as the server has
        taken the message, before QUIT, so the outbox records it with no window left open.
    check_login(cfg) -> str      (for `uq doctor`)
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence

from uq.config import Config, is_loopback
from uq.errors import ConfigError, ConnectionFailed, CredentialError, SendError
from uq.mail.tls import cert_problem, ssl_context
from uq.secrets import oauth2_token, secret_for


class TransientSendError(SendError, ConnectionFailed):
    """Try again later: the server or the network said "not now"."""


class ServerUnavailable(TransientSendError):
    """The session never got as far as sending anything: every reply would fail alike."""


class UncertainSendError(SendError):
    """The data went out and no final reply came: the server may or may not have it."""


class PermanentSendError(SendError):
    """The server refused this message for good: retrying will not help."""



def _reply(code: int, text: bytes | str) -> str:
    msg = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(msg.split())}"[:200]


class _Smtp:
    """Connect + TLS + AUTH, mapping every failure to a uq error."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.s = cfg.smtp
        self.where = f"SMTP {self.s.host}:{self.s.port}"

    @contextlib.contextmanager
    def session(self) -> Iterator[smtplib.SMTP]:
        """Connected, TLS, logged in. A failure before the session is up is a
        ServerUnavailable (nothing sent); after it, a TransientSendError."""
        s = self.s
        if not s.host:
            raise ConfigError(f"{self.cfg.path or '<config>'}: 'smtp.host' is not set")
        if s.security == "none" and not is_loopback(s.host):
            raise ConfigError(f'smtp.security = "none" is refused for {s.host}')
        secret = ""
        if s.username:
            secret = (
                oauth2_token("smtp", self.cfg)
                if s.auth == "xoauth2"
                else secret_for("smtp", self.cfg)
            )
        ctx = ssl_context(s.ca_file)
        conn: smtplib.SMTP | None = None
        up = False
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=ctx)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
                if s.security == "starttls":
                    conn.ehlo()
                    conn.starttls(context=ctx)
            conn.ehlo()
            if s.username:
                self._login(conn, secret)
            up = True
            yield conn
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.putcmd("quit")  # not awaited: the message is accepted, the outbox marks it now
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:
                raise ServerUnavailable(
                    f"{self.where}: login deferred: {_reply(exc.smtp_code, exc.smtp_error)}"
                ) from None
            raise CredentialError(
                f"SMTP login refused for {s.username} at {s.host}:{s.port}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ConnectionFailed(f"{self.where}: {exc}; check smtp.security") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise self._transient(up, _reply(exc.smtp_code, exc.smtp_error)) from None
            raise PermanentSendError(
                f"{self.where}: rejected: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            timed_out = isinstance(exc.__context__, TimeoutError)
            what = f"timed out after {s.timeout_seconds:g}s" if timed_out else "server closed the connection"
            raise self._transient(up, what) from None
        except ssl.SSLCertVerificationError as exc:
            raise ConnectionFailed(f"{self.where}: {cert_problem(exc, s.host, 'smtp')}") from None
        except ssl.SSLError as exc:
            raise ConnectionFailed(
                f"{self.where}: TLS failed ({exc.reason}); check smtp.security"
            ) from None
        except TimeoutError:
            raise self._transient(up, f"timed out after {s.timeout_seconds:g}s") from None
        except ConnectionRefusedError:
            raise self._transient(up, "connection refused") from None
        except socket.gaierror:
            raise self._transient(up, "host not found") from None
        except OSError as exc:
            raise self._transient(up, exc.strerror or exc.__class__.__name__) from None
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _transient(self, up: bool, what: str) -> TransientSendError:
        return (TransientSendError if up else ServerUnavailable)(f"{self.where}: {what}")

    def _login(self, conn: smtplib.SMTP, secret: str) -> None:
        if self.s.auth == "xoauth2":
            initial = f"user={self.s.username}\x01auth=Bearer {secret}\x01\x01"

            def xoauth2(challenge: bytes | None = None) -> str:
                # On failure the server sends a JSON error as a challenge; answer empty.
                return initial if challenge is None else ""

            conn.auth("XOAUTH2", xoauth2, initial_response_ok=True)
        elif "PLAIN" in conn.esmtp_features.get("auth", "").upper().split():
            # One attempt only: login() would retry a refused password with every other
            # mechanism, which costs time and failed-login counts on the server.
            conn.user, conn.password = self.s.username, secret
            conn.auth("PLAIN", conn.auth_plain, initial_response_ok=True)
        else:
            conn.login(self.s.username, secret)


def send_message(
    cfg: Config,
    raw: bytes,
    mail_from: str,
    recipients: Sequence[str],
    before_data: Callable[[], None] | None = None,
    accepted: Callable[[], None] | None = None,
) -> None:
    """Deliver raw (exactly these bytes) to recipients. See the module doc for the errors."""
    rcpts = list(recipients)
    if not rcpts:
        raise PermanentSendError("no recipients")
    smtp = _Smtp(cfg)
    with smtp.session() as conn:
        options: list[str] = []
        if any(b > 127 for b in raw) and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        code, resp = conn.mail(mail_from, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, resp, mail_from)
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in rcpts:
            code, resp = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, resp)
        if len(refused) == len(rcpts):
            codes = [c for c, _ in refused.values()]
            detail = _reply(*next(iter(refused.values())))
            if all(400 <= c < 500 for c in codes):
                raise TransientSendError(f"{smtp.where}: recipients deferred: {detail}")
            raise PermanentSendError(f"{smtp.where}: recipients refused: {detail}")
        if before_data is not None:
            before_data()
        _data(conn, raw, smtp, cfg.smtp.data_timeout_seconds)
        if refused:
            code, text = next(iter(refused.values()))
            raise PermanentSendError(
                f"{smtp.where}: {len(refused)} of {len(rcpts)} recipients refused "
                f"({_reply(code, text)}); the others were sent"
            )
        if accepted is not None:
            accepted()


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _data(conn: smtplib.SMTP, raw: bytes, smtp: _Smtp, final_timeout: float) -> None:
    """DATA, the message, and the one long wait for the final reply (RFC 5321 §4.5.3.2).
    Once the last byte is out, a lost link or a silent server leaves the outcome unknown."""
    code, resp = conn.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, resp)
    body = _LEADING_DOT.sub(b"..", raw)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    conn.send(body + b".\r\n")
    sock = conn.sock
    try:
        if sock is not None:
            sock.settimeout(final_timeout)
        code, resp = conn.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        timed_out = isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
        what = f"no reply within {final_timeout:g}s" if timed_out else "connection lost"
        raise UncertainSendError(
            f"{smtp.where}: {what} after the message was sent; the server may have it"
        ) from None
    finally:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(smtp.s.timeout_seconds)
    if code != 250:
        raise smtplib.SMTPDataError(code, resp)


def check_login(cfg: Config) -> str:
    """For `uq doctor`: connect, TLS, log in, NOOP; raises UqError on failure."""
    smtp = _Smtp(cfg)
    with smtp.session() as conn:
        conn.noop()
    who = f" as {cfg.smtp.username}" if cfg.smtp.username else ""
    return f"ok: logged in to {cfg.smtp.host}:{cfg.smtp.port}{who}"
