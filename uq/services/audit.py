"""The audit trail: verify the hash chain, export it. Entries carry ids and outcomes, never PHI."""

from __future__ import annotations

from typing import Any

from uq.services.context import Context
from uq.store.convert import audit_hash


def verify(ctx: Context) -> tuple[bool, str]:
    prev = ""
    entries = ctx.store.audit_entries()
    for e in entries:
        if e.prev_hash != prev or audit_hash(prev, e.at, e.actor, e.action, e.case_pk, e.detail) != e.hash:
            return False, f"audit chain broken at entry {e.id} ({e.at.isoformat()})"
        prev = e.hash
    head = ctx.store.audit_head()
    if head is not None and head != (prev, len(entries)):
        return False, f"audit chain broken at its end: {head[1]} entries recorded, {len(entries)} present"
    return True, f"audit chain intact: {len(entries)} entries"


def export(ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "case_pk": e.case_pk,
            "detail": e.detail,
            "hash": e.hash,
        }
        for e in ctx.store.audit_entries()
    ]
