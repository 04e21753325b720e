"""Plain domain objects shared by every layer.

These are deliberately dumb frozen dataclasses: the store converts its rows into them at
its edge, the parser produces them, the queue reads them. Nothing here does IO or knows
about SQL, IMAP or Textual, so every layer can depend on this module safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ReviewType(StrEnum):
    PROSPECTIVE = "prospective"
    CONCURRENT = "concurrent"
    RETROSPECTIVE = "retrospective"
    UNKNOWN = "unknown"


class Urgency(StrEnum):
    URGENT = "urgent"
    STANDARD = "standard"
    UNKNOWN = "unknown"


class NurseRecommendation(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    PARTIAL = "partial"
    PEND = "pend"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """What the physician decides. CALL_NEEDED and PEND keep the case open in the queue."""

    APPROVE = "approve"
    DENY = "deny"
    PARTIAL = "partial"
    CALL_NEEDED = "call_needed"
    PEND = "pend"  # information requested: ERISA-style policies toll the regulatory clock
    DECLINE = "decline"

    @property
    def is_determination(self) -> bool:
        """Approve, deny and partial decide coverage; a call, a pend and a decline do not,
        so no agreement with the nurse is stated or counted for them."""
        return self in (Outcome.APPROVE, Outcome.DENY, Outcome.PARTIAL)


class DeclineReason(StrEnum):
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    OUTSIDE_SPECIALTY = "outside_specialty"
    OTHER = "other"


class CaseStatus(StrEnum):
    OPEN = "open"
    CALL_NEEDED = "call_needed"
    PENDED = "pended"  # information requested, waiting for it
    DECIDED = "decided"

    @property
    def is_open(self) -> bool:
        """Call-needed and pended cases stay in the queue: their clocks keep counting (a
        pend tolls only the regulatory clock, and only where the policy says so)."""
        return self is not CaseStatus.DECIDED


class ReviewLevel(StrEnum):
    """Which review this is. Appeals and reconsiderations run on their own clocks, and
    the reviewer who made an adverse decision may not decide its appeal. UNKNOWN (the
    packet did not say) counts as INITIAL."""

    INITIAL = "initial"
    RECONSIDERATION = "reconsideration"
    APPEAL_1 = "appeal_1"
    APPEAL_2 = "appeal_2"
    UNKNOWN = "unknown"

    @property
    def is_appeal(self) -> bool:
        return self in (ReviewLevel.RECONSIDERATION, ReviewLevel.APPEAL_1, ReviewLevel.APPEAL_2)


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


class Clock(StrEnum):
    REVIEWER = "reviewer"
    REGULATORY = "regulatory"
    EXPLICIT = "explicit"


class MessageKind(StrEnum):
    """What the parser thinks a message is, before the store says whether it is known."""

    CASE = "case"
    NOT_CASE = "not_case"
    QUARANTINE = "quarantine"


class CallOutcome(StrEnum):
    REACHED = "reached"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"


class OutboxState(StrEnum):
    """held: the undo window; queued: due; sending: a sender holds it (lease in not_before);
    uncertain: the whole message went out but no final reply came, so the server may have
    it (checked in the Sent folder, or resent once, when not_before passes); failed: a try
    failed, the next is at not_before; stopped: not retried by itself (the server refused
    it, or the tries ran out): kept for the reviewer with the server's words."""

    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    UNCERTAIN = "uncertain"
    SENT = "sent"
    FAILED = "failed"
    STOPPED = "stopped"
    UNDONE = "undone"


def member_initials(name: str | None) -> str:
    """Minimum necessary PHI: "Jane Q. Doe" and "Doe, Jane Q." both give "J.D."."""
    name = name or ""
    last_first = "," in name
    parts = [p for p in name.replace(",", " ").split() if p[:1].isalpha()]
    if not parts:
        return ""
    first, last = (parts[1], parts[0]) if last_first and len(parts) > 1 else (parts[0], parts[-1])
    return f"{first[0].upper()}.{last[0].upper()}." if len(parts) > 1 else f"{first[0].upper()}."


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes = field(repr=False, default=b"")
    text: str | None = field(repr=False, default=None)  # extracted text (PDF), for display/search
    # where the part sits in its raw message: dotted 1-based child numbers ("" = the message
    # itself), so the store can keep the raw message only and decode the bytes when asked
    part: str = ""


@dataclass(frozen=True, slots=True)
class CaseFields:
    """Every field of CASE_EMAIL.md; None when the email did not carry it."""

    case_id: str | None = None
    review_type: ReviewType = ReviewType.UNKNOWN
    urgency: Urgency = Urgency.UNKNOWN
    review_level: ReviewLevel = ReviewLevel.UNKNOWN
    received_at: datetime | None = None
    due_at: datetime | None = None
    client: str | None = None
    member_name: str | None = None
    member_dob: str | None = None
    member_id: str | None = None
    requesting_provider: str | None = None
    provider_phone: str | None = None
    provider_npi: str | None = None
    facility: str | None = None
    diagnosis: str | None = None
    service: str | None = None
    dates_of_service: str | None = None
    guideline: str | None = None
    criteria_met: str | None = None
    criteria_not_met: str | None = None
    clinical_summary: str | None = None
    nurse_assessment: str | None = None
    nurse_recommendation: NurseRecommendation = NurseRecommendation.UNKNOWN
    nurse_recommendation_text: str | None = None
    nurse_name: str | None = None
    question: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """The parser's verdict on one raw message. Never raised, always returned."""

    kind: MessageKind
    fields: CaseFields
    problems: tuple[str, ...] = ()
    reason: str | None = None  # why NOT_CASE / QUARANTINE
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    sender: str = ""  # bare lower-case address
    sender_name: str = ""
    reply_to: str | None = None
    subject: str = ""
    date: datetime | None = None
    body_text: str = ""
    attachments: tuple[Attachment, ...] = ()
    content_hash: str = ""  # sha256 of the normalised body: catches re-sends with a new Message-ID


