"""The reply email that carries the physician's decision back to the nurse.

Pure: bytes out, no SMTP, no store. The raw message is built once, when the decision is
saved, and kept in the outbox, so a retry sends exactly the same bytes with the same
Message-ID and the nurse's mail client threads it under the case email.

The body comes from a Jinja2 template (bundled, or the user's reply.txt.j2). Its context
is built here from plain strings and carries only the minimum necessary PHI: case ID,
member initials (or member ID), service. No member name or date of birth is ever passed,
so no user template can leak them.
"""

from __future__ import annotations

import re
import traceback
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from uq.config import ReviewerConfig
from uq.domain import (
    CallAttempt,
    CallOutcome,
    Case,
    Decision,
    DeclineReason,
    Outcome,
    ReplyContent,
)
from uq.errors import ConfigError, SendError
from uq.textsafe import safe_mail_header, safe_mail_text

TEMPLATE_NAME = "reply.txt.j2"
BUILTIN = "(built-in)"

DECISION_LABEL = {
    Outcome.APPROVE: "APPROVE",
    Outcome.DENY: "DENY",
    Outcome.PARTIAL: "PARTIAL APPROVAL",
    Outcome.CALL_NEEDED: "CALL NEEDED",
    Outcome.PEND: "PENDED - INFORMATION REQUESTED",
    Outcome.DECLINE: "DECLINED",
}

_DECLINE_LABEL = {
    DeclineReason.CONFLICT_OF_INTEREST: "conflict of interest",
    DeclineReason.OUTSIDE_SPECIALTY: "outside my specialty",
    DeclineReason.OTHER: "other (explained below)",
}

_CALL_LABEL = {
    CallOutcome.REACHED: "reached",
    CallOutcome.VOICEMAIL: "voicemail left",
    CallOutcome.NO_ANSWER: "no answer",
}

_WIRE = SMTP.clone(max_line_length=998)
_RE_PREFIX = re.compile(r"^\s*(?:re\s*:\s*)+", re.IGNORECASE)
_DOMAIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def new_message_id(domain: str) -> str:
    """A fresh Message-ID; made once when the decision is saved, then reused on every retry.

    Accepts a bare domain or a whole address (the part after '@' is used)."""
    host = domain.strip().strip("<>").rpartition("@")[2].strip()
    if not _DOMAIN_RE.match(host):
        host = "localhost"
    return f"<uq.{uuid.uuid4().hex}@{host}>"


def compose_reply(
    *,
    case: Case,
    decision: Decision,
    content: ReplyContent,
    calls: Sequence[CallAttempt],
    reviewer: ReviewerConfig,
    from_address: str,
    message_id: str,
    now: datetime,
    tz: ZoneInfo,
    template_dir: Path | None = None,
) -> bytes:
    """The raw RFC 5322 reply (CRLF line ends), threaded under the case email."""
    if not from_address.strip():
        raise ConfigError("no From address for replies: set smtp.from_address (or reviewer.email)")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    to = (case.reply_to or case.sender or "").strip()
    if not to:
        raise SendError(f"case {case.case_id}: the case email has no address to reply to")
    body = render_preview(
        case=case,
        decision=decision,
        content=content,
        calls=calls,
        reviewer=reviewer,
        tz=tz,
        template_dir=template_dir,
    )

    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = reply_subject(case.subject, case.case_id)
    msg["From"] = _one_line(from_address)
    msg["To"] = _recipient(case, to)
    msg["Date"] = now.astimezone(tz)
    msg["Message-ID"] = _bracket(message_id)
    if case.message_id:
        msg["In-Reply-To"] = _bracket(case.message_id)
    refs = _references(case)
    if refs:
        msg["References"] = " ".join(refs)
    msg["X-UQ-Case"] = _one_line(case.case_id)
    msg.set_content(body, charset="utf-8", cte=_transfer_encoding(body))
    # Serialise headers with the hard 998 limit: CPython's folder moves a 70-78 character
    # Subject whole onto a continuation line, which unfolds with a leading space. The body
    # was already encoded above under the 78-character policy.
    return msg.as_bytes(policy=_WIRE)


def render_preview(
    *,
    case: Case,
    decision: Decision,
    content: ReplyContent,
    calls: Sequence[CallAttempt],
    reviewer: ReviewerConfig,
    tz: ZoneInfo,
    template_dir: Path | None = None,
) -> str:
    """The reply body as the nurse will read it (the TUI shows it before sending)."""
    source, where = _template_source(template_dir)
    context = _context(case=case, decision=decision, content=content, calls=calls, reviewer=reviewer, tz=tz)
    env = SandboxedEnvironment(
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    try:
        template = env.from_string(source)
        text = template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"reply template {where}: {exc.message} (line {exc.lineno})") from None
    except Exception as exc:  # a user template can fail in any way; show one line, no traceback
        line = _template_line(exc)
        at = f" (line {line})" if line else ""
        message = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
        raise ConfigError(f"reply template {where}: {message or type(exc).__name__}{at}") from None
    return _tidy(safe_mail_text(text))


