"""The repository: the only code that reads and writes tables.

Callers get uq.domain objects, never rows. Reads live here (Store); the transaction's
writes in tx.py and batch.py; conversions in convert.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, literal_column, or_, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from uq.domain import (
    Attachment,
    AuditEntry,
    CallAttempt,
    Case,
    CaseFields,
    CaseStatus,
    Decision,
    OutboxItem,
    OutboxState,
    Outcome,
)
from uq.errors import ConflictError, StoreError
from uq.secrets import cached_audit_key
from uq.store import db, schema
from uq.store.audit_chain import Head, KeySource, head_record, row_digests
from uq.store.convert import (
    _ATT_T,
    _CASE_T,
    RawMessageInfo,
    _chunks,
    audit_from_row,
    call_from_row,
    case_from_row,
    decision_from_row,
    outbox_from_row,
)
from uq.store.rows import HAS_PROBLEMS_SQL, PAUSED_DUE_SQL, QueueRow
from uq.store.tables import (
    AttachmentRow,
    AuditRow,
    CallAttemptRow,
    CaseRow,
    DecisionRow,
    OutboxRow,
    PrivateNoteRow,
    RawMessageRow,
    UTCDateTime,
)
from uq.store.tx import QUEUE_ORDER, Tx, unheld

# ---------------------------------------------------------------- the store


class Store:
    """`audit_key` gives the audit chain's HMAC key when it is first needed (a write to the
    trail, or verify), so commands that only read never touch the keyring; by default
    UQ_AUDIT_KEY, else the keyring (uq.secrets.audit_key)."""

    def __init__(self, engine: Engine, audit_key: KeySource | None = None) -> None:
        self.engine = engine
        self._audit_key = audit_key or cached_audit_key()

    @classmethod
    def open(cls, url: str, *, create: bool = True, audit_key: KeySource | None = None) -> Store:
        """Creates a new database at the current schema (create=False: refuses an empty
        one instead); refuses one that is behind."""
        engine = db.make_engine(url)
        try:
            schema.ensure(engine, create=create)
        except DatabaseError as exc:  # not a database at all, or one SQLite cannot read
            engine.dispose()
            where = db.sqlite_path(url) or engine.url.render_as_string(hide_password=True)
            raise StoreError(f"database {where} cannot be used: {db._short(exc)}") from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, audit_key)

    def audit_key(self) -> bytes:
        return self._audit_key()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def shared(self) -> bool:
        """A server database (PostgreSQL): a team's queue, each reviewer running a sender."""
        return self.engine.dialect.name != "sqlite"

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield Tx(s, self._audit_key)
                s.commit()
        except OperationalError as exc:
            raise StoreError(f"database error: {db._short(exc)}") from None
        except IntegrityError as exc:  # another writer got there first (a unique key): retryable
            raise ConflictError(f"database conflict: {db._short(exc)}") from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield s
        except OperationalError as exc:
            raise StoreError(f"database error: {db._short(exc)}") from None

    # ---- cases
    def case(self, case_pk: int) -> Case | None:
        with self.read() as s:
            r = s.get(CaseRow, case_pk)
            return case_from_row(r) if r else None

    def find_cases(self, case_id: str) -> list[Case]:
        """By the case ID the reviewer types (exact, then case-insensitive), or #pk."""
        with self.read() as s:
            if case_id.startswith("#") and case_id[1:].isdigit():
                r = s.get(CaseRow, int(case_id[1:]))
                return [case_from_row(r)] if r else []
            rows = s.exec(select(CaseRow).where(CaseRow.case_id == case_id)).all()
            if not rows:
                rows = s.exec(select(CaseRow).where(func.lower(CaseRow.case_id) == case_id.lower())).all()
            return [case_from_row(r) for r in rows]

    def cases(self, *, open_only: bool = True) -> list[Case]:
        with self.read() as s:
            q = select(CaseRow)
            if open_only:
                q = q.where(CaseRow.status != CaseStatus.DECIDED.value)
            q = q.order_by(*QUEUE_ORDER)
            return [case_from_row(r) for r in s.exec(q)]

    def queue_rows(self, *, open_only: bool = True, limit: int | None = None) -> list[QueueRow]:
        return list(self.iter_queue_rows(open_only=open_only, limit=limit))

    def iter_queue_rows(self, *, open_only: bool = True, limit: int | None = None) -> Iterator[QueueRow]:
        """Streamed in chunks, so a 100k-case queue never holds all its raw result rows and
        all its QueueRows at once (peak memory is what RSS keeps)."""
        has_problems = text(HAS_PROBLEMS_SQL)
        cols = (
            CaseRow.id,
            CaseRow.case_id,
            CaseRow.status,
            CaseRow.due_at,
            CaseRow.window_start,
            CaseRow.binding,
            CaseRow.urgency,
            CaseRow.review_type,
            CaseRow.client,
            CaseRow.service,
            CaseRow.nurse_recommendation,
            CaseRow.member_name,
            CaseRow.update_count,
            has_problems,
            CaseRow.arrived_at,
            CaseRow.sender,
            CaseRow.claimed_by,
            CaseRow.claim_until,
            CaseRow.regulatory_paused,
            literal_column(PAUSED_DUE_SQL, UTCDateTime()),
            CaseRow.paused_since,
        )
        q = select(*cols)  # type: ignore[call-overload]
        if open_only:
            q = q.where(CaseRow.status != CaseStatus.DECIDED.value)
        q = q.order_by(*QUEUE_ORDER)
        if limit:
            q = q.limit(limit)
        with self.read() as s:
            for t in s.execute(q.execution_options(yield_per=2000)):
                yield QueueRow(*t)

    def open_case_ids(self) -> list[tuple[int, str]]:
        """(pk, case ID) of every open case: what the look-alike check compares."""
        q = select(col(CaseRow.id), col(CaseRow.case_id)).where(CaseRow.status != CaseStatus.DECIDED.value)
        with self.read() as s:
            return [(int(pk), str(cid)) for pk, cid in s.execute(q)]

    def claim_candidates(self, now: datetime, limit: int) -> list[tuple[int, CaseFields]]:
        """The first `limit` open cases no one holds, in queue order, with the fields
        `claim --next` matches the reviewer against (uq.queue.assign)."""
        cols = [_CASE_T.c[name] for name in ("id", "requesting_provider", "service", "facility", "question")]
        q = (
            select(*cols)
            .where(col(CaseRow.status) != CaseStatus.DECIDED.value, unheld(now))
            .order_by(*QUEUE_ORDER)
            .limit(limit)
        )
        with self.read() as s:
            return [
                (pk, CaseFields(requesting_provider=rp, service=sv, facility=fa, question=qu))
                for pk, rp, sv, fa, qu in s.execute(q)
            ]

    def attachments(self, case_pk: int) -> list[Attachment]:
        """Name, type, size and text; no bytes (see attachment_sources)."""
        return [a for a, _ in self._attachment_rows(case_pk, with_raw=False)]

    def attachment_sources(self, case_pk: int) -> list[tuple[Attachment, bytes]]:
        """Each attachment with the raw message it sits in: the bytes are kept once, in the
        message as received, and decoded by the mail parser when someone opens one."""
        return self._attachment_rows(case_pk, with_raw=True)

    def _attachment_rows(self, case_pk: int, *, with_raw: bool) -> list[tuple[Attachment, bytes]]:
        with self.read() as s:
            rows = s.exec(select(AttachmentRow).where(AttachmentRow.case_pk == case_pk).order_by(col(AttachmentRow.id)))
            atts = [
                (r.raw_message_pk, Attachment(r.filename, r.content_type, r.size, b"", r.text or None, r.part))
                for r in rows
            ]
            raws = self._raws_by_pk(s, {pk for pk, _ in atts}) if with_raw else {}
        return [(a, raws.get(pk, b"")) for pk, a in atts]

    @staticmethod
    def _raws_by_pk(s: Session, pks: Iterable[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for part in _chunks(pks):
            q = select(RawMessageRow.id, RawMessageRow.raw).where(col(RawMessageRow.id).in_(part))
            out.update((pk, raw) for pk, raw in s.execute(q))
        return out

    def pdfs_without_text(self, *, limit: int, case_pk: int | None = None) -> list[tuple[int, bytes, str]]:
        """(attachment id, raw message, part) of PDF attachments whose text was not
        extracted yet, oldest first: the work list of the PDF pass that follows a sync
        (which decodes the part with the mail parser's fast walker)."""
        q = select(_ATT_T.c.id, _ATT_T.c.raw_message_pk, _ATT_T.c.part).where(
            _ATT_T.c.text.is_(None),
            or_(_ATT_T.c.content_type == "application/pdf", func.lower(_ATT_T.c.filename).like("%.pdf")),
        )
        if case_pk is not None:
            q = q.where(_ATT_T.c.case_pk == case_pk)
        q = q.order_by(_ATT_T.c.id).limit(limit)
        with self.read() as s:
            todo = list(s.execute(q))
            raws = self._raws_by_pk(s, {r.raw_message_pk for r in todo})
        return [(r.id, raws.get(r.raw_message_pk, b""), r.part) for r in todo]

    def attachment_owners(self, att_pks: Iterable[int]) -> dict[int, tuple[int, str, str]]:
        """{attachment id: (case pk, sender, file name)}: whose fields a PDF's text may
        complete, and which case a text cut short is flagged on."""
        q = select(_ATT_T.c.id, _ATT_T.c.case_pk, CaseRow.sender, _ATT_T.c.filename).where(
            _ATT_T.c.case_pk == CaseRow.id, _ATT_T.c.id.in_(list(att_pks))
        )
        with self.read() as s:
            return {r.id: (r.case_pk, r.sender, r.filename) for r in s.execute(q)}

    def body_text(self, case_pk: int) -> str:
        with self.read() as s:
            return s.exec(select(CaseRow.body_text).where(CaseRow.id == case_pk)).first() or ""

    def ingested_since(self, raw_pk: int | None) -> tuple[int, list[tuple[str, int | None, str | None]]]:
        """What another syncer stored after raw message `raw_pk` (None: nothing, just where
        the store stands now): the newest id and (kind, case pk, case urgency) per message,
        for a process that follows the syncer."""
        with self.read() as s:
            if raw_pk is None:
                return s.exec(select(func.max(RawMessageRow.id))).first() or 0, []
            q = (
                select(RawMessageRow.id, RawMessageRow.kind, RawMessageRow.case_pk, CaseRow.urgency)
                .outerjoin(CaseRow, col(CaseRow.id) == col(RawMessageRow.case_pk))
                .where(col(RawMessageRow.id) > raw_pk)
                .order_by(col(RawMessageRow.id))
            )
            rows = list(s.execute(q))
        last = rows[-1][0] if rows else raw_pk
        return last, [(kind, case_pk, urgency) for _, kind, case_pk, urgency in rows]

    def raw_messages(self, *, case_pk: int | None = None, kinds: Sequence[str] = ()) -> list[RawMessageInfo]:
        cols = [c for c in RawMessageRow.__table__.columns if c.name != "raw"]  # type: ignore[attr-defined]
        q = select(*cols)
        if case_pk is not None:
            q = q.where(RawMessageRow.case_pk == case_pk)
        if kinds:
            q = q.where(col(RawMessageRow.kind).in_(list(kinds)))
        q = q.order_by(col(RawMessageRow.id))
        with self.read() as s:
            return [
                RawMessageInfo(
                    t.id,
                    t.mailbox,
                    t.uid,
                    t.kind,
                    t.reason,
                    t.sender,
                    t.subject,
                    t.message_id,
                    t.internaldate,
                    t.ingested_at,
                    t.size,
                    t.case_pk,
                )
                for t in s.execute(q)
            ]

    def raw_bytes(self, raw_pk: int) -> bytes:
        with self.read() as s:
            return s.exec(select(RawMessageRow.raw).where(RawMessageRow.id == raw_pk)).first() or b""

    def first_raw_for_case(self, case_pk: int) -> bytes:
        with self.read() as s:
            r = s.exec(
                select(RawMessageRow.raw).where(RawMessageRow.case_pk == case_pk).order_by(col(RawMessageRow.id))
            ).first()
            return r or b""

    def decisions(self, case_pk: int) -> list[Decision]:
        with self.read() as s:
            rows = s.exec(select(DecisionRow).where(DecisionRow.case_pk == case_pk).order_by(col(DecisionRow.id)))
            return [decision_from_row(r) for r in rows]

    def adverse_decisions_by(self, reviewer: str, *, case_id: str, member_id: str | None,
                             exclude_pk: int) -> list[tuple[Decision, Case]]:
        """A reviewer's standing denials and partial approvals on other cases with the same
        case ID or member ID: the candidates for "the appeal of their own denial"."""
        match = func.lower(CaseRow.case_id) == case_id.lower()
        if member_id:
            match = or_(match, col(CaseRow.member_id) == member_id)
        with self.read() as s:
            q = select(DecisionRow, CaseRow).where(
                DecisionRow.case_pk == CaseRow.id,
                col(DecisionRow.undone).is_(False),
                DecisionRow.reviewer == reviewer,
                col(DecisionRow.outcome).in_([Outcome.DENY.value, Outcome.PARTIAL.value]),
                CaseRow.id != exclude_pk,
                match,
            )
            return [(decision_from_row(d), case_from_row(c)) for d, c in s.exec(q.order_by(col(DecisionRow.id)))]

    def decisions_between(self, since: datetime | None, until: datetime | None) -> list[tuple[Decision, Case]]:
        with self.read() as s:
            q = select(DecisionRow, CaseRow).where(
                DecisionRow.case_pk == CaseRow.id, col(DecisionRow.undone).is_(False)
            )
            if since:
                q = q.where(DecisionRow.decided_at >= since)
            if until:
                q = q.where(DecisionRow.decided_at < until)
            return [
                (decision_from_row(d), case_from_row(c)) for d, c in s.exec(q.order_by(col(DecisionRow.decided_at)))
            ]

    def note(self, case_pk: int, reviewer: str) -> str:
        """The reviewer's private note on the case ("" when none)."""
        with self.read() as s:
            mine = (PrivateNoteRow.case_pk == case_pk, PrivateNoteRow.reviewer == reviewer)
            return s.exec(select(PrivateNoteRow.text).where(*mine)).first() or ""

    def calls(self, case_pk: int) -> list[CallAttempt]:
        with self.read() as s:
            rows = s.exec(
                select(CallAttemptRow).where(CallAttemptRow.case_pk == case_pk).order_by(col(CallAttemptRow.at))
            )
            return [call_from_row(r) for r in rows]

    # ---- outbox
    def outbox(self, *, states: Sequence[OutboxState] = (), case_pk: int | None = None) -> list[OutboxItem]:
        with self.read() as s:
            q = select(OutboxRow)
            if case_pk is not None:
                q = q.where(col(OutboxRow.case_pk) == case_pk)
            if states:
                q = q.where(col(OutboxRow.state).in_([x.value for x in states]))
            return [outbox_from_row(r) for r in s.exec(q.order_by(col(OutboxRow.id)))]

    def outbox_due(self, now: datetime, *, reviewer: str | None = None) -> list[OutboxItem]:
        """Items a sender may claim now; with reviewer, only that reviewer's (and rows from
        before replies carried one)."""
        with self.read() as s:
            q = select(OutboxRow).where(
                col(OutboxRow.state).in_(
                    [
                        OutboxState.HELD.value,
                        OutboxState.QUEUED.value,
                        OutboxState.FAILED.value,
                        OutboxState.SENDING.value,
                        OutboxState.UNCERTAIN.value,
                    ]
                ),
                OutboxRow.not_before <= now,
            )
            if reviewer is not None:
                q = q.where(col(OutboxRow.reviewer).in_([reviewer, ""]))
            return [outbox_from_row(r) for r in s.exec(q.order_by(col(OutboxRow.id)))]

    def outbox_item(self, item_id: int) -> tuple[OutboxItem, str, bool]:
        """(item, mail_from, sent_copy_saved)."""
        with self.read() as s:
            r = s.get(OutboxRow, item_id)
            if r is None:
                raise StoreError(f"outbox item {item_id} not found")
            return outbox_from_row(r), r.mail_from, r.sent_copy_saved

    def outbox_counts(self) -> dict[str, int]:
        with self.read() as s:
            rows = s.exec(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
            return {state: n for state, n in rows}

    def sent_without_copy(self) -> list[OutboxItem]:
        with self.read() as s:
            q = select(OutboxRow).where(
                OutboxRow.state == OutboxState.SENT.value, col(OutboxRow.sent_copy_saved).is_(False)
            )
            return [outbox_from_row(r) for r in s.exec(q)]

    # ---- audit
    def audit_head(self) -> Head | None:
        """The chain's head as the last audit write left it (None: the row is missing)."""
        with self.read() as s:
            return head_record(s)

    def content_digests(self, kind: str) -> list[tuple[int, int, str]]:
        """(row id, case pk, digest now) of every decision or outbox item, for verify."""
        key = self.audit_key()
        with self.read() as s:
            return row_digests(s, key, kind)

    def audit_entries(self, *, case_pk: int | None = None) -> list[AuditEntry]:
        with self.read() as s:
            q = select(AuditRow)
            if case_pk is not None:
                q = q.where(AuditRow.case_pk == case_pk)
            return [audit_from_row(r) for r in s.exec(q.order_by(col(AuditRow.id)))]

    def raw_kind_counts(self, kinds: Sequence[str]) -> dict[str, int]:
        """{kind: messages} for the given raw message kinds (the status bar's set-aside mail)."""
        q = (
            select(RawMessageRow.kind, func.count())
            .where(col(RawMessageRow.kind).in_(list(kinds)))
            .group_by(col(RawMessageRow.kind))
        )
        with self.read() as s:
            return {k: 0 for k in kinds} | {kind: int(n) for kind, n in s.execute(q)}

    def counts(self) -> dict[str, int]:
        with self.read() as s:
            open_n = s.exec(select(func.count()).select_from(CaseRow).where(CaseRow.status != "decided")).one()
            all_n = s.exec(select(func.count()).select_from(CaseRow)).one()
            raw_n = s.exec(select(func.count()).select_from(RawMessageRow)).one()
            return {"open": int(open_n), "cases": int(all_n), "messages": int(raw_n)}
