"""Sync throughput: `uq sync --once` vs mbsync vs a bare imapclient FETCH, same mailbox."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, UQ, log, stats
from bench.gen import make_emails
from tests.fixtures.dovecot import Dovecot, started_dovecot
from tests.fixtures.env import write_config

MBSYNC = "/usr/bin/mbsync"


def seed(dv: Dovecot, count: int) -> int:
    total = 0
    for start in range(0, count, 500):
        batch = make_emails(min(500, count - start), start=start)
        total += sum(len(m) for m in batch)
        dv.append(batch)
    return total


def uq_env(root: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("UQ_")}
    env.update(
        UQ_CONFIG_DIR=str(root / "config"), UQ_DATA_DIR=str(root / "data"),
        XDG_DATA_HOME=str(root / "xdg-data"), XDG_CONFIG_HOME=str(root / "xdg-config"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )
    return env


def run_uq_sync(dv: Dovecot, count: int, work: Path) -> float:
    root = Path(tempfile.mkdtemp(prefix="uqsync-", dir=work))
    cfg = write_config(root, dovecot=dv, db_url=f"sqlite:///{root}/uq.db")
    t0 = time.perf_counter()
    res = subprocess.run([UQ, "--config", str(cfg), "sync", "--once"], env=uq_env(root),
                         capture_output=True, text=True, timeout=900, cwd=root)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"uq sync failed: {res.stderr.strip()}")
    if f"ingested {count}," not in res.stdout:
        raise RuntimeError(f"uq sync did not ingest {count}: {res.stdout.strip()}")
    shutil.rmtree(root, ignore_errors=True)
    return count / dt


MBSYNC_CONF = """\
IMAPAccount bench
Host {host}
Port {port}
User {user}
Pass {password}
SSLType IMAPS
CertificateFile {ca}

IMAPStore remote
Account bench

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
"""


def run_mbsync(dv: Dovecot, count: int, work: Path) -> float:
    root = Path(tempfile.mkdtemp(prefix="mbsync-", dir=work))
    (root / "mail").mkdir()
    conf = root / "mbsyncrc"
    conf.write_text(MBSYNC_CONF.format(host="localhost", port=dv.imaps_port, user=dv.user,
                                       password=dv.password, ca=dv.ca_file, maildir=root / "mail"))
    t0 = time.perf_counter()
    res = subprocess.run([MBSYNC, "-c", str(conf), "-q", "bench"], capture_output=True,
                         text=True, timeout=900)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"mbsync failed: {res.stderr.strip()}")
    got = len(list((root / "mail" / "INBOX" / "cur").iterdir())) + len(
        list((root / "mail" / "INBOX" / "new").iterdir()))
    if got != count:
        raise RuntimeError(f"mbsync pulled {got} of {count}")
    shutil.rmtree(root, ignore_errors=True)
    return count / dt


FETCH_SCRIPT = """
import sys, time, ssl
from imapclient import IMAPClient
host, port, user, pw, ca, count = sys.argv[1:7]
t0 = time.perf_counter()
c = IMAPClient(host, int(port), ssl=True, ssl_context=ssl.create_default_context(cafile=ca))
c.login(user, pw)
c.select_folder("INBOX", readonly=True)
uids = c.search(["ALL"])
n = 0
for i in range(0, len(uids), 500):
    data = c.fetch(uids[i:i + 500], [b"UID", b"RFC822.SIZE", b"BODY.PEEK[]"])
    n += sum(1 for v in data.values() if b"BODY[]" in v)
c.logout()
print(n, time.perf_counter() - t0)
"""


def run_fetch(dv: Dovecot, count: int) -> float:
    """In a fresh interpreter, like the other two, so start-up is paid by all three."""
    t0 = time.perf_counter()
    res = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", FETCH_SCRIPT, dv.host, str(dv.imaps_port),
         dv.user, dv.password, dv.ca_file, str(count)],
        capture_output=True, text=True, timeout=900,
    )
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"bare fetch failed: {res.stderr.strip()[-500:]}")
    if int(res.stdout.split()[0]) != count:
        raise RuntimeError(f"bare fetch got {res.stdout}")
    return count / dt


def bench_sync(count: int = 5000, runs: int = 3, work: Path | None = None) -> dict[str, Any]:
    work = work or Path(tempfile.mkdtemp(prefix="uqbench-"))
    work.mkdir(parents=True, exist_ok=True)
    dv = started_dovecot()
    try:
        t0 = time.perf_counter()
        size = seed(dv, count)
        log(f"seeded {count} messages ({size / count / 1024:.1f} KB average) in "
            f"{time.perf_counter() - t0:.1f}s")
        uq_r: list[float] = []
        mb_r: list[float] = []
        fe_r: list[float] = []
        for i in range(runs):
            fe_r.append(run_fetch(dv, count))
            mb_r.append(run_mbsync(dv, count, work))
            uq_r.append(run_uq_sync(dv, count, work))
            log(f"sync round {i + 1}: fetch {fe_r[-1]:.0f}, mbsync {mb_r[-1]:.0f}, "
                f"uq {uq_r[-1]:.0f} msg/s")
        return {
            "messages": count,
            "avg_message_kb": round(size / count / 1024, 1),
            "sync_msgs_per_s": stats(uq_r, 1),
            "mbsync_msgs_per_s": stats(mb_r, 1),
            "fetch_msgs_per_s": stats(fe_r, 1),
        }
    finally:
        dv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(json.dumps(bench_sync(n, runs=1), indent=2))
