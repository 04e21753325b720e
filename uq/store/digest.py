"""Content digests of the rows the audit chain vouches for: decisions and outbox items.

A digest is a few named parts ("outcome:…,rationale:…,record:…"), each a keyed hash of
that part's columns, so `uq audit verify` can say which part of which row was changed
after it was recorded, and a digest in the trail tells nobody without the key anything
about the PHI it covers (a plain hash of a short field could be guessed).

Every column of these tables is either in a part or in the matching UNHASHED map with the
reason it is left out; a test keeps it so, which makes a new column a deliberate choice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

DECISION = "decision"
OUTBOX = "outbox"

PARTS: dict[str, dict[str, tuple[str, ...]]] = {
    DECISION: {
        "outcome": ("outcome", "agrees_with_nurse", "decline_reason", "approved_portion", "denied_portion", "undone"),
        "rationale": ("rationale", "guideline", "note", "criteria", "change_info"),
        "record": ("case_pk", "reviewer", "decided_at", "seconds_spent"),
    },
    OUTBOX: {
        "state": ("state", "attempts", "unknown_outcomes", "sent_at", "sent_copy_saved"),
        "body": ("raw",),
        "envelope": ("case_pk", "decision_id", "message_id", "mail_from", "recipients", "reviewer", "created_at"),
    },
}

UNHASHED: dict[str, dict[str, str]] = {
    DECISION: {"id": "the row's identity (it is the subject)"},
    OUTBOX: {
        "id": "the row's identity (it is the subject)",
        "not_before": "scheduling (hold, lease, back-off), not a fact of the record",
        "lease_token": "a sender's claim, changed by every claim and renewal",
        "last_error": "the server's latest words, diagnostic only",
    },
}

# How verify names a part in its findings ("reply" for the body reads better to a reviewer).
PART_LABEL = {"body": "reply body", "state": "outbox state", "envelope": "reply envelope"}


def _canon(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # the store hands back aware UTC; a naive one is read as UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def row_digest(key: bytes, kind: str, row: Mapping[Any, Any]) -> str:
    """The digest of one decision or outbox row (a column-name mapping)."""
    out = []
    for name, columns in PARTS[kind].items():
        blob = json.dumps([kind, name, *(_canon(row[c]) for c in columns)], separators=(",", ":"))
        mac = hmac.new(key, blob.encode(), hashlib.sha256).hexdigest()[:32]
        out.append(f"{name}:{mac}")
    return ",".join(out)


def changed_parts(recorded: str, current: str) -> list[str]:
    """The parts whose digest differs (all of them when the formats do not match)."""
    a = dict(p.split(":", 1) for p in recorded.split(",") if ":" in p)
    b = dict(p.split(":", 1) for p in current.split(",") if ":" in p)
    if a.keys() != b.keys():
        return sorted(a.keys() | b.keys())
    return [k for k in a if a[k] != b[k]]


def columns(kind: str) -> Sequence[str]:
    return [c for cols in PARTS[kind].values() for c in cols]
