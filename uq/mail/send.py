"""The SMTP adapter: deliver one already-composed message, with verified TLS and AUTH.

What the outbox should do with each outcome:
    returns normally        delivered: mark the item sent.
    TransientSendError      retry later (4xx reply, refused/reset/timed-out connection,
                            server gone mid-session). Also a ConnectionFailed.
    PermanentSendError      do not retry: the server rejected this message (5xx), or some
                            recipients were refused after others accepted it.
    CredentialError         login refused or no secret: keep the item queued, tell the user.
    ConnectionFailed        TLS/certificate or config problem (not transient on its own):
                            keep the item queued, tell the user.
    ConfigError             smtp section incomplete.
So: everything except PermanentSendError means "the message is fine, try again later";
only TransientSendError should count as a normal retry attempt.

API:
    send_message(cfg, raw, mail_from, recipients) -> None
    check_login(cfg) -> str      (for `uq doctor`)
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence

from uq.config import Config, is_loopback
from uq.errors import ConfigError, ConnectionFailed, CredentialError, SendError
from uq.mail.tls import ssl_context
from uq.secrets import oauth2_token, secret_for


class TransientSendError(SendError, ConnectionFailed):
    """Try again later: the server or the network said "not now"."""


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
            yield conn
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.quit()
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientSendError(
                    f"{self.where}: login deferred: {_reply(exc.smtp_code, exc.smtp_error)}"
                ) from None
            raise CredentialError(
                f"SMTP login refused for {s.username} at {s.host}:{s.port}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ConnectionFailed(f"{self.where}: {exc}; check smtp.security") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientSendError(
                    f"{self.where}: {_reply(exc.smtp_code, exc.smtp_error)}"
                ) from None
            raise PermanentSendError(
                f"{self.where}: rejected: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPServerDisconnected:
            raise TransientSendError(f"{self.where}: server closed the connection") from None
        except ssl.SSLCertVerificationError:
            raise ConnectionFailed(
                f"{self.where}: certificate not trusted (set smtp.ca_file?)"
            ) from None
        except ssl.SSLError as exc:
            raise ConnectionFailed(
                f"{self.where}: TLS failed ({exc.reason}); check smtp.security"
            ) from None
        except TimeoutError:
            raise TransientSendError(
                f"{self.where}: timed out after {s.timeout_seconds:g}s"
            ) from None
        except ConnectionRefusedError:
            raise TransientSendError(f"{self.where}: connection refused") from None
        except socket.gaierror:
            raise TransientSendError(f"{self.where}: host not found") from None
        except OSError as exc:
            raise TransientSendError(
                f"{self.where}: {exc.strerror or exc.__class__.__name__}"
            ) from None
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

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


def send_message(cfg: Config, raw: bytes, mail_from: str, recipients: Sequence[str]) -> None:
    """Deliver raw (exactly these bytes) to recipients. See the module doc for the errors."""
    rcpts = list(recipients)
    if not rcpts:
        raise PermanentSendError("no recipients")
    smtp = _Smtp(cfg)
    with smtp.session() as conn:
        options: list[str] = []
        if any(b > 127 for b in raw) and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            refused = conn.sendmail(mail_from, rcpts, raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            first = next(iter(exc.recipients.values()))
            detail = _reply(first[0], first[1])
            if all(400 <= c < 500 for c in codes):
                raise TransientSendError(f"{smtp.where}: recipients deferred: {detail}") from None
            raise PermanentSendError(f"{smtp.where}: recipients refused: {detail}") from None
        if refused:
            code, text = next(iter(refused.values()))
            raise PermanentSendError(
                f"{smtp.where}: {len(refused)} of {len(rcpts)} recipients refused "
                f"({_reply(code, text)}); the others were sent"
            )


def check_login(cfg: Config) -> str:
    """For `uq doctor`: connect, TLS, log in, NOOP; raises UqError on failure."""
    smtp = _Smtp(cfg)
    with smtp.session() as conn:
        conn.noop()
    who = f" as {cfg.smtp.username}" if cfg.smtp.username else ""
    return f"ok: logged in to {cfg.smtp.host}:{cfg.smtp.port}{who}"
