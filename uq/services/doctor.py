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
