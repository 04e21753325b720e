"""Shared fixtures: real servers on loopback (Dovecot, aiosmtpd, PostgreSQL), a fixed
clock and an isolated uq home. The implementations live in tests/fixtures/."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # so tests can `from tests.fixtures... import ...`
    sys.path.insert(0, _ROOT)

from tests.fixtures.certs import TlsFiles, write_tls_files  # noqa: E402
from tests.fixtures.dovecot import DOVECOT, Dovecot, started_dovecot  # noqa: E402
from tests.fixtures.env import TEST_AUDIT_KEY, UqHome, make_uq_home, write_config  # noqa: E402, F401
from tests.fixtures.postgres import fresh_database  # noqa: E402
from tests.fixtures.smtp import SmtpServer  # noqa: E402
from uq.queue.clock import FixedClock  # noqa: E402

FIXED_NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `fuzz` (long hypothesis runs) run only when asked for with -m fuzz."""
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    fuzz = [i for i in items if i.get_closest_marker("fuzz") is not None]
    if fuzz:
        config.hook.pytest_deselected(items=fuzz)
        items[:] = [i for i in items if i.get_closest_marker("fuzz") is None]


def _need_dovecot() -> None:
    if not Path(DOVECOT).exists():
        pytest.fail(
            f"{DOVECOT} is missing: the IMAP tests need a real Dovecot. Run the test command "
            "from README.md (`bash .ci/run`, which installs dovecot-imapd) or "
            "`apt-get install -y dovecot-imapd`.",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _no_real_keyring() -> Iterator[None]:
    """No test may read or write the developer's real keyring: outside `uq_home` the
    keyring is the "fail" backend (keyring_status() == "unavailable"), in-process and in
    subprocesses alike."""
    import os

    import keyring
    import keyring.backends.fail

    saved = os.environ.get("PYTHON_KEYRING_BACKEND")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    if saved is None:
        os.environ.pop("PYTHON_KEYRING_BACKEND", None)
    else:
        os.environ["PYTHON_KEYRING_BACKEND"] = saved


@pytest.fixture(scope="session", autouse=True)
def _audit_key() -> Iterator[None]:
    """Every test's audit chain is keyed by UQ_AUDIT_KEY (the keyring is off, see above), in
    subprocesses too; tests of the keyring path remove it with monkeypatch."""
    import os

    saved = os.environ.get("UQ_AUDIT_KEY")
    os.environ["UQ_AUDIT_KEY"] = TEST_AUDIT_KEY.decode()
    yield
    if saved is None:
        os.environ.pop("UQ_AUDIT_KEY", None)
    else:
        os.environ["UQ_AUDIT_KEY"] = saved


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """The test CA (ca_file) and a localhost/127.0.0.1 server certificate signed by it."""
    return write_tls_files(tmp_path_factory.mktemp("tls"))


def _private_dovecot() -> Iterator[Dovecot]:
    _need_dovecot()
    d = started_dovecot()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """A private Dovecot shared by one test module (user reviewer / s3cret-pw)."""
    yield from _private_dovecot()


@pytest.fixture
def dovecot_fn() -> Iterator[Dovecot]:
    """A private Dovecot for one test: for tests that kill it or break its mailboxes."""
    yield from _private_dovecot()


@pytest.fixture
def smtp_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """aiosmtpd with STARTTLS + AUTH (reviewer / smtp-pw); `.messages` holds what it accepted."""
    s = SmtpServer(tls_files)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (postgresql+psycopg://...), dropped afterwards."""
    yield from fresh_database()


@pytest.fixture
def fixed_clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


@pytest.fixture
def uq_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UqHome]:
    """Isolated config/data dirs, no UQ_* secrets, cwd = tmp, a file keyring under tmp."""
    yield from make_uq_home(tmp_path, monkeypatch)
