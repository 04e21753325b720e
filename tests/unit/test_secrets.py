"""uq.secrets: where passwords come from, in which order, and how failures read."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from uq.config import parse_config
from uq.errors import CredentialError
from uq.secrets import keyring_status, oauth2_token, secret_for, store_password


def cfg(**imap):
    base = {"host": "mail.example.test", "username": "reviewer"}
    return parse_config(
        {"imap": {**base, **imap}, "smtp": {"host": "smtp.example.test", "username": "rev"}}
    )


def test_keyring_used_when_nothing_else(uq_home):
    c = cfg()
    store_password("imap", c, "from-keyring")
    assert keyring.get_password("uq", "imap:reviewer@mail.example.test") == "from-keyring"
    assert secret_for("imap", c) == "from-keyring"
    with pytest.raises(CredentialError, match="no SMTP password"):
        secret_for("smtp", c)  # stored per kind, user and host


def test_env_var_beats_keyring(uq_home, monkeypatch):
    c = cfg()
    store_password("imap", c, "from-keyring")
    monkeypatch.setenv("UQ_IMAP_PASSWORD", "from-env")
    assert secret_for("imap", c) == "from-env"


def test_command_beats_env_and_keyring(uq_home, monkeypatch):
    c = cfg(password_command=["printf", "  from-command\n"])
    store_password("imap", c, "from-keyring")
    monkeypatch.setenv("UQ_IMAP_PASSWORD", "from-env")
    assert secret_for("imap", c) == "from-command"  # stripped


def test_smtp_uses_its_own_env_var(uq_home, monkeypatch):
    monkeypatch.setenv("UQ_IMAP_PASSWORD", "imap-pw")
    monkeypatch.setenv("UQ_SMTP_PASSWORD", "smtp-pw")
    assert secret_for("smtp", cfg()) == "smtp-pw"


def test_nothing_found(uq_home):
    with pytest.raises(CredentialError) as err:
        secret_for("imap", cfg())
    assert str(err.value) == (
        "no IMAP password: set imap.password_command, UQ_IMAP_PASSWORD, or run `uq auth set imap`"
    )


def test_failing_command_is_one_line_and_never_shows_output(uq_home, monkeypatch):
    monkeypatch.setenv("UQ_IMAP_PASSWORD", "from-env")  # not used as a silent fallback
    c = cfg(password_command=["sh", "-c", "echo hunter2; echo oops-hunter2 >&2; exit 3"])
    with pytest.raises(CredentialError) as err:
        secret_for("imap", c)
    msg = str(err.value)
    assert msg == "imap.password_command: sh failed (exit status 3)"
    assert "hunter2" not in msg and "\n" not in msg


def test_missing_and_silent_commands(uq_home):
    with pytest.raises(
        CredentialError, match=r"^imap.password_command: command not found: nope-x$"
    ):
        secret_for("imap", cfg(password_command=["/no/such/nope-x"]))
    with pytest.raises(CredentialError, match="printed nothing"):
        secret_for("imap", cfg(password_command=["true"]))


def test_command_timeout(uq_home, monkeypatch):
    import uq.secrets

    monkeypatch.setattr(uq.secrets, "COMMAND_TIMEOUT", 0.2)
    with pytest.raises(CredentialError, match=r"^imap.password_command: sleep did not finish"):
        secret_for("imap", cfg(password_command=["sleep", "5"]))


def test_oauth2_token(uq_home):
    c = cfg(auth="xoauth2", oauth2_token_command=["printf", "tok.en.sig\n"])
    assert oauth2_token("imap", c) == "tok.en.sig"
    with pytest.raises(
        CredentialError, match=r"^no SMTP OAuth2 token: set smtp\.oauth2_token_command$"
    ):
        oauth2_token("smtp", c)


def test_keyring_status_and_unavailable_keyring(uq_home):
    assert keyring_status() == "keyrings.alt.file.PlaintextKeyring"
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert keyring_status() == "unavailable"
    with pytest.raises(CredentialError, match="no keyring available"):
        store_password("imap", cfg(), "pw")
    with pytest.raises(CredentialError, match="no IMAP password"):
        secret_for("imap", cfg())  # an unusable keyring is "not found", not a crash


def test_outside_uq_home_the_real_keyring_is_out_of_reach():
    assert keyring_status() == "unavailable"


def test_plaintext_keyring_refused_without_the_test_opt_in(uq_home, monkeypatch):
    """keyrings.alt (installed with the test extras) must never hold a reviewer's password."""
    from uq.secrets import ALLOW_PLAINTEXT_ENV, checked_keyring_status

    monkeypatch.delenv(ALLOW_PLAINTEXT_ENV)
    with pytest.raises(CredentialError, match="plain file"):
        store_password("imap", cfg(), "pw")
    with pytest.raises(CredentialError, match="plain file"):
        checked_keyring_status()
    with pytest.raises(CredentialError, match="refusing the keyring backend"):
        secret_for("imap", cfg())
    monkeypatch.setenv("UQ_IMAP_PASSWORD", "from-env")
    assert secret_for("imap", cfg()) == "from-env"  # the env var still works around it


def test_without_a_keyring_the_audit_key_is_a_private_file_in_the_config_dir(uq_home, monkeypatch):
    """A headless machine has no keyring: intake and decisions must not stop for want of a
    key, so it lives 0600 in the config dir (away from the database) and doctor names it."""
    import os

    from uq.secrets import AUDIT_KEY_ENV, AUDIT_KEY_FILE, audit_key

    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)
    keyring.set_keyring(keyring.backends.fail.Keyring())
    path = uq_home.config_dir / AUDIT_KEY_FILE
    with pytest.raises(CredentialError, match="no audit key yet"):
        audit_key(create=False)
    key, where = audit_key()
    assert path.exists() and os.stat(path).st_mode & 0o777 == 0o600
    assert "weaker than a keyring" in where and len(key) >= 32
    assert audit_key(create=False)[0] == key  # the same key next time
    monkeypatch.setenv(AUDIT_KEY_ENV, "team-key")
    assert audit_key() == (b"team-key", AUDIT_KEY_ENV)
