"""The audit chain's writes: entries linked by a keyed hash, and a keyed head.

Each entry's hash is an HMAC (the audit key lives in the keyring, not in the database) of
the previous hash and the entry, so a copy of the database is not enough to rewrite the
trail. The head row (uq_meta "audit_head") records the last hash and the entry count under
its own HMAC: deleting the newest entries and fixing up the head needs the key too.

Chains written before uq keyed them are kept as they are: the head's `keyed_from` says how
many entries came first (checked with the plain SHA-256 they were written with), and the
first keyed write appends an "audit_keyed" entry saying so. Decisions and outbox items that
existed then (`since`) have no recorded content digest.

A writer that finds the head missing or failing its HMAC does not repair it silently: it
first appends an entry recording what it found, so `uq audit verify` reports it for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from uq.errors import StoreError
from uq.store import db, digest
from uq.store.tables import AuditRow, DecisionRow, MetaRow, OutboxRow

_AUDIT_T: Any = AuditRow.__table__  # type: ignore[attr-defined]
_META_T: Any = MetaRow.__table__  # type: ignore[attr-defined]
_DECISION_T: Any = DecisionRow.__table__  # type: ignore[attr-defined]
_OUTBOX_T: Any = OutboxRow.__table__  # type: ignore[attr-defined]
TABLES: dict[str, Any] = {digest.DECISION: _DECISION_T, digest.OUTBOX: _OUTBOX_T}
AUDIT_HEAD_KEY = db.AUDIT_HEAD_KEY

KeySource = Callable[[], bytes]

# Entries a writer appends when it finds the trail damaged; verify reports each of them.
HEAD_MISSING = "audit_head_missing"
HEAD_ALTERED = "audit_head_altered"
KEYED = "audit_keyed"
DAMAGE_ACTIONS = (HEAD_MISSING, HEAD_ALTERED)


@dataclass(frozen=True)
class Audited:
    """Who did what, for the audit entry a change to a decision or an outbox item writes."""

    at: datetime
    actor: str
    action: str
    detail: str = ""


@dataclass
class Head:
    """The chain's head as stored: last hash and entry count, and once keyed the key's id
    and an HMAC over them. `since` is the last decision and outbox ids that existed when
    this uq first opened the database (db.init_schema), kept until the chain is keyed."""

    hash: str = ""
    count: int = 0
    key_id: str = ""
    since: dict[str, int] = field(default_factory=dict)
    mac: str = ""

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hash": self.hash, "count": self.count}
        if self.key_id:
            out["key_id"] = self.key_id
        elif self.since:
            out["since"] = self.since
        return out

    def expected_mac(self, key: bytes) -> str:
        blob = json.dumps(["head", self.body()], sort_keys=True, separators=(",", ":"))
        return hmac.new(key, blob.encode(), hashlib.sha256).hexdigest()

    def dumps(self, key: bytes | None) -> str:
        out = self.body()
        if key is not None and self.key_id:
            out["mac"] = self.expected_mac(key)
        return json.dumps(out)

    @classmethod
    def loads(cls, text: str) -> Head:
        d = json.loads(text)
        return cls(
            hash=str(d.get("hash", "")),
            count=int(d.get("count", 0)),
            key_id=str(d.get("key_id", "")),
            since={str(k): int(v) for k, v in dict(d.get("since", {})).items()},
            mac=str(d.get("mac", "")),
        )


def key_id(key: bytes) -> str:
    """A short name for a key (never the key): tells "wrong key" apart from "tampered"."""
    return hmac.new(key, b"uq audit key id", hashlib.sha256).hexdigest()[:12]


def legacy_hash(prev: str, at: datetime, actor: str, action: str, case_pk: int | None, detail: str) -> str:
    """Entries written before the chain was keyed (plain SHA-256), in UTC whatever zone."""
    blob = "\x1f".join([prev, at.astimezone(UTC).isoformat(), actor, action, str(case_pk or ""), detail])
    return hashlib.sha256(blob.encode()).hexdigest()


def keyed_hash(
    key: bytes,
    prev: str,
    at: datetime,
    actor: str,
    action: str,
    case_pk: int | None,
    detail: str,
    subject: str | None,
    content_hash: str | None,
) -> str:
    parts = [prev, at.astimezone(UTC).isoformat(), actor, action, str(case_pk or ""), detail]
    parts += [subject or "", content_hash or ""]
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def subject_of(kind: str, row_id: int) -> str:
    return f"{kind}:{row_id}"


# (at, actor, action, case_pk, detail, subject, content_hash)
Entry = tuple[datetime, str, str, "int | None", str, "str | None", "str | None"]


class AuditTx:
    """Mixed into Tx: the audit half of a transaction. Every audit write goes through
    `_append`, which reads (and locks) the head once per transaction and keeps it."""

    s: Session
    _key_source: KeySource | None
    _head: Head | None

    def audit(self, *, at: datetime, actor: str, action: str, case_pk: int | None = None, detail: str = "") -> None:
        """Append one entry. Detail must never carry PHI (ids and outcomes only)."""
        self._append([(at, actor, action, case_pk, detail, None, None)])

    def audit_many(self, entries: Sequence[tuple[datetime, str, str, int | None, str]]) -> None:
        """Append (at, actor, action, case_pk, detail) entries in order, in one statement."""
        self._append([(*e, None, None) for e in entries])

    def record_change(self, kind: str, row_ids: Sequence[int], audited: Audited) -> None:
        """The one way a change to a decision or an outbox item reaches the trail: one entry
        per row, carrying the row's content digest as it now stands in this transaction."""
        if not row_ids:
            return
        key = self._key()
        table = TABLES[kind]
        cols = [table.c[c] for c in ("id", *digest.columns(kind))]
        rows = {r["id"]: r for r in self.s.execute(select(*cols).where(table.c.id.in_(list(row_ids)))).mappings()}
        entries: list[Entry] = []
        for rid in row_ids:
            row = rows.get(rid)
            if row is None:
                raise StoreError(f"{kind} {rid} vanished from the store")
            entries.append(
                (
                    audited.at,
                    audited.actor,
                    audited.action,
                    row["case_pk"],
                    audited.detail or f"{kind} {rid}",
                    subject_of(kind, rid),
                    digest.row_digest(key, kind, row),
                )
            )
        self._append(entries)

    def _key(self) -> bytes:
        if self._key_source is None:
            raise StoreError("no audit key: this store was opened without one")
        return self._key_source()

    def _append(self, entries: list[Entry]) -> None:
        if not entries:
            return
        key = self._key()
        head = self._locked_head(key, entries[0][0])
        rows = []
        prev = head.hash
        for at, actor, action, case_pk, detail, subject, content_hash in entries:
            h = keyed_hash(key, prev, at, actor, action, case_pk, detail, subject, content_hash)
            rows.append(
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "case_pk": case_pk,
                    "detail": detail,
                    "subject": subject,
                    "content_hash": content_hash,
                    "prev_hash": prev,
                    "hash": h,
                }
            )
            prev = h
        self.s.execute(insert(_AUDIT_T), rows)
        head.hash, head.count = prev, head.count + len(rows)
        self._write_head(head, key)

    def _write_head(self, head: Head, key: bytes) -> None:
        self.s.execute(update(_META_T).where(_META_T.c.key == AUDIT_HEAD_KEY).values(value=head.dumps(key)))

    def _locked_head(self, key: bytes, at: datetime) -> Head:
        """The head, read under the database's write lock: the first statement is an UPDATE
        of the head row, which takes SQLite's write lock (and PostgreSQL's row lock) before
        anything is read, so two writers can never both extend one entry. The first keyed
        write to an older chain appends the KEYED marker; a missing or altered head is
        recorded before the chain goes on."""
        if self._head is not None:
            return self._head
        res = self.s.execute(update(_META_T).where(_META_T.c.key == AUDIT_HEAD_KEY).values(value=_META_T.c.value))
        notes: list[tuple[str, str]] = []
        if res.rowcount:  # type: ignore[attr-defined]
            text = self.s.execute(select(_META_T.c.value).where(_META_T.c.key == AUDIT_HEAD_KEY)).scalar_one()
            head = Head.loads(text)
            if head.key_id and head.key_id != key_id(key):
                raise StoreError(
                    f"audit key mismatch: this database's audit chain uses key {head.key_id}, this machine's "
                    f"key is {key_id(key)} (set UQ_AUDIT_KEY to the key the chain was started with)"
                )
            if head.key_id and not hmac.compare_digest(head.mac, head.expected_mac(key)):
                notes.append((HEAD_ALTERED, f"head said {head.count} entries; its key check failed"))
        else:
            last = self.s.execute(select(_AUDIT_T.c.hash).order_by(_AUDIT_T.c.id.desc()).limit(1)).scalar()
            count = int(self.s.execute(select(func.count()).select_from(_AUDIT_T)).scalar_one())
            head = Head(hash=last or "", count=count, key_id=key_id(key) if count else "")
            self.s.execute(insert(_META_T).values(key=AUDIT_HEAD_KEY, value=head.dumps(None)))
            if count:
                notes.append((HEAD_MISSING, f"head row missing with {count} entries present"))
        if not head.key_id:
            since = head.since or since_now(self.s)
            if head.count or any(since.values()):
                notes.insert(0, (KEYED, keyed_detail(head.count, since)))
            head.key_id, head.since = key_id(key), {}
        self._head = head
        self._append([(at, "uq", action, None, detail, None, None) for action, detail in notes])
        return head


