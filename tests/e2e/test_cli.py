"""The CLI frame: version, help, config errors, doctor against the real fixtures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.fixtures.smtp import SmtpServer
from uq import __version__
from uq.cli import build_parser

COMMANDS = [
    "run",
    "demo",
    "sync",
    "queue",
    "show",
    "decide",
    "call",
    "note",
    "send",
    "outbox",
    "undo",
    "quarantine",
    "claim",
    "release",
    "report",
    "audit",
    "db",
    "doctor",
    "init",
    "auth",
    "extend",
]


def uq(env: dict[str, str], *args: str, input_: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uq.cli", *args], capture_output=True, text=True, env=env, timeout=60, input=input_
    )


def test_version_and_help(uq_home: Any) -> None:
    r = uq(uq_home.env(), "--version")
    assert r.returncode == 0 and r.stdout.strip() == f"uq {__version__}"
    r = uq(uq_home.env(), "--help")
    assert r.returncode == 0
    for cmd in COMMANDS:
        assert cmd in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([cmd, "--help"])
    assert e.value.code == 0
    assert f"usage: uq {cmd}" in capsys.readouterr().out


def test_config_typo_is_one_line_naming_file_and_key(uq_home: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[imap]\nhots = "imap.example.org"\n')
    r = uq(uq_home.env(), "--config", str(cfg), "queue")
    assert r.returncode == 2
    assert r.stderr == f"uq: {cfg}: unknown key 'imap.hots' (did you mean 'host'?)\n"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[imap]\nport = "993"\n', "'imap.port' must be a whole number"),
        ('[imap]\nsecurity = "tls"\n', "'imap.security' must be one of"),
        ('[imap]\nhost = "imap.example.org"\nsecurity = "none"\n', "refused for non-loopback"),
        ('[sla.regulatory]\nurgent = "3 days"\n', "'sla.regulatory.urgent'"),
        ('[reviewer]\ntimezone = "Mars/Olympus"\n', "'reviewer.timezone' is not a known time zone"),
        ("[reviewer\n", "not valid TOML"),
    ],
)
def test_bad_values_are_one_line_errors(uq_home: Any, tmp_path: Path, body: str, needle: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    r = uq(uq_home.env(), "--config", str(cfg), "queue")
    assert r.returncode == 2
    assert needle in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_config_from_env_var_and_missing_file(uq_home: Any, tmp_path: Path) -> None:
    env = uq_home.env() | {"UQ_CONFIG": str(tmp_path / "nope.toml")}
    r = uq(env, "queue")
    assert r.returncode == 2 and "config file not found" in r.stderr


def test_example_config_loads() -> None:
    from uq.config import load_config

    cfg = load_config(Path(__file__).parents[2] / "config.example.toml")
    assert cfg.sla.client[0].holidays == "US-CA"


def test_init_writes_a_loadable_starter_config(uq_home: Any) -> None:
    r = uq(uq_home.env(), "init")
    assert r.returncode == 0, r.stderr
    assert uq_home.config_path.exists()
    for step in ("uq auth set imap", "uq auth set smtp", "uq db upgrade", "uq doctor"):
        assert step in r.stdout, step
    r = uq(uq_home.env(), "queue")
    assert r.returncode == 0 and r.stdout.strip() == "queue empty"
    r = uq(uq_home.env(), "init")
    assert r.returncode != 0 and "exists" in r.stderr


def test_init_creates_the_audit_key_in_the_keyring_once(uq_home: Any) -> None:
    env = {k: v for k, v in uq_home.env().items() if k != "UQ_AUDIT_KEY"}
    r = uq(env, "init")
    assert r.returncode == 0, r.stderr
    made = next(ln for ln in r.stdout.splitlines() if ln.startswith("audit key "))
    assert "created in the system keyring" in made
    key_id = made.split()[2].rstrip(":")
    r = uq(env, "init", "--force")
    assert f"audit key {key_id}: from keyring" in r.stdout, r.stdout
    r = uq(env, "doctor")
    audit_line = next(ln for ln in r.stdout.splitlines() if " audit " in ln)
    assert audit_line.startswith("ok") and key_id in audit_line
    # the first audited action uses it: `uq audit verify` recomputes the chain with it
    assert uq(env, "db", "upgrade").returncode == 0
    r = uq(env, "audit", "verify")
    assert r.returncode == 0 and r.stdout.startswith("audit chain intact"), r.stderr


def test_passphrase_lock_without_a_passphrase_fails_the_doctor(uq_home: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, security={"unlock": "password", "lock_after_minutes": 5})
    r = uq(uq_home.env(), "--config", str(cfg), "doctor")
    lock_line = next(ln for ln in r.stdout.splitlines() if " lock " in ln)
    assert r.returncode == 1 and lock_line.startswith("FAIL") and "keyring set uq unlock" in lock_line


def test_doctor_all_green_then_wrong_password(
    dovecot: Dovecot, smtp_server: SmtpServer, uq_home: Any, tmp_path: Path
) -> None:
    db_file = tmp_path / "uq.sqlite3"
    cfg = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server, db_url=f"sqlite:///{db_file}")
    r = uq(uq_home.env(), "--config", str(cfg), "doctor")
    assert "not created yet" in r.stdout and not db_file.exists()  # doctor changes nothing
    assert uq(uq_home.env(), "--config", str(cfg), "db", "upgrade").returncode == 0
    r = uq(uq_home.env(), "--config", str(cfg), "doctor")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert [ln.split()[1] for ln in lines] == ["config", "keyring", "audit", "lock", "database", "imap", "smtp"]
    assert "screen curtain" in r.stdout and "not a lock" in r.stdout
    assert all(ln.startswith("ok") for ln in lines), r.stdout
    assert "0o600" in r.stdout
    bad = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}",
        imap={"password_command": ["printf", "%s", "wrong"]},
        path=tmp_path / "bad.toml",
    )
    r = uq(uq_home.env(), "--config", str(bad), "doctor")
    assert r.returncode == 1
    imap_line = next(ln for ln in r.stdout.splitlines() if " imap " in ln)
    assert imap_line.startswith("FAIL") and "refused" in imap_line.lower()
    smtp_line = next(ln for ln in r.stdout.splitlines() if " smtp " in ln)
    assert smtp_line.startswith("ok")


def test_auth_set_stores_in_keyring_then_login_works(dovecot: Dovecot, uq_home: Any, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path, dovecot=dovecot, imap={"password_command": None}, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}"
    )
    r = uq(uq_home.env(), "--config", str(cfg), "sync", "--once")
    assert r.returncode == 3 and "uq auth set imap" in r.stderr
    # getpass reads the terminal; without one it falls back to stdin (with a warning)
    r = uq(uq_home.env(), "--config", str(cfg), "auth", "set", "imap", input_=dovecot.password + "\n")
    assert r.returncode == 0, r.stderr
    assert dovecot.password not in r.stdout
    r = uq(uq_home.env(), "--config", str(cfg), "sync", "--once")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ingested 0")


def test_unknown_case_is_one_line(uq_home: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    r = uq(uq_home.env(), "--config", str(cfg), "decide", "UM-404", "--approve")
    assert r.returncode == 6 and r.stderr == "uq: unknown case: UM-404\n"


def test_unreachable_imap_server_is_one_line(uq_home: Any, tmp_path: Path) -> None:
    from tests.fixtures.ports import free_port

    cfg = tmp_path / "down.toml"
    cfg.write_text(
        f'[imap]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "ssl"\nusername = "u"\n'
        'password_command = ["printf", "pw"]\ntimeout_seconds = 3.0\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "uq.sqlite3"}"\n'
    )
    r = uq(uq_home.env(), "--config", str(cfg), "sync", "--once")
    assert r.returncode == 4
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "127.0.0.1" in r.stderr
