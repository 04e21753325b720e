"""Raw nurse case email -> ParsedEmail (CASE_EMAIL.md is the contract).

Pure and total: no IO, no logging, and no exception escapes. Whatever cannot be read at
all is QUARANTINE with a reason, so the sync can keep the raw bytes and lose nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from uq import intake
from uq.config import ParseConfig
from uq.domain import (
    Attachment,
    CaseFields,
    MessageKind,
    NurseRecommendation,
    ParsedEmail,
    ReviewLevel,
    ReviewType,
    Urgency,
)
from uq.mail import values
from uq.mail.dates import parse_when
from uq.mail.labels import Found, LabelTable, build_table, extract, keeps_label_prefix
from uq.mail.mime import (
    Unparseable,
    first_id,
    header_address,
    header_date,
    header_text,
    load,
    load_headers,
    split_parts,
    thread_ids,
)
from uq.mail.pdf_text import PdfLimits, cut_problem, is_pdf, pdf_limits, pdf_text

__all__ = ["CORE_FIELDS", "parse_email", "parse_email_stdlib"]

# Without all of these in the body, a PDF packet is read even when extract_pdf_text=False:
# a short "packet attached" body leaves the clock and the request to the PDF.
CORE_FIELDS = ("case_id", "review_type", "urgency", "received_at", "member_name", "service",
               "nurse_recommendation")

_PREFIX_RE = re.compile(r"^(?:\s*+(?:re|fwd?|aw|sv|antw)\s*+(?:\[\d+\])?\s*+:\s*+)++", re.I)
# Linear on any subject: possessive runs, and an ID is at most ~100 characters (a longer
# token is no ID), so each "case"/"ref" in the subject costs a bounded look ahead.
_ID = r"(?P<id>[A-Za-z0-9][A-Za-z_.\-/]{0,40}+\d[A-Za-z0-9_.\-/]{0,60}+)(?![A-Za-z0-9_.\-/])"
_SUBJECT_ID_RE = re.compile(
    r"\b(?:case|ref(?:erence)?|review\s++id|auth(?:orization)?)\b\.?\s*+"
    r"(?:#|no\.?|num(?:ber)?\.?|id)?\s*+[:#]?\s*+" + _ID,
    re.I,
)
# In a reply or forward the ID may stand alone: "Re: Prior authorization request PA-300417".
_BARE_ID_RE = re.compile(r"\b(?P<id>[A-Z]{1,6}-\d{3,}+(?:-\d++)*+(?:-[A-Z])?+)\b")
_MAX_ID_CHARS = 100
MAX_ATTACHMENTS = 200  # listed per message: more is no case packet, only rows
_SUBJECT_CHARS = 1000  # an ID or a reply prefix is looked for in the subject's start only
_OOO_RE = re.compile(r"\b(?:out of (?:the )?office|automatic reply|auto[- ]?reply|"
                     r"autoreply|away from (?:the )?office|on vacation)\b", re.I)
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
_NPI_RE = re.compile(r"^\d{10}$")
# Dates outside this window are typos or hostile, never a clock to compute: a problem on
# the case instead. The upper end is two years after `now` (or the Date header).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=730)
_LATEST_WITHOUT_NOW = datetime(2100, 1, 1, tzinfo=UTC)
_QUOTE_CHARS = 60

# (sender, client field) -> the zone a time written without one is read in
ZoneFor = Callable[[str, str | None], ZoneInfo]


def parse_email(raw: bytes, *, tz: ZoneInfo, parse: ParseConfig | None = None,
                extract_pdf_text: bool = True, now: datetime | None = None,
                zone_for: ZoneFor | None = None) -> ParsedEmail:
    """Never raises: anything unexpected is QUARANTINE with a short reason.

    A time written without a zone is read in `zone_for(sender, client)` when given (the
    client policy's zone), else in `tz`.

    extract_pdf_text=False leaves Attachment.text None (fill it later with
    `pdf_text.pdf_texts`) unless the body lacks one of CORE_FIELDS: then the PDFs are read
    now, since their fields may be the case's only ones. `now` bounds the dates a message
    may carry (without it, the Date header does).
    """
    return _guarded(raw, tz, parse, extract_pdf_text, now, fast=True, zone_for=zone_for)


def parse_email_stdlib(raw: bytes, *, tz: ZoneInfo, parse: ParseConfig | None = None,
                       extract_pdf_text: bool = True, now: datetime | None = None) -> ParsedEmail:
    """parse_email through the stdlib's full `email` parse and eager HTML conversion: the
    reference the fast MIME path must equal (tests) and the baseline of bench/parse_bench.py."""
    return _guarded(raw, tz, parse, extract_pdf_text, now, fast=False)


def _guarded(raw: bytes, tz: ZoneInfo, parse: ParseConfig | None, extract_pdf_text: bool,
             now: datetime | None, *, fast: bool, zone_for: ZoneFor | None = None) -> ParsedEmail:
    stage = ["decode"]
    try:
        return _parse(bytes(raw), tz, parse or ParseConfig(), extract_pdf_text, now, fast, stage, zone_for)
    except Exception as exc:
        # the exception's text may quote the email: only its type and the step are kept
        reason = f"{stage[-1]} failed: {type(exc).__name__}"
        return replace(headers_only(raw), kind=MessageKind.QUARANTINE, reason=reason,
                       content_hash=_raw_hash(raw))


def headers_only(raw: object) -> ParsedEmail:
    """Sender, subject, date and IDs of a message whose body could not be read, so its
    quarantine row still says who sent what; an empty verdict when even those fail."""
    try:
        return _headers(load_headers(bytes(raw)))  # type: ignore[call-overload]
    except Exception:
        return ParsedEmail(kind=MessageKind.QUARANTINE, fields=CaseFields())


def _raw_hash(raw: object) -> str:
    try:
        data = bytes(raw)  # type: ignore[call-overload]
    except Exception:
        data = b""
    body = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[-1]
    return hashlib.sha256(body).hexdigest()


def _parse(raw: bytes, tz: ZoneInfo, cfg: ParseConfig, with_pdf: bool, now: datetime | None,
           fast: bool, stage: list[str], zone_for: ZoneFor | None = None) -> ParsedEmail:
    if len(raw) > cfg.message_bytes:
        return replace(headers_only(raw), content_hash=_raw_hash(raw),
                       reason=f"message of {len(raw)} bytes is over [parse] message_bytes ({cfg.message_bytes})")
    raw, cut_headers = _bound_headers(raw, cfg.header_bytes)
    try:
        msg = load(raw, fast=fast)
    except Unparseable as exc:
        return replace(headers_only(raw), reason=str(exc), content_hash=_raw_hash(raw))
    stage.append("headers")
    head = _headers(msg)
    stage.append("decode")
    try:
        mime = split_parts(msg, fast=fast)
    except Unparseable as exc:
        return replace(head, kind=MessageKind.QUARANTINE, reason=str(exc),
                       content_hash=_raw_hash(raw))
    stage.append("fields")
    table = _table(cfg, head.sender)
    cut: list[str] = [f"headers: cut at {cfg.header_bytes} bytes ([parse] header_bytes)"] if cut_headers else []
    if len(mime.attachments) > MAX_ATTACHMENTS:
        cut.append(f"attachments: {len(mime.attachments)} parts, the first {MAX_ATTACHMENTS} listed; "
                   "the raw email keeps them all")
        mime.attachments = mime.attachments[:MAX_ATTACHMENTS]

    body = mime.plain if mime.plain is not None else ""
    lines = cfg.lines_scanned
    found = extract(body, table, max_lines=lines) if body.strip() else {}
    if not found and mime.html is not None:
        html_found = extract(mime.html, table, max_lines=lines)
        if html_found or not body.strip():
            body, found = mime.html, html_found
    if with_pdf or not all(name in found for name in CORE_FIELDS):
        stage.append("pdf text")
        mime.attachments = _with_texts(mime.attachments, pdf_limits(cfg), cut)
        stage.append("fields")
    attachments = tuple(mime.attachments)
    for att in attachments:
        if att.text and att.content_type == "application/pdf":
            for name, item in extract(att.text, table, max_lines=lines).items():
                found.setdefault(name, item)

    threaded = bool(head.in_reply_to or head.references or _PREFIX_RE.match(head.subject))
    latest = _latest(now, head.date)
    if zone_for is not None:
        tz = zone_for(head.sender, found["client"].value() if "client" in found else None)
    fields, problems = _fields(found, head.subject, tz, latest, threaded=threaded)
    problems += tuple(cut)
    result = replace(head, fields=fields, problems=problems, body_text=body.strip("\n"),
                     attachments=attachments, content_hash=_content_hash(body, attachments))

    bulk = bool(msg.get("List-Unsubscribe") or msg.get("List-Id")) or _precedence(msg) in ("bulk", "list", "junk")
    verdict = intake.message_kind(fields, len(found), automated=_automated_reason(msg, head),
                                  reply=bool(head.in_reply_to or head.references), bulk=bulk)
    if verdict.kind is MessageKind.NOT_CASE:
        return replace(result, kind=MessageKind.NOT_CASE, reason=verdict.reason, problems=())
    flags = verdict.flags + intake.sender_flags(head.sender, head.sender_name)
    return replace(result, kind=MessageKind.CASE, problems=problems + flags)


def _latest(now: datetime | None, date: datetime | None) -> datetime:
    ref = now or date
    return ref + AHEAD if ref is not None else _LATEST_WITHOUT_NOW


def in_bounds(when: datetime | None, latest: datetime = _LATEST_WITHOUT_NOW) -> bool:
    if when is None:
        return False
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # compared only
    return EARLIEST <= aware <= latest


def _quote(value: str) -> str:
    """A value for a problem line: bounded, since a hostile one may be megabytes."""
    return repr(value if len(value) <= _QUOTE_CHARS else value[:_QUOTE_CHARS] + "...")


def _headers(msg: Message) -> ParsedEmail:
    sender_name, sender = header_address(msg, "From")
    date = header_date(msg)
    _, reply_to = header_address(msg, "Reply-To")
    return ParsedEmail(
        kind=MessageKind.QUARANTINE,
        fields=CaseFields(),
        message_id=first_id(header_text(msg, "Message-ID")),
        in_reply_to=first_id(header_text(msg, "In-Reply-To")),
        references=thread_ids(msg, "References"),
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to or None,
        subject=header_text(msg, "Subject"),
        date=date if in_bounds(date) else None,
    )


def _precedence(msg: Message) -> str:
    return header_text(msg, "Precedence").lower()


def _automated_reason(msg: Message, head: ParsedEmail) -> str | None:
    """Why the headers or subject look like an auto-reply or a bounce (uq.intake decides
    what that means)."""
    auto = header_text(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"auto-reply (Auto-Submitted: {auto})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if msg.get(name) is not None:
            return f"auto-reply ({name})"
    if _precedence(msg) == "auto_reply":
        return "auto-reply (Precedence: auto_reply)"
    if msg.get_content_type() == "multipart/report":
        return "delivery failure (multipart/report)"
    if head.sender.startswith(_BOUNCE_SENDERS):
        return f"delivery failure ({head.sender.split('@')[0]})"
    if _OOO_RE.search(_PREFIX_RE.sub("", head.subject)):
        return "out-of-office reply"
    return None


def _table(cfg: ParseConfig, sender: str) -> LabelTable:
    extra: list[Mapping[str, list[str]]] = [cfg.aliases]
    domain = sender.rpartition("@")[2]
    for key, mapping in cfg.sender.items():
        k = key.strip().lower().lstrip("@")
        if k and (k in (sender, domain) or domain.endswith("." + k)):
            extra.append(mapping)
    return build_table(extra)


def _with_texts(atts: list[Attachment], limits: PdfLimits, problems: list[str]) -> list[Attachment]:
    """PDF texts within one time budget for the whole message (limits.seconds)."""
    out = []
    deadline = time.monotonic() + limits.seconds
    for att in atts:
        if is_pdf(att) and att.data:
            lim = replace(limits, seconds=max(0.0, deadline - time.monotonic()))
            got = pdf_text(att.data, lim)
            # a packet a limit stopped before any text is "" (not None): the PDF pass must
            # not spend the limit on it again
            att = replace(att, text=got.text or ("" if got.cut in ("time", "memory") else None))
            problem = cut_problem(att.filename, got, limits)
            if problem:
                problems.append(problem)
        out.append(att)
    return out


def _bound_headers(raw: bytes, limit: int) -> tuple[bytes, bool]:
    """`raw` with its header block cut to `limit` bytes (at a line end), and whether it was.
    A header block that long is hostile; its cost is bounded before any header is parsed."""
    if len(raw) <= limit:
        return raw, False
    ends = [i for i in (raw.find(b"\n\n", 0, limit + 2), raw.find(b"\n\r\n", 0, limit + 3)) if i >= 0]
    if ends:
        return raw, False
    blank = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    body = raw[min(blank) + 1:] if blank else b"\n"
    cut = raw.rfind(b"\n", 0, limit) + 1
    if cut < limit // 2:  # one giant header line: keep its start rather than no headers
        return raw[:limit] + b"\n" + body, True
    return raw[:cut] + body, True


def _content_hash(body: str, attachments: tuple[Attachment, ...]) -> str:
    """Whitespace-insensitive, so a re-send through another relay still matches."""
    lines = (" ".join(line.split()) for line in body.replace("\r", "\n").split("\n"))
    h = hashlib.sha256("\n".join(line for line in lines if line).encode("utf-8", "replace"))
    for att in attachments:
        h.update(b"\n" + hashlib.sha256(att.data).hexdigest().encode())
    return h.hexdigest()


def _subject_case_id(subject: str, *, threaded: bool) -> str | None:
    subject = subject[:_SUBJECT_CHARS]
    m = _SUBJECT_ID_RE.search(subject) or (_BARE_ID_RE.search(subject) if threaded else None)
    return m.group("id").rstrip(".-/") if m else None


def _case_id(value: str) -> str | None:
    token = value.split()[0] if value.split() else ""
    token = token.strip(".,;:()[]#")
    return token or None


def _fields(found: dict[str, Found], subject: str, tz: ZoneInfo, latest: datetime, *,
            threaded: bool) -> tuple[CaseFields, tuple[str, ...]]:
    problems: list[str] = []
    text: dict[str, str] = {}
    for name, item in found.items():
        value = item.value()
        if value and keeps_label_prefix(item.alias) and not value.lower().startswith(item.alias):
            label = {"interqual": "InterQual", "icd-10": "ICD-10"}.get(item.alias,
                                                                       item.alias.upper())
            value = f"{label} {value}"
        if value:
            text[name] = value

    plain = _PREFIX_RE.sub("", subject)
    case_id = _case_id(text["case_id"]) if "case_id" in text else None
    if case_id is not None and len(case_id) > _MAX_ID_CHARS:
        problems.append(f"case_id: too long to be an ID ({len(case_id)} characters)")
        case_id = None
    case_id = case_id or _subject_case_id(plain, threaded=threaded)
    if case_id is None and not problems:
        problems.append("case_id: not found")

    review_type = ReviewType.UNKNOWN
    if "review_type" in text:
        review_type = values.review_type(text["review_type"])
        if review_type is ReviewType.UNKNOWN:
            problems.append(f"review_type: unrecognised {_quote(text['review_type'])}")

    urgency = Urgency.UNKNOWN
    if "urgency" in text:
        urgency = values.urgency(text["urgency"], flag_label=found["urgency"].alias == "expedited")
        if urgency is Urgency.UNKNOWN:
            problems.append(f"urgency: unrecognised {_quote(text['urgency'])}")
    if urgency is Urgency.UNKNOWN and plain:
        without_id = plain.replace(case_id, " ") if case_id else plain
        urgency = values.urgency(without_id)

    review_level = ReviewLevel.UNKNOWN
    if "review_level" in text:
        review_level = values.review_level(text["review_level"],
                                           appeal_label=found["review_level"].alias == "appeal level")
        if review_level is ReviewLevel.UNKNOWN:
            problems.append(f"review_level: unrecognised {text['review_level']!r}")
    elif "review_type" in text:
        review_level = values.review_level(text["review_type"])

    received_at = _date(text, "received_at", tz, latest, problems, end_of_day=False)
    due_at = _date(text, "due_at", tz, latest, problems, end_of_day=True)

    recommendation, rec_text = NurseRecommendation.UNKNOWN, None
    if "nurse_recommendation" in text:
        recommendation, rec_text = values.recommendation(text["nurse_recommendation"])
        if recommendation is NurseRecommendation.UNKNOWN:
            problems.append("nurse_recommendation: names no outcome")

    npi = text.get("provider_npi")
    if npi is not None and not _NPI_RE.match(npi):
        problems.append(f"provider_npi: not 10 digits {_quote(npi)}")

    # every field is the labelled text as found, except the ones read into a type above
    kwargs: dict[str, Any] = {f.name: text.get(f.name) for f in dataclass_fields(CaseFields)}
    kwargs.update(
        case_id=case_id, review_type=review_type, urgency=urgency, review_level=review_level,
        received_at=received_at, due_at=due_at,
        provider_npi=npi, nurse_recommendation=recommendation, nurse_recommendation_text=rec_text,
    )
    fields = CaseFields(**kwargs)
    return fields, tuple(problems)


def _date(text: dict[str, str], name: str, tz: ZoneInfo, latest: datetime, problems: list[str],
          *, end_of_day: bool) -> datetime | None:
    value = text.get(name)
    if value is None:
        return None
    when = parse_when(value, tz, end_of_day=end_of_day)
    if when is None:
        problems.append(f"{name}: unreadable date {_quote(value)}")
    elif not in_bounds(when, latest):
        problems.append(f"{name}: date out of range {_quote(value)}")
        return None
    return when


def fields_from_pdf_text(text: str, *, tz: ZoneInfo, parse: ParseConfig | None = None, sender: str = "",
                         now: datetime | None = None) -> CaseFields:
    """The case fields a PDF packet's text carries. Sync reads PDFs only when the body lacks
    a core field; the later PDF pass merges these into the fields the case still lacks."""
    cfg = parse or ParseConfig()
    found = extract(text, _table(cfg, sender), max_lines=cfg.lines_scanned)
    fields, _ = _fields(found, "", tz, _latest(now, None), threaded=False)
    return fields