_KEYED_RE = re.compile(r"decisions up to #(\d+) and outbox items up to #(\d+)")


def keyed_detail(unkeyed: int, since: Mapping[str, int]) -> str:
    """The KEYED marker's detail; `keyed_since` reads it back (the marker is itself keyed)."""
    return (
        f"{unkeyed} earlier entries unkeyed; decisions up to #{since.get(digest.DECISION, 0)} "
        f"and outbox items up to #{since.get(digest.OUTBOX, 0)} have no content digest"
    )


def keyed_since(detail: str) -> dict[str, int]:
    m = _KEYED_RE.search(detail)
    return {digest.DECISION: int(m.group(1)), digest.OUTBOX: int(m.group(2))} if m else {}


def since_now(conn: Connection | Session) -> dict[str, int]:
    """The last decision and outbox ids now: rows up to them predate content digests."""
    return {kind: int(conn.execute(select(func.max(t.c.id))).scalar() or 0) for kind, t in TABLES.items()}


def row_digests(s: Session, key: bytes, kind: str) -> list[tuple[int, int, str]]:
    """(row id, case pk, current digest) of every row of kind: what verify compares."""
    table = TABLES[kind]
    cols = [table.c[c] for c in ("id", *digest.columns(kind))]
    return [(r["id"], r["case_pk"], digest.row_digest(key, kind, r)) for r in s.execute(select(*cols)).mappings()]


def head_record(s: Session) -> Head | None:
    text = s.execute(select(_META_T.c.value).where(_META_T.c.key == AUDIT_HEAD_KEY)).scalar()
    return Head.loads(text) if text is not None else None
