"""The audit trail: verify it, export it. Entries carry ids and outcomes, never PHI.

Verify recomputes three things: each entry's keyed hash and link to the one before; the
head (last hash, count, key check), so deleted newest entries or a deleted head show; and
the content digest of every decision and outbox item against the digest the trail last
recorded for it, so a decision, reply or outbox state edited in the database is reported
by case ID. Each finding is one line; none means intact.
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from uq.services.context import Context
from uq.store import digest
from uq.store.audit_chain import DAMAGE_ACTIONS, KEYED, key_id, keyed_hash, keyed_since, legacy_hash, subject_of

_NOUN = {digest.DECISION: "decision", digest.OUTBOX: "reply"}
_NOUNS = {digest.DECISION: "decisions", digest.OUTBOX: "replies"}


@dataclass
class Verdict:
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def text(self) -> str:
        if self.findings:
            return "\n".join(self.findings)
        return "\n".join([f"audit chain intact: {self.entries} entries", *self.notes])


def verify(ctx: Context) -> tuple[bool, str]:
    v = check(ctx)
    return v.ok, v.text()


def check(ctx: Context) -> Verdict:
    v = Verdict()
    store = ctx.store
    entries = store.audit_entries()
    v.entries = len(entries)
    head = store.audit_head()
    key = store.audit_key()
    case_ids = _case_ids(ctx)

    def who(case_pk: int | None) -> str:
        return case_ids.get(case_pk, f"#{case_pk}") if case_pk is not None else "audit"

    if head is not None and head.key_id and head.key_id != key_id(key):
        v.findings.append(
            f"audit: the chain was keyed with key {head.key_id}, this machine's key is {key_id(key)}: "
            "cannot verify (set UQ_AUDIT_KEY to the key the chain was started with)"
        )
        return v
    keyed_from = next((i for i, e in enumerate(entries) if e.action == KEYED), 0)
    since: dict[str, int] = {}
    if head is not None and not head.key_id:  # written before uq keyed its chain; no write since
        keyed_from = len(entries)
        since = dict(head.since) or {kind: sys.maxsize for kind in _NOUN}  # no snapshot: every row predates
    prev = ""
    for i, e in enumerate(entries):
        if i < keyed_from:
            expected = legacy_hash(prev, e.at, e.actor, e.action, e.case_pk, e.detail)
        else:
            expected = keyed_hash(key, prev, e.at, e.actor, e.action, e.case_pk, e.detail, e.subject, e.content_hash)
        if e.prev_hash != prev or not hmac.compare_digest(expected, e.hash):
            v.findings.append(f"{who(e.case_pk)}: audit entry {e.id} ({e.at.isoformat()}, {e.action}) was altered")
        elif e.action in DAMAGE_ACTIONS:
            v.findings.append(f"audit: {e.action.replace('_', ' ')} before entry {e.id} ({e.detail})")
        elif e.action == KEYED:
            since = keyed_since(e.detail)
        prev = e.hash
    _check_head(v, head, key, prev, len(entries))
    if keyed_from:
        v.notes.append(
            f"entries 1-{keyed_from} were written before the chain was keyed: checked with plain SHA-256, "
            "which anyone holding the file could recompute"
        )
    if head is not None and not head.key_id and entries:
        v.notes.append("the chain is not keyed yet: the next audited action keys it")
    recorded = {e.subject: (e.content_hash or "", e.case_pk) for e in entries if e.subject}
    for kind in (digest.DECISION, digest.OUTBOX):
        _check_rows(v, ctx, kind, recorded, since.get(kind, 0), who)
    return v


def _check_head(v: Verdict, head: Any, key: bytes, last: str, count: int) -> None:
    if head is None:
        if count:
            v.findings.append("audit: the chain's head is missing (the newest entries may have been deleted with it)")
        return
    if head.key_id and not hmac.compare_digest(head.mac, head.expected_mac(key)):
        v.findings.append("audit: the chain's head was altered (its key check fails)")
    elif head.count != count or head.hash != last:
        v.findings.append(f"audit: chain broken at its end: {head.count} entries recorded, {count} present")


def _check_rows(
    v: Verdict,
    ctx: Context,
    kind: str,
    recorded: dict[str, tuple[str, int | None]],
    since: int,
    who: Callable[[int | None], str],
) -> None:
    noun = _NOUN[kind]
    present: set[str] = set()
    checked = legacy = 0
    for row_id, case_pk, current in ctx.store.content_digests(kind):
        subject = subject_of(kind, row_id)
        present.add(subject)
        if subject not in recorded:
            if row_id <= since:
                legacy += 1
            else:
                v.findings.append(f"{who(case_pk)}: {noun} {row_id} is not on the audit record")
            continue
        changed = digest.changed_parts(recorded[subject][0], current)
        if changed:
            what = ", ".join(digest.PART_LABEL.get(p, p) for p in changed)
            v.findings.append(f"{who(case_pk)}: {noun} {row_id} was changed after it was recorded ({what})")
        checked += 1
    for subject, (_, owner) in recorded.items():
        if subject.startswith(kind + ":") and subject not in present:
            v.findings.append(f"{who(owner)}: {noun} {subject.split(':', 1)[1]} was deleted")
    v.notes.append(
        f"{checked} {_NOUNS[kind] if checked != 1 else noun} match their recorded content"
        + (f"; {legacy} predate content digests" if legacy else "")
    )


def _case_ids(ctx: Context) -> dict[int | None, str]:
    return {r.id: r.case_id for r in ctx.store.iter_queue_rows(open_only=False)}


def export(ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "case_pk": e.case_pk,
            "detail": e.detail,
            "subject": e.subject,
            "content_hash": e.content_hash,
            "hash": e.hash,
        }
        for e in ctx.store.audit_entries()
    ]
