"""Stores with N open cases, fast: a few hundred go through the real ingest
(`uq.services.sync.ingest_batch`), the rest are SQL copies of those rows with new case
IDs and shortened long text (the queue never reads it), so 100k cases take seconds."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bench.gen import make_emails

REAL = 500


def seed_store(db: Path, n: int) -> None:
    from uq.config import Config
    from uq.mail.imap import FetchedMessage
    from uq.services.context import Context
    from uq.services.sync import ingest_batch

    ctx = Context.open(Config(), url=f"sqlite:///{db}", audit_key=lambda: b"bench-audit-key")
    real = min(n, REAL)
    now = datetime.now(UTC)
    msgs = [FetchedMessage(i + 1, now, raw, ()) for i, raw in enumerate(make_emails(real, now=now))]
    for start in range(0, real, 250):
        ingest_batch(ctx, "bench", 1, msgs[start : start + 250], extract_pdf_text=False)
    ctx.close()
    if n <= real:
        return
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(case_row)") if r[1] != "id"]
    short = {"body_text", "clinical_summary"}
    sel = []
    for c in cols:
        if c == "case_id" or c == "f_case_id":
            sel.append(f"{c} || '-C' || :k")
        elif c == "message_id":
            sel.append("NULL")
        elif c in short:
            sel.append(f"substr({c}, 1, 200)")
        else:
            sel.append(f'"{c}"')
    collist = ", ".join(f'"{c}"' for c in cols)
    sql = f"INSERT INTO case_row ({collist}) SELECT {', '.join(sel)} FROM case_row WHERE id <= {real}"
    k = 1
    with con:
        while con.execute("SELECT count(*) FROM case_row").fetchone()[0] + real <= n:
            con.execute(sql, {"k": k})
            k += 1
        left = n - con.execute("SELECT count(*) FROM case_row").fetchone()[0]
        if left > 0:
            con.execute(sql.replace(f"id <= {real}", f"id <= {left}"), {"k": k})
    con.close()


if __name__ == "__main__":
    import sys
    import tempfile
    import time

    d = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    seed_store(d / "x.db", int(sys.argv[1]))
    con = sqlite3.connect(d / "x.db")
    print(con.execute("select count(*), count(distinct case_id) from case_row").fetchone(),
          time.perf_counter() - t, (d / "x.db").stat().st_size / 1e6, "MB")
