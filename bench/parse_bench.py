"""Parse cost per message on the bench mix: the stdlib `email` path against the fast MIME walker.

    .venv/bin/python bench/parse_bench.py [--quick] [--count N] [--rounds R]

Both paths run on the same messages in the same rounds, interleaved message by message
(this machine has slow spells), extract_pdf_text=False as the sync calls it. Each
message's figure is its fastest round; the table gives median, mean and max per kind.
"stdlib" is `parse_email_stdlib` (compat32 `message_from_bytes`, `get_payload(decode=True)`,
eager HTML conversion: the parser as it was); "fast" is `parse_email`. Both read the PDF of
a packet whose body lacks a core field (CORE_FIELDS), so pdf-packet rows include pypdf.
The last column checks that both give the same ParsedEmail for every message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen import make_email
from uq.domain import ParsedEmail
from uq.mail.parse import parse_email, parse_email_stdlib

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
Parser = Callable[..., ParsedEmail]
PATHS: dict[str, Parser] = {"stdlib": parse_email_stdlib, "fast": parse_email}


def _time(fn: Parser, raw: bytes) -> tuple[float, ParsedEmail]:
    t0 = time.perf_counter()
    out = fn(raw, tz=TZ, extract_pdf_text=False)
    return (time.perf_counter() - t0) * 1000, out


def run(count: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    mails = [make_email(n, NOW) for n in range(count)]
    best: dict[str, list[float]] = {name: [float("inf")] * count for name in PATHS}
    same = [True] * count
    for r in range(rounds):
        for i, (raw, _kind) in enumerate(mails):
            order = list(PATHS.items()) if (i + r) % 2 == 0 else list(PATHS.items())[::-1]
            results = {}
            for name, fn in order:
                ms, results[name] = _time(fn, raw)
                best[name][i] = min(best[name][i], ms)
            same[i] = same[i] and results["stdlib"] == results["fast"]
    by_kind: dict[str, dict[str, list[float]]] = {}
    for i, (_raw, kind) in enumerate(mails):
        for k in (kind, "all"):
            slot = by_kind.setdefault(k, {name: [] for name in PATHS} | {"same": []})
            for name in PATHS:
                slot[name].append(best[name][i])
            slot["same"].append(1.0 if same[i] else 0.0)
    return by_kind


def table(by_kind: dict[str, dict[str, list[float]]]) -> str:
    rows = [
        "| kind | n | stdlib median / mean / max ms | fast median / mean / max ms | speed-up (mean) | same result |",
        "|---|---|---|---|---|---|",
    ]
    for kind in sorted(by_kind, key=lambda k: (k == "all", k)):
        d = by_kind[kind]

        def fmt(v: list[float]) -> str:
            return f"{statistics.median(v):.3f} / {statistics.fmean(v):.3f} / {max(v):.3f}"

        speed = statistics.fmean(d["stdlib"]) / statistics.fmean(d["fast"])
        same = f"{int(sum(d['same']))}/{len(d['same'])}"
        rows.append(f"| {kind} | {len(d['fast'])} | {fmt(d['stdlib'])} | {fmt(d['fast'])} | {speed:.1f}x | {same} |")
    d = by_kind["all"]
    rows.append("")
    rows.append(
        f"Throughput of parse alone (1000 / mean ms): stdlib {1000 / statistics.fmean(d['stdlib']):.0f} msg/s, "
        f"fast {1000 / statistics.fmean(d['fast']):.0f} msg/s."
    )
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 messages, 2 rounds")
    ap.add_argument("--count", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    count = args.count or (300 if args.quick else 1000)
    rounds = args.rounds or (2 if args.quick else 3)
    by_kind = run(count, rounds)
    print(table(by_kind))
    return 0 if all(by_kind["all"]["same"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
