"""Developer helper: `python -m uq.store.migrations revision "message"` | `heads`.

revision: upgrades a scratch SQLite database to the current head, then lets Alembic's
autogenerate write the difference to uq/store/tables.py as the next numbered revision.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from uq.store.migrations import alembic_config, revisions, script


def _revision(message: str) -> int:
    heads = script().get_heads()
    if len(heads) != 1:
        sys.stderr.write(f"migrations have {len(heads)} heads ({', '.join(heads)}): chain them first\n")
        return 1
    number = 1 + max(int(rev.split("_", 1)[0]) for rev in revisions())
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}")
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.begin() as conn:
            made = command.revision(
                alembic_config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}_{slug}"
            )
        engine.dispose()
    for rev in made if isinstance(made, list) else [made]:
        if rev is not None:  # the project's formatting, if ruff is installed (the test extras)
            subprocess.run([sys.executable, "-m", "ruff", "format", "-q", rev.path], check=False)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["heads"]:
        print("\n".join(script().get_heads()))
        return 0
    if len(argv) == 2 and argv[0] == "revision":
        return _revision(argv[1])
    sys.stderr.write('usage: python -m uq.store.migrations revision "message" | heads\n')
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
