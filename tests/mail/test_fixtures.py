"""The shared fixtures themselves: others' tests rely on them behaving as documented."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.env import write_config
from tests.fixtures.jwt import make_token, verify_token
from tests.fixtures.mailcfg import case_email
from uq.config import load_config


@pytest.mark.postgres
def test_pg_url_is_a_fresh_usable_database(pg_url):
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:5432/uqtest_")
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
        conn.execute("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO t (name) VALUES (%s), (%s)", ("a", "b"))
        assert conn.execute("SELECT name FROM t ORDER BY id").fetchall() == [("a",), ("b",)]


def test_dovecot_multiappend_returns_uids_and_is_fast(dovecot_fn):
    msgs = [case_email(i) for i in range(1200)]
    started = time.monotonic()
    uids = dovecot_fn.append(msgs, flags=["\\Seen"])
    assert time.monotonic() - started < 5
    assert uids == list(range(1, 1201))
    c = dovecot_fn.client()
    info = c.select_folder("INBOX", readonly=True)
    assert info[b"EXISTS"] == 1200
    assert b"\\Seen" in c.get_flags([600])[600]
    assert c.fetch([1200], ["BODY.PEEK[]"])[1200][b"BODY[]"] == msgs[-1]


def test_dovecot_reset_and_folders(dovecot_fn):
    dovecot_fn.append(case_email(1))
    dovecot_fn.create_folder("Sent", special_use="\\Sent")
    with pytest.raises(ValueError):
        dovecot_fn.create_folder("Outbox", special_use="\\Sent")
    folders = {name: flags for flags, _, name in dovecot_fn.client().list_folders()}
    assert b"\\Sent" in folders["Sent"]
    dovecot_fn.reset()
    c = dovecot_fn.client()
    assert [name for _, _, name in c.list_folders()] == ["INBOX"]
    assert c.select_folder("INBOX")[b"EXISTS"] == 0
    assert dovecot_fn.append(case_email(2)) == [1]


def test_dovecot_xoauth2_token_and_dir(dovecot):
    assert len(str(dovecot.dir)) <= 78
    claims = verify_token(dovecot.oauth_token(), dovecot.oauth_secret)
    assert claims is not None and claims["sub"] == "reviewer"
    assert verify_token(make_token("reviewer", b"x", -5), b"x") is None
    assert verify_token(make_token("reviewer", b"x", 60), b"y") is None


def test_smtp_fixture_captures_and_fails_on_demand(smtp_server):
    import smtplib
    import ssl

    ctx = ssl.create_default_context(cafile=smtp_server.ca_file)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as c:
        c.starttls(context=ctx)
        c.login("reviewer", "smtp-pw")
        smtp_server.fail_next(1, "452 4.3.1 Full")
        with pytest.raises(smtplib.SMTPDataError) as err:
            c.sendmail("a@example.test", ["b@example.test"], b"Subject: 1\r\n\r\nx\r\n")
        assert err.value.smtp_code == 452
        c.sendmail("a@example.test", ["b@example.test"], b"Subject: 2\r\n\r\nx\r\n")
    [(mail_from, rcpts, raw)] = smtp_server.messages
    assert (mail_from, rcpts, raw) == (
        "a@example.test",
        ["b@example.test"],
        b"Subject: 2\r\n\r\nx\r\n",
    )


def test_uq_home_is_isolated(uq_home, tmp_path):
    import keyring

    assert Path.cwd() == tmp_path
    assert os.environ["UQ_CONFIG_DIR"] == str(uq_home.config_dir)
    assert os.environ["UQ_DATA_DIR"] == str(uq_home.data_dir)
    for var in ("UQ_CONFIG", "UQ_IMAP_PASSWORD", "UQ_SMTP_PASSWORD"):
        assert var not in os.environ
    from uq.paths import default_config_path, default_database_url

    assert default_config_path() == uq_home.config_path
    assert str(uq_home.data_dir) in default_database_url()
    keyring.set_password("uq", "imap:x@y", "pw")
    assert any(uq_home.xdg_data.rglob("*.cfg"))  # the keyring file lives under tmp


def test_write_config_points_uq_at_the_fixtures(tmp_path, dovecot, smtp_server):
    path = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        db_url="sqlite:///x.db",
        imap={"folder": "Cases", "poll_seconds": None},
        sections={"smtp": {"hold_seconds": 5}},
        sla={"client": [{"match": "payer.example", "reviewer_minutes": 60}]},
    )
    cfg = load_config(path)
    assert (cfg.imap.host, cfg.imap.port, cfg.imap.security) == (
        "127.0.0.1",
        dovecot.imaps_port,
        "ssl",
    )
    assert cfg.imap.ca_file == dovecot.ca_file and cfg.imap.folder == "Cases"
    assert cfg.imap.poll_seconds == 60  # None removed the key: the default applies
    assert cfg.imap.password_command == ["printf", "%s", "s3cret-pw"]
    assert (cfg.smtp.port, cfg.smtp.security, cfg.smtp.hold_seconds) == (
        smtp_server.port,
        "starttls",
        5,
    )
    assert cfg.database.url == "sqlite:///x.db"
    assert cfg.sla.client[0].reviewer_minutes == 60


def test_pg_url_fails_in_ci_when_postgres_is_unreachable(monkeypatch):
    import tests.fixtures.postgres as pg
    from tests.fixtures.ports import free_port

    dead = f"host=127.0.0.1 port={free_port()} user=postgres dbname=postgres connect_timeout=3"
    monkeypatch.setattr(pg, "ADMIN_DSN", dead)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL tests"):
        next(pg.fresh_database())
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="NOT TESTED ON POSTGRESQL"):
        next(pg.fresh_database())
