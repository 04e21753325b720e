"""`uq sync --once` before vs after a change, side by side in one run, plus the bare FETCH.

    .venv/bin/python bench/sync_ab.py [--count N] [--rounds R] [--base DIR] [--profile FILE]

--base DIR is an unpacked older tree (e.g. `git archive COMMIT | tar -x -C DIR`); its uq is
run with PYTHONPATH=DIR in the same venv. Rounds alternate base, new and the bare FETCH
against one seeded Dovecot, each sync into a fresh SQLite store; medians with min and max
(this machine has slow spells). --profile writes a cProfile of one extra `uq sync --once`
of the working tree (pstats format).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sync_bench import run_fetch, seed, uq_env  # noqa: E402
from tests.fixtures.dovecot import Dovecot, started_dovecot  # noqa: E402
from tests.fixtures.env import write_config  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
_RUN_UQ = "import sys; from uq.cli import main; sys.argv[0] = 'uq'; sys.exit(main())"


def run_uq(dv: Dovecot, count: int, work: Path, *, base: Path | None = None, profile: Path | None = None) -> float:
    root = Path(tempfile.mkdtemp(prefix="uqab-", dir=work))
    cfg = write_config(root, dovecot=dv, db_url=f"sqlite:///{root}/uq.db")
    env = uq_env(root)
    if base is not None:
        env["PYTHONPATH"] = str(base)
    cmd = [PY]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
        script = root / "run_uq.py"
        script.write_text(_RUN_UQ)
        cmd += [str(script)]
    else:
        cmd += ["-c", _RUN_UQ]
    cmd += ["--config", str(cfg), "sync", "--once"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=root)
    dt = time.perf_counter() - t0
    if res.returncode != 0 or f"ingested {count}," not in res.stdout:
        raise RuntimeError(f"uq sync failed: {res.stdout.strip()} {res.stderr.strip()[-2000:]}")
    shutil.rmtree(root, ignore_errors=True)
    return count / dt


def _fmt(vals: list[float]) -> str:
    return f"{statistics.median(vals):7.1f} ({min(vals):.0f}-{max(vals):.0f})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", type=Path)
    ap.add_argument("--profile", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="uqab-"))
    dv = started_dovecot()
    try:
        seed(dv, args.count)
        res: dict[str, list[float]] = {"fetch": [], "new": []}
        if args.base:
            res["base"] = []
        for i in range(args.rounds):
            res["fetch"].append(run_fetch(dv, args.count))
            if args.base:
                res["base"].append(run_uq(dv, args.count, work, base=args.base))
            res["new"].append(run_uq(dv, args.count, work))
            print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in res.items()), file=sys.stderr)
        print(f"{args.count} messages, {args.rounds} rounds, msg/s median (min-max)")
        for k, v in res.items():
            print(f"  {k:6s} {_fmt(v)}")
        if args.profile:
            run_uq(dv, args.count, work, profile=args.profile)
            print(f"profile written to {args.profile}")
    finally:
        dv.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
