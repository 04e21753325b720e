"""The synthetic case-email corpus (tests/corpus/NN-name.eml + NN-name.json), for any test.

Files come in name order, which is the order a sync appends them to an empty mailbox:
follow-ups and duplicates come after their originals. Each JSON holds the expected parse
("kind", "reason" substring, "fields", "problems", "attachments", header values) and what
a sync must make of the message ("sync": new | updated | duplicate | not_case |
quarantined, with "update_of" / "duplicate_of" naming the original file). "config", when
present, is the [parse] section to parse that email with.

Import from any test without a package: load this file by path, e.g.
    spec = importlib.util.spec_from_file_location("corpus_loader", TESTS / "corpus_loader.py")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPUS_TZ = "America/New_York"  # the reviewer zone the expectations assume


def load_corpus() -> list[tuple[str, bytes, dict[str, Any]]]:
    """(name without extension, raw bytes, expected) for every email, in sync order."""
    out: list[tuple[str, bytes, dict[str, Any]]] = []
    for eml in sorted(CORPUS_DIR.glob("*.eml")):
        expected = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
        out.append((eml.stem, eml.read_bytes(), expected))
    return out
