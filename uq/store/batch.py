"""Bulk reads and writes for ingesting a whole FETCH batch in one transaction: one query
per lookup kind, executemany inserts (PERF_NOTES: ORM add+flush per row is ~10x slower)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, select

from uq.domain import (
    Attachment,
    Case,
    Deadlines,
)
from uq.store.convert import (
    _ATT_T,
    _CASE_READ_COLS,
    _CASE_T,
    _FIELD_COLUMN,
    _RAW_T,
    URGENCY_RANK,
    NewRaw,
    RawMessageInfo,
    SeenRaw,
    _chunks,
    _deadline_values,
    _group,
    case_from_row,
    field_values,
)


class BatchTx:
    """Mixed into Tx: the batch-ingest half of a transaction."""

    s: Session

    # -- batch ingest: one query per lookup kind for a whole FETCH batch, bulk writes
    def stored_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> set[int]:
        self.s.flush()
        out: set[int] = set()
        for part in _chunks(set(uids)):
            q = select(_RAW_T.c.uid).where(
                _RAW_T.c.mailbox == mailbox, _RAW_T.c.uidvalidity == uidvalidity, _RAW_T.c.uid.in_(part)
            )
            out.update(self.s.execute(q).scalars())
        return out

    def first_raws_by_message_id(self, message_ids: Iterable[str]) -> dict[str, SeenRaw]:
        """The earliest stored raw message per Message-ID (as `raw_by_message_id`)."""
        out: dict[str, SeenRaw] = {}
        for part in _chunks({m for m in message_ids if m}):
            q = (
                select(_RAW_T.c.message_id, _RAW_T.c.kind, _RAW_T.c.case_pk)
                .where(_RAW_T.c.message_id.in_(part))
                .order_by(_RAW_T.c.id)
            )
            for mid, kind, case_pk in self.s.execute(q):
                out.setdefault(mid, SeenRaw(kind, case_pk))
        return out

    def first_raws_by_content_hash(self, hashes: Iterable[str]) -> dict[tuple[str, str], SeenRaw]:
        """The earliest stored raw message per (content hash, sender) (as `raw_by_content_hash`)."""
        out: dict[tuple[str, str], SeenRaw] = {}
        for part in _chunks({h for h in hashes if h}):
            q = (
                select(_RAW_T.c.content_hash, _RAW_T.c.sender, _RAW_T.c.kind, _RAW_T.c.case_pk)
                .where(_RAW_T.c.content_hash.in_(part))
                .order_by(_RAW_T.c.id)
            )
            for h, sender, kind, case_pk in self.s.execute(q):
                out.setdefault((h, sender), SeenRaw(kind, case_pk))
        return out

    def thread_case_pks(self, message_ids: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
        """For thread lookups (as `case_by_message_ids`): case pk by the case's own
        Message-ID, and case pk by the Message-ID of any raw message linked to a case."""
        by_case: dict[str, int] = {}
        by_raw: dict[str, int] = {}
        for part in _chunks({m for m in message_ids if m}):
            q = select(_CASE_T.c.message_id, _CASE_T.c.id).where(_CASE_T.c.message_id.in_(part)).order_by(_CASE_T.c.id)
            for mid, pk in self.s.execute(q):
                by_case.setdefault(mid, pk)
            q = (
                select(_RAW_T.c.message_id, _RAW_T.c.case_pk)
                .where(_RAW_T.c.message_id.in_(part), _RAW_T.c.case_pk.is_not(None))
                .order_by(_RAW_T.c.id)
            )
            for mid, pk in self.s.execute(q):
                by_raw.setdefault(mid, pk)
        return by_case, by_raw

    def cases_by_pk(self, pks: Iterable[int]) -> dict[int, Case]:
        out: dict[int, Case] = {}
        for part in _chunks(set(pks)):
            for r in self.s.execute(select(*_CASE_READ_COLS).where(_CASE_T.c.id.in_(part))):
                out[r.id] = case_from_row(r)
        return out

    def cases_by_case_id(self, case_ids: Iterable[str]) -> list[Case]:
        """Every case with one of these IDs, whoever sent it (a follow-up's own case, and
        another sender's use of the same ID: a possible spoof)."""
        out: list[Case] = []
        for part in _chunks({cid for cid in case_ids if cid}):
            q = select(*_CASE_READ_COLS).where(_CASE_T.c.case_id.in_(part)).order_by(_CASE_T.c.id)
            out.extend(case_from_row(r) for r in self.s.execute(q))
        return out

    def raw_message(self, raw_pk: int) -> tuple[RawMessageInfo, bytes] | None:
        r = self.s.execute(select(_RAW_T).where(_RAW_T.c.id == raw_pk)).first()
        if r is None:
            return None
        info = RawMessageInfo(
            r.id, r.mailbox, r.uid, r.kind, r.reason, r.sender, r.subject, r.message_id,
            r.internaldate, r.ingested_at, r.size, r.case_pk,
        )
        return info, bytes(r.raw)

    def set_raw_kind(self, raw_pk: int, kind: str, reason: str | None) -> None:
        self.s.execute(update(_RAW_T).where(_RAW_T.c.id == raw_pk).values(kind=kind, reason=reason))

    def set_problems(self, items: Sequence[tuple[int, Sequence[str]]]) -> None:
        """(case pk, the case's whole problem list): flags the intake rules added."""
        for pk, problems in items:
            self.s.execute(update(_CASE_T).where(_CASE_T.c.id == pk).values(problems="\n".join(problems)))

    def add_raws(self, raws: Sequence[NewRaw]) -> list[int]:
        """Insert raw messages in order with one executemany; returns their ids in order.

        The ids are read back by the unique (mailbox, uidvalidity, uid) rather than with
        RETURNING: SQLAlchemy can only match RETURNING rows to parameter sets on SQLite by
        inserting one row per statement, which costs more than the extra SELECT."""
        if not raws:
            return []
        conn = self.s.connection()
        conn.execute(insert(_RAW_T), [r.values() for r in raws])
        ids: dict[tuple[str, int, int], int] = {}
        for (mailbox, uidvalidity), uids in _group(raws, lambda r: (r.mailbox, r.uidvalidity), lambda r: r.uid):
            for part in _chunks(uids):
                q = select(_RAW_T.c.uid, _RAW_T.c.id).where(
                    _RAW_T.c.mailbox == mailbox, _RAW_T.c.uidvalidity == uidvalidity, _RAW_T.c.uid.in_(part)
                )
                ids.update(((mailbox, uidvalidity, uid), pk) for uid, pk in conn.execute(q))
        return [ids[(r.mailbox, r.uidvalidity, r.uid)] for r in raws]

    def add_cases(self, cases: Sequence[tuple[Case, str, Deadlines | None]]) -> list[int]:
        """Insert new cases (Case.id is ignored) with their body text and deadlines (None:
        set later), in order, in one statement; returns the new ids in order."""
        if not cases:
            return []
        rows = []
        for c, body_text, d in cases:
            rows.append(
                {
                    "case_id": c.case_id,
                    "sender": c.sender,
                    "sender_name": c.sender_name,
                    "subject": c.subject[:500],
                    "reply_to": c.reply_to,
                    "message_id": c.message_id,
                    "references": "\n".join(c.references),
                    "status": c.status.value,
                    "arrived_at": c.arrived_at,
                    "problems": "\n".join(c.problems),
                    "update_count": c.update_count,
                    "last_updated_at": c.last_updated_at,
                    "regulatory_extended_to": c.regulatory_extended_to,
                    "extension_reason": c.extension_reason,
                    "paused_seconds": c.earlier_pend_seconds,
                    "paused_since": c.pended_at,
                    "pend_items": c.pend_items,
                    "info_received_at": c.info_received_at,
                    "first_opened_at": c.first_opened_at,
                    "claimed_by": c.claimed_by,
                    "claim_until": c.claim_until,
                    "active_seconds": c.active_seconds,
                    "urgency_rank": URGENCY_RANK[c.fields.urgency.value],
                    "body_text": body_text,
                    **field_values(c.fields),
                    **(_deadline_values(d) if d is not None else {}),
                }
            )
        conn = self.s.connection()
        conn.execute(insert(_CASE_T), rows)
        ids: dict[tuple[str, str], int] = {}  # by the unique (sender, case ID), as in add_raws
        for part in _chunks({c.case_id for c, _, _ in cases}):
            q = select(_CASE_T.c.sender, _CASE_T.c.case_id, _CASE_T.c.id).where(_CASE_T.c.case_id.in_(part))
            ids.update(((sender, case_id), pk) for sender, case_id, pk in conn.execute(q))
        return [ids[(c.sender, c.case_id)] for c, _, _ in cases]

    def apply_followups(self, updates: Sequence[tuple[Case, Iterable[str], str, int]]) -> None:
        """(case, names of the fields its follow-ups changed, text to append, how many
        follow-ups) for stored cases. Only the changed columns are written and the count is
        incremented in SQL, so a value another writer saved meanwhile (the PDF pass, an
        extension) is never overwritten with this batch's older copy."""
        for case, changed, suffix, count in updates:
            row = _field_columns(case, changed)
            row["update_count"] = _CASE_T.c.update_count + count
            row["last_updated_at"] = case.last_updated_at
            if suffix:
                row["body_text"] = func.coalesce(_CASE_T.c.body_text, "") + suffix
            self.s.execute(update(_CASE_T).where(_CASE_T.c.id == case.id).values(row))

    def set_case_fields(self, case: Case, changed: Iterable[str]) -> None:
        """Write only the named fields of `case` (the PDF pass's additions)."""
        row = _field_columns(case, changed)
        if row:
            self.s.execute(update(_CASE_T).where(_CASE_T.c.id == case.id).values(row))

    def add_attachments(self, items: Sequence[tuple[int, int, Attachment]]) -> None:
        """(case_pk, raw_pk, attachment) rows in one statement."""
        if not items:
            return
        rows = [
            {
                "case_pk": case_pk,
                "raw_message_pk": raw_pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "part": a.part,
                "text": a.text,
            }
            for case_pk, raw_pk, a in items
        ]
        self.s.execute(insert(_ATT_T), rows)

    def set_attachment_texts(self, texts: Sequence[tuple[int, str | None]]) -> None:
        """(attachment id, extracted text) from the PDF pass; None (unreadable, no text)
        is stored as "" so the pass does not read that packet again."""
        if not texts:
            return
        q = update(_ATT_T).where(_ATT_T.c.id == bindparam("a_pk")).values(text=bindparam("a_text"))
        self.s.connection().execute(q, [{"a_pk": pk, "a_text": text or ""} for pk, text in texts])


def _field_columns(case: Case, changed: Iterable[str]) -> dict[str, Any]:
    """case_row values of the named CaseFields (with the urgency's sort rank)."""
    values = field_values(case.fields)
    cols = {_FIELD_COLUMN.get(name, name) for name in changed}
    row: dict[str, Any] = {col_: values[col_] for col_ in cols}
    if "urgency" in cols:
        row["urgency_rank"] = URGENCY_RANK[case.fields.urgency.value]
    return row
