"""A database uq may not write, may not read, or that is not a database: one clear line and
exit 5 for every command, even `uq queue`, never an internal error.

Root ignores file modes, so as root the uq process runs without CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH (setpriv), which makes the modes count as they do for a user.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.env import write_config
from uq.cli import main

COMMANDS = (["queue"], ["outbox"], ["send"], ["sync", "--once"], ["decide", "TEST-0001", "--approve"])
AS_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []


@pytest.fixture
def db(uq_home: Any, tmp_path: Path) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "uq.sqlite3"
    cfg = write_config(tmp_path, db_url=f"sqlite:///{path}")
    env = uq_home.env()
    assert main(["--config", str(cfg), "queue"]) == 0  # created, at the current schema
    yield path, cfg, env
    folder.chmod(0o700)
    path.chmod(0o600)


def _uq(cfg: Path, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_USER, sys.executable, "-m", "uq.cli", "--config", str(cfg), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _read_only(path: Path) -> None:
    path.chmod(0o444)


def _unreadable(path: Path) -> None:
    path.chmod(0)


def _folder_read_only(path: Path) -> None:
    path.parent.chmod(0o555)


@pytest.mark.parametrize(
    ("breaks", "says", "commands"),
    [
        (_read_only, "is read-only: uq must write to it", COMMANDS[::2]),
        (_unreadable, "cannot be read: permission denied", COMMANDS[:1]),
        (_folder_read_only, "is read-only: uq must write its journal there", COMMANDS[:1]),
    ],
    ids=["read-only", "unreadable", "folder-read-only"],
)
def test_a_database_uq_may_not_use_is_one_line_for_every_command(
    db: tuple[Path, Path, dict[str, str]],
    breaks: Callable[[Path], None],
    says: str,
    commands: tuple[list[str], ...],
) -> None:
    path, cfg, env = db
    breaks(path)
    for args in commands:  # each a new process: start-up is what used to fail
        res = _uq(cfg, env, args)
        assert res.returncode == 5, (args, res.stderr)
        assert res.stdout == ""
        assert res.stderr.count("\n") == 1 and says in res.stderr and "internal error" not in res.stderr, res.stderr


def test_a_file_that_is_not_a_database_is_one_line_for_every_command(
    db: tuple[Path, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, cfg, _ = db
    path.write_bytes(b"this is not a database\n" * 200)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    capsys.readouterr()
    for args in COMMANDS:
        assert main(["--config", str(cfg), *args]) == 5, args
        out, err = capsys.readouterr()
        assert out == "" and err == f"uq: database {path} cannot be used: file is not a database\n"