def reply_to_address(case: Case) -> str:
    """The To header as the reply will carry it (the preview shows it)."""
    return str(_recipient(case, (case.reply_to or case.sender or "").strip()))


def reply_subject(subject: str, case_id: str) -> str:
    """'Re: ' exactly once, on one line."""
    rest = _RE_PREFIX.sub("", _one_line(subject))
    return f"Re: {rest or 'Case ' + _one_line(case_id)}"


# ------------------------------------------------------------------ context


def _context(
    *,
    case: Case,
    decision: Decision,
    content: ReplyContent,
    calls: Sequence[CallAttempt],
    reviewer: ReviewerConfig,
    tz: ZoneInfo,
) -> dict[str, Any]:
    f = case.fields
    outcome = decision.outcome
    return {
        "case_id": case.case_id,
        "member": case.member_initials or (f.member_id or ""),
        "service": (f.service or "").strip() or "(not stated in the case email)",
        "decision": DECISION_LABEL[outcome],
        "outcome": str(outcome),
        "agreement": content.agreement,
        "nurse_recommendation": str(f.nurse_recommendation),
        "rationale": decision.rationale.strip(),
        "guideline": content.guideline,
        "criteria": list(decision.criteria),
        "approved_portion": (decision.approved_portion or "").strip(),
        "denied_portion": (decision.denied_portion or "").strip(),
        "change_info": decision.change_info.strip(),
        "decline_reason": (
            _DECLINE_LABEL[decision.decline_reason] if decision.decline_reason else ""
        ),
        "note": decision.note.strip(),
        "call_back": {"phone": reviewer.phone.strip(), "email": reviewer.email.strip()},
        "call_back_line": content.call_back,
        "licence": content.licence,
        "calls": [
            {
                "at": _stamp(c.at, tz),
                "number": c.number,
                "outcome": _CALL_LABEL[c.outcome],
                "note": c.note.strip() if c.in_reply else "",  # private unless marked
            }
            for c in sorted(calls, key=lambda c: c.at)
        ],
        "reviewer": {
            "name": reviewer.name,
            "credentials": reviewer.credentials,
            "specialty": reviewer.specialty,
            "email": reviewer.email,
            "phone": reviewer.phone,
        },
        "decided_at": _stamp(decision.decided_at, tz),
        "received_at": _stamp(case.arrived_at, tz),
        "attestation": list(content.attestation),
    }


# ------------------------------------------------------------------ helpers


def _template_source(template_dir: Path | None) -> tuple[str, str]:
    if template_dir is not None:
        user = Path(template_dir).expanduser() / TEMPLATE_NAME
        if user.is_file():
            try:
                return user.read_text(encoding="utf-8"), str(user)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"reply template {user}: cannot read: {exc}") from None
    bundled = files("uq").joinpath("templates", TEMPLATE_NAME)
    return bundled.read_text(encoding="utf-8"), BUILTIN


def _template_line(exc: BaseException) -> int | None:
    """Jinja rewrites tracebacks so template frames carry template line numbers."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<template>":
            line = lineno
    return line


def _stamp(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _tidy(text: str) -> str:
    """No trailing blanks, at most one empty line in a row, one final newline."""
    lines = [ln.rstrip() for ln in text.strip("\n").splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip("\n") + "\n"


def _transfer_encoding(body: str) -> str:
    """7bit keeps a plain ASCII reply readable in the raw .eml; anything else is QP-safe."""
    if body.isascii() and all(len(ln) <= 998 for ln in body.splitlines()):
        return "7bit"
    return "quoted-printable"


def _one_line(value: str) -> str:
    """Header text copied from a case: one line, no control or format character, valid
    UTF-8 (the header folder encodes and folds it)."""
    return safe_mail_header(value)


def _recipient(case: Case, to: str) -> str | Address:
    """Reply-To as given; else the sender, with the display name the nurse used."""
    if case.reply_to or not case.sender_name:
        return _one_line(to)
    try:
        return Address(display_name=_one_line(case.sender_name), addr_spec=_one_line(case.sender))
    except (ValueError, IndexError):
        return _one_line(to)


def _bracket(msgid: str) -> str:
    """A message ID is printable ASCII without spaces; anything else a case email put in
    it is dropped, so it cannot break the header."""
    m = "".join(c for c in msgid if "!" <= c <= "~").strip("<>")
    return f"<{m}>"


def _references(case: Case) -> list[str]:
    refs: list[str] = []
    for r in (*case.references, case.message_id):
        if r and r.strip("<> \t\r\n"):
            b = _bracket(r)
            if b not in refs:
                refs.append(b)
    return refs
