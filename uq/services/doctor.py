"""`uq doctor`: one line per check, so a reviewer can see at a glance what is wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from uq.config import Config
from uq.errors import UqError


def _check(name: str, fn: Callable[[], str]) -> tuple[str, bool, str]:
    try:
        return name, True, fn()
    except UqError as exc:
        return name, False, str(exc)
    except Exception as exc:
        return name, False, f"{type(exc).__name__}: {exc}"


def run_checks(cfg: Config) -> Iterator[tuple[str, bool, str]]:
    yield "config", True, cfg.path or "built-in defaults (no config file; run `uq init`)"

    def keyring_check() -> str:
        from uq.secrets import checked_keyring_status

        return checked_keyring_status()

    yield _check("keyring", keyring_check)

    def audit_key_check() -> str:
        from uq.secrets import audit_key
        from uq.store.audit_chain import key_id

        key, where = audit_key(create=False)
        return f"key {key_id(key)} from {where} (signs the audit trail)"

    yield _check("audit", audit_key_check)

    def lock() -> str:
        sec = cfg.security
        if sec.lock_after_minutes <= 0:
            raise UqError("off (security.lock_after_minutes = 0): nothing hides the screen when you walk away")
        if sec.unlock != "password":
            return (
                f"screen curtain after {sec.lock_after_minutes} min idle: any key shows the screen again "
                '(not a lock; security.unlock = "password" makes it one)'
            )
        from uq.secrets import unlock_passphrase

        if unlock_passphrase() is None:
            raise UqError("passphrase lock, but no passphrase in the keyring: run `keyring set uq unlock`")
        return f"passphrase lock after {sec.lock_after_minutes} min idle and at start-up"

    yield _check("lock", lock)

    def database() -> str:
        # doctor only looks: it never creates the file or the schema it is checking
        from uq.store import db
        from uq.store.repo import Store

        path = db.sqlite_path(cfg.database_url)
        if path is not None and not path.exists():
            return f"{path} not created yet (`uq db upgrade` or the first `uq` run creates it)"
        store = Store.open(cfg.database_url, create=False)
        try:
            n = store.counts()
            where = f"{path} (mode {oct(path.stat().st_mode & 0o777)})" if path else store.engine.url.render_as_string()
            return f"{where}: {n['open']} open of {n['cases']} cases"
        finally:
            store.close()

    yield _check("database", database)

    def imap() -> str:
        if not cfg.imap.host:
            raise UqError("imap.host is not set")
        from uq.mail.imap import check_login

        return check_login(cfg)

    yield _check("imap", imap)

    def smtp() -> str:
        if not cfg.smtp.host:
            raise UqError("smtp.host is not set")
        from uq.mail.send import check_login

        return check_login(cfg)

    yield _check("smtp", smtp)
