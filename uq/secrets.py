"""Where passwords and OAuth2 tokens come from; never from the TOML file.

Order (DESIGN.md): the configured ``password_command`` when there is one, else
UQ_IMAP_PASSWORD / UQ_SMTP_PASSWORD when set (a .env file works), else the keyring
(service "uq", username "imap:<user>@<host>"). A command is run without a shell; its
output is never shown, logged or put in an error message, only its first word is.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from uq.config import Config, ImapConfig, SmtpConfig
from uq.errors import CredentialError

Kind = Literal["imap", "smtp"]
SERVICE = "uq"
COMMAND_TIMEOUT = 30.0
# keyrings.alt's file backends keep secrets base64-encoded or merely obscured on disk; they are
# for tests, never for a reviewer's passwords. Only this explicit opt-in admits them.
ALLOW_PLAINTEXT_ENV = "UQ_ALLOW_PLAINTEXT_KEYRING"
_PLAINTEXT_MODULES = ("keyrings.alt",)


def _section(kind: Kind, cfg: Config) -> ImapConfig | SmtpConfig:
    return cfg.imap if kind == "imap" else cfg.smtp


def keyring_username(kind: Kind, cfg: Config) -> str:
    sec = _section(kind, cfg)
    return f"{kind}:{sec.username}@{sec.host}"


def run_secret_command(argv: list[str], what: str) -> str:
    """Run argv (no shell) and return its stripped stdout; what names the config key."""
    name = Path(argv[0]).name if argv else "?"
    try:
        res = subprocess.run(
            argv,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise CredentialError(f"{what}: command not found: {name}") from None
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"{what}: {name} did not finish within {COMMAND_TIMEOUT:g}s"
        ) from None
    except OSError as exc:
        raise CredentialError(f"{what}: cannot run {name}: {exc.strerror}") from None
    if res.returncode != 0:
        raise CredentialError(f"{what}: {name} failed (exit status {res.returncode})")
    value = res.stdout.decode("utf-8", errors="replace").strip()
    if not value:
        raise CredentialError(f"{what}: {name} printed nothing")
    return value


def secret_for(kind: Kind, cfg: Config) -> str:
    """The password for kind's server, or CredentialError saying how to provide one."""
    sec = _section(kind, cfg)
    if sec.password_command:
        return run_secret_command(list(sec.password_command), f"{kind}.password_command")
    env = os.environ.get(f"UQ_{kind.upper()}_PASSWORD")
    if env:
        return env
    _refuse_plaintext_keyring(kind)
    stored = _keyring_get(kind, cfg)
    if stored:
        return stored
    raise CredentialError(
        f"no {kind.upper()} password: set {kind}.password_command, UQ_{kind.upper()}_PASSWORD, "
        f"or run `uq auth set {kind}`"
    )


def oauth2_token(kind: Kind, cfg: Config) -> str:
    """A fresh access token from the configured oauth2_token_command."""
    sec = _section(kind, cfg)
    if not sec.oauth2_token_command:
        raise CredentialError(f"no {kind.upper()} OAuth2 token: set {kind}.oauth2_token_command")
    return run_secret_command(list(sec.oauth2_token_command), f"{kind}.oauth2_token_command")


def store_password(kind: Kind, cfg: Config, password: str) -> None:
    """Save a password in the keyring (``uq auth set``)."""
    import keyring
    import keyring.errors

    if not password:
        raise CredentialError("refusing to store an empty password")
    _refuse_plaintext_keyring(kind)
    if keyring_status() == "unavailable":
        raise CredentialError(
            f"no keyring available to store the {kind.upper()} password: "
            f"set {kind}.password_command or UQ_{kind.upper()}_PASSWORD instead"
        )
    try:
        keyring.set_password(SERVICE, keyring_username(kind, cfg), password)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"cannot store the {kind.upper()} password in the keyring: {exc}"
        ) from None


def keyring_status() -> str:
    """The active keyring backend's name, or "unavailable" (for `uq doctor`)."""
    try:
        import keyring
        import keyring.backends.fail

        backend = keyring.get_keyring()
    except Exception:
        return "unavailable"
    if isinstance(backend, keyring.backends.fail.Keyring):
        return "unavailable"
    return f"{type(backend).__module__}.{type(backend).__name__}"