def lease_holder(claimed_by: str | None, claim_until: datetime | None, now: datetime) -> str | None:
    """Who holds a case now: a claim is a lease, free once it runs out (the holder's laptop
    died) or when it has no end (a claim made before claims were leases)."""
    if claimed_by is None or claim_until is None or claim_until <= now:
        return None
    return claimed_by


@dataclass(frozen=True, slots=True)
class Case:
    """One case as the store holds it."""

    id: int
    case_id: str
    sender: str
    subject: str
    status: CaseStatus
    arrived_at: datetime  # IMAP INTERNALDATE (Date header when missing): reviewer clock start
    fields: CaseFields
    problems: tuple[str, ...] = ()
    sender_name: str = ""
    reply_to: str | None = None
    message_id: str | None = None
    references: tuple[str, ...] = ()
    update_count: int = 0
    last_updated_at: datetime | None = None
    regulatory_extended_to: datetime | None = None
    extension_reason: str | None = None
    # The last information request (pend): when it went out, what it asked for, and when
    # the answer arrived (a follow-up, or the reviewer said so). Earlier requests' waits
    # are summed in earlier_pend_seconds. Whether a wait tolls a clock is policy: uq.queue.
    pended_at: datetime | None = None
    pend_items: str | None = None
    info_received_at: datetime | None = None
    earlier_pend_seconds: int = 0
    first_opened_at: datetime | None = None
    claimed_by: str | None = None
    claim_until: datetime | None = None
    active_seconds: int = 0  # time in front of a reviewer who was not idle (uq.queue.active)

    def holder(self, now: datetime) -> str | None:
        return lease_holder(self.claimed_by, self.claim_until, now)

    @property
    def member_initials(self) -> str:
        return member_initials(self.fields.member_name)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The clocks on a case at one instant, as the queue computes them."""

    reviewer_due_at: datetime
    regulatory_due_at: datetime
    explicit_due_at: datetime | None
    due_at: datetime
    binding: Clock
    seconds_left: int
    state: SlaState
    window_start: datetime | None = None  # start of the binding clock's window (for warning_fraction)
    # While a pend tolls the regulatory clock it does not count down and cannot bind:
    # regulatory_due_at is then the deadline as it stood when the toll began, and
    # regulatory_seconds_left the time that was left then (frozen).
    regulatory_paused: bool = False
    regulatory_seconds_left: int = 0
    regulatory_rule: str = ""  # how the regulatory deadline was reached, in words
    # further deadlines a rule adds (ERISA urgent information sequence), in time order
    milestones: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    case_pk: int
    outcome: Outcome
    agrees_with_nurse: bool | None
    rationale: str
    guideline: str
    note: str
    decline_reason: DeclineReason | None
    approved_portion: str | None  # partial: what was approved
    reviewer: str
    decided_at: datetime
    seconds_spent: int | None
    undone: bool = False
    criteria: tuple[str, ...] = ()  # the criteria the decision rests on ("Not met: ...")
    denied_portion: str | None = None  # partial: what was denied
    change_info: str = ""  # what information would change the decision


@dataclass(frozen=True, slots=True)
class CallAttempt:
    id: int
    case_pk: int
    at: datetime
    number: str
    outcome: CallOutcome
    note: str
    reviewer: str
    in_reply: bool = False  # notes are private unless the reviewer marks them for the reply


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    case_pk: int
    decision_id: int
    message_id: str
    recipients: tuple[str, ...]
    state: OutboxState
    not_before: datetime  # end of the undo hold, or the next retry
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    raw: bytes = field(repr=False, default=b"")
    reviewer: str = ""  # who decided it: only that reviewer's sender sends it (team queue)
    lease_token: str | None = None  # the claim that holds it now (fencing)
    unknown_outcomes: int = 0  # sends whose data went out without a final reply


@dataclass(frozen=True, slots=True)
class ReplyContent:
    """The sentences of a reply that depend on recorded facts (what was opened, the
    specialty and licence checks, a confirmed warning), decided by the review service and
    rendered by the reply template as given."""

    agreement: str
    attestation: tuple[str, ...]
    licence: str
    call_back: str = ""  # deny / partial: "To discuss this determination, call ..."
    guideline: str = ""  # the guideline relied on, with its edition


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    case_pk: int | None
    detail: str
    prev_hash: str
    hash: str
    subject: str | None = None  # "decision:12", "outbox:7": the row content_hash vouches for
    content_hash: str | None = None
