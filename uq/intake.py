"""The intake rules: what a message is, and what it may do to a case.

Pure (no IO, no store, no mail library), so every rule here is tested on plain values.
The parser supplies the signals (fields found, auto-reply headers) and the sync supplies
what the store knows (the case a message threads to, the senders already using a case
ID); the decisions are made here and nowhere else.

Trust is by address: an email can say anything in its display name, its subject or its
body, but the sender address is what the mail system authenticated (as far as the plan's
mail server checks SPF/DKIM). So a follow-up changes a case only when it comes from the
case's own sender address or from a domain the reviewer declared trusted for that client
(`trusted_domains` in `[[sla.client]]`); anything else is kept as an unverified update
that changes nothing until the reviewer accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from uq.config import SlaConfig
from uq.domain import Case, CaseFields, MessageKind, NurseRecommendation, ReviewType, Urgency
from uq.queue.sla import policy_for

# Besides the case ID, how many of these make an email recognisably a case whatever its
# auto-reply headers say: an out-of-office notice quoting a subject has none of them.
CORE_FIELDS = ("review_type", "urgency", "received_at", "member_name", "service", "nurse_recommendation")
_MIN_CORE = 3
_MIN_FIELDS_WITHOUT_ID = 3  # labelled fields that still make a case when no ID was found
# an address inside a display name ("nurse1@payer.example, " <mallory@...>); linear: no
# nested quantifiers, one pass
_ADDRESS_IN_NAME_RE = re.compile(r"[^\s<>\"',;()@]+@[^\s<>\"',;()@]+\.[A-Za-z]{2,}")
_UNSET = (None, "", ReviewType.UNKNOWN, Urgency.UNKNOWN, NurseRecommendation.UNKNOWN)
_FIELD_NAMES = [f.name for f in fields(CaseFields)]
REPLY_WITHOUT_FIELDS = "reply without case fields"


# ---------------------------------------------------------------- what a message is


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: MessageKind
    reason: str | None = None  # why NOT_CASE
    flags: tuple[str, ...] = ()  # shown on the case with its problems


def is_recognisable_case(f: CaseFields) -> bool:
    """A case ID and most core fields: a case, whatever the headers around it say."""
    if not f.case_id:
        return False
    return sum(getattr(f, name) not in _UNSET for name in CORE_FIELDS) >= _MIN_CORE


def message_kind(f: CaseFields, labelled: int, *, automated: str | None, reply: bool, bulk: bool) -> Verdict:
    """Content first: a recognisable case is a case (flagged when it carries auto-reply or
    bounce signs); the headers and phrases decide only for what is not recognisably one.

    labelled: how many labelled fields the text held; automated: why the headers or
    subject look like an auto-reply or bounce (None when they do not); reply: the email
    threads to another; bulk: list or newsletter mail."""
    if is_recognisable_case(f):
        flags = (f"auto-reply signs ({automated}): kept as a case, it holds a whole case",) if automated else ()
        return Verdict(MessageKind.CASE, flags=flags)
    if automated:
        return Verdict(MessageKind.NOT_CASE, automated)
    if f.case_id is None and labelled < _MIN_FIELDS_WITHOUT_ID:
        if reply:
            return Verdict(MessageKind.NOT_CASE, REPLY_WITHOUT_FIELDS)
        if bulk:
            return Verdict(MessageKind.NOT_CASE, "newsletter or list mail: no case fields")
        return Verdict(MessageKind.NOT_CASE, "no case fields")
    return Verdict(MessageKind.CASE)


def sender_flags(sender: str, sender_name: str) -> tuple[str, ...]:
    """A display name that holds an address is how a stranger poses as a known nurse."""
    flags = []
    if not sender:
        flags.append("sender: no usable From address")
    m = _ADDRESS_IN_NAME_RE.search(sender_name)
    if m and m.group(0).lower() != sender:
        flags.append(f"sender: display name holds another address ({m.group(0)}); the sender is {sender or 'unknown'}")
    return tuple(flags)


# ---------------------------------------------------------------- trust


def domain_of(address: str) -> str:
    _, at, domain = address.rpartition("@")
    return domain.strip().lower() if at else ""


def domain_trusted(domain: str, trusted: Iterable[str]) -> bool:
    """A listed domain covers its subdomains ("payer.example" trusts "um.payer.example")."""
    if not domain:
        return False
    for t in trusted:
        t = t.strip().lower().lstrip("@")
        if t and (domain == t or domain.endswith("." + t)):
            return True
    return False


def trusted_domains(case: Case, sla: SlaConfig) -> tuple[str, ...]:
    policy = policy_for(case, sla)
    return tuple(policy.trusted_domains) if policy is not None else ()


def may_update(sender: str, case: Case, trusted: Iterable[str]) -> bool:
    """Only the case's own sender, or a trusted domain of its client, changes a case."""
    return bool(sender) and (sender == case.sender or domain_trusted(domain_of(sender), trusted))