def is_plaintext_keyring(status: str) -> bool:
    """True when the backend named by keyring_status() stores secrets in a readable file."""
    return status.startswith(_PLAINTEXT_MODULES) and os.environ.get(ALLOW_PLAINTEXT_ENV) != "1"


def _refuse_plaintext_keyring(kind: Kind) -> None:
    status = keyring_status()
    if is_plaintext_keyring(status):
        raise CredentialError(
            f"refusing the keyring backend {status}: it keeps passwords in a plain file; "
            f"install a system keyring or set {kind}.password_command / UQ_{kind.upper()}_PASSWORD"
        )


def checked_keyring_status() -> str:
    """keyring_status() for `uq doctor`, raising when the backend is a plaintext file."""
    status = keyring_status()
    if is_plaintext_keyring(status):
        raise CredentialError(f"{status} keeps passwords in a plain file: uq will not use it")
    return status


def _keyring_get(kind: Kind, cfg: Config) -> str | None:
    return _keyring_value(keyring_username(kind, cfg))


def _keyring_value(username: str) -> str | None:
    try:
        import keyring

        value = keyring.get_password(SERVICE, username)
    except Exception:
        return None
    return value or None


AUDIT_KEY_ENV = "UQ_AUDIT_KEY"
AUDIT_KEY_USER = "audit-key"


AUDIT_KEY_FILE = "audit.key"


def audit_key(*, create: bool = True) -> tuple[bytes, str]:
    """The audit chain's HMAC key and where it came from: UQ_AUDIT_KEY when set (a team
    sharing one PostgreSQL queue sets the same value everywhere), else the system keyring,
    where `uq init` (or the first audited action, if init was skipped) creates a random one.
    Without a usable keyring (a headless machine; a plaintext file keyring is refused) the
    key lives in a 0600 file in the config dir, away from the database: weaker than a
    keyring, which `uq doctor` says, but intake and decisions must not stop for want of one."""
    env = os.environ.get(AUDIT_KEY_ENV)
    if env:
        return env.encode(), AUDIT_KEY_ENV
    status = keyring_status()
    if status == "unavailable" or is_plaintext_keyring(status):
        return _file_audit_key(create=create)
    stored = _keyring_value(AUDIT_KEY_USER)
    if stored:
        return stored.encode(), "keyring"
    if not create:
        raise CredentialError("no audit key in the keyring yet: `uq init` (or the first audited action) makes one")
    import keyring

    value = _new_key()
    try:
        keyring.set_password(SERVICE, AUDIT_KEY_USER, value)
    except Exception as exc:
        raise CredentialError(f"cannot store the audit key in the keyring: {type(exc).__name__}") from None
    return value.encode(), "keyring (new)"


def _new_key() -> str:
    import secrets as random_source

    return random_source.token_urlsafe(32)


def _file_audit_key(*, create: bool) -> tuple[bytes, str]:
    from uq.paths import config_dir, ensure_private_dir

    path = config_dir() / AUDIT_KEY_FILE
    where = f"{path} (no system keyring: a file, weaker than a keyring)"
    try:
        value = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        value = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(f"cannot read the audit key file {path}: {type(exc).__name__}") from None
    if value:
        return value.encode(), where
    if not create:
        raise CredentialError(f"no audit key yet ({path}): `uq init` (or the first audited action) makes one")
    ensure_private_dir(path.parent)
    value = _new_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another uq process made it first: use theirs
        return _file_audit_key(create=False)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    return value.encode(), where + " (new)"


def cached_audit_key() -> Callable[[], bytes]:
    """A key source for the store: resolved once, when the first audit write needs it."""
    found: list[bytes] = []

    def source() -> bytes:
        if not found:
            found.append(audit_key()[0])
        return found[0]

    return source


UNLOCK_USER = "unlock"


def unlock_passphrase() -> str | None:
    """The idle lock's passphrase (keyring service "uq", name "unlock"), None when unset.
    Raises what the keyring raises: the lock screen shows it and stays locked."""
    import keyring

    value: str | None = keyring.get_password(SERVICE, UNLOCK_USER)
    return value or None