def trusted_case(sender: str, same_id: Iterable[Case], sla: SlaConfig) -> Case | None:
    """Among the cases with an email's case ID (from other senders), the first whose
    client trusts the sender's domain: the email is that case's follow-up, not a spoof."""
    for case in same_id:
        if case.sender != sender and domain_trusted(domain_of(sender), trusted_domains(case, sla)):
            return case
    return None


def reply_address(sender: str, reply_to: str | None, trusted: Iterable[str]) -> tuple[str | None, str | None]:
    """(the Reply-To to keep, a flag saying why it was not kept). A Reply-To in another
    domain than the sender's (and not trusted) would send the physician's decision to
    whoever wrote that header: the reply goes to From instead, and the case says so."""
    if not reply_to or reply_to == sender:
        return reply_to, None
    domain = domain_of(reply_to)
    if domain and (domain == domain_of(sender) or domain_trusted(domain, trusted)):
        return reply_to, None
    return None, f"reply_to: {reply_to} is not in the sender's domain; the reply goes to From ({sender})"


def spoof_flag(case_id: str, other_senders: Iterable[str]) -> str:
    others = ", ".join(sorted(set(other_senders)))
    return f"possible spoof: case ID {case_id} also came from {others}; kept as separate cases"


def unverified_flag(sender: str, raw_pk: int, case_id: str) -> str:
    return (
        f"unverified update #{raw_pk} from {sender}: changes nothing until accepted "
        f"(uq accept {case_id} {raw_pk}, or on the case screen)"
    )


def is_unverified_flag(problem: str, raw_pk: int) -> bool:
    return problem.startswith(f"unverified update #{raw_pk} ")


# ---------------------------------------------------------------- follow-up merge


class Route(StrEnum):
    """What a message that is not a duplicate does."""

    NEW = "new"
    UPDATE = "update"
    UNVERIFIED = "unverified"
    NOT_CASE = "not_case"


def route(kind: MessageKind, *, automated: bool, thread_case: Case | None, same_sender_case: Case | None,
          sender: str, trusted: Iterable[str]) -> tuple[Route, Case | None]:
    """Where a message goes, given the case it threads to (In-Reply-To / References) and
    the case with its ID from the same sender. Auto-replies and bounces quote the thread
    headers: they never update a case."""
    known = None if automated else (thread_case or same_sender_case)
    if known is None:
        return (Route.NOT_CASE if kind is MessageKind.NOT_CASE else Route.NEW), None
    if may_update(sender, known, trusted):
        return Route.UPDATE, known
    return Route.UNVERIFIED, known


def fill_missing(old: CaseFields, found: CaseFields) -> tuple[CaseFields, list[str]]:
    """What a PDF packet read later does to a case: it fills only the fields the case
    lacks, never overwriting what the email said (nor the case ID)."""
    changes: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(found, name)
        if name == "case_id" or value in _UNSET:
            continue
        if getattr(old, name) in _UNSET:
            changes[name] = value
    return (replace(old, **changes) if changes else old), list(changes)


def never_updates(kind: MessageKind, reason: str | None) -> bool:
    """Auto-replies and bounces quote the thread headers too: they never update a case; a
    plain reply without case fields ("records attached") does."""
    return kind is MessageKind.NOT_CASE and reason != REPLY_WITHOUT_FIELDS


def merge_followup_fields(old: CaseFields, new: CaseFields) -> tuple[CaseFields, list[str]]:
    """What a follow-up does to a case's fields: only the values it carries replace the
    old ones, and never the case ID. Returns the merged fields and the changed names."""
    changes: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        if name == "case_id":
            continue
        value = getattr(new, name)
        if value in _UNSET:
            continue
        if getattr(old, name) != value:
            changes[name] = value
    return (replace(old, **changes) if changes else old), list(changes)
