"""Read models shared by the repository and the SQLAlchemy-free fast path (fastread.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

QUEUE_COLUMNS = (
    "id", "case_id", "status", "due_at", "window_start", "binding", "urgency", "review_type", "client",
    "service", "nurse_recommendation", "member_name", "update_count", "problems", "arrived_at", "sender",
    "claimed_by", "claim_until", "regulatory_paused", "paused_due_at", "paused_since",
)

# A tolled row's regulatory deadline as it stood when the toll began; NULL for every other
# row, so a 100k-row queue parses no second deadline it would not draw.
PAUSED_DUE_SQL = "CASE WHEN regulatory_paused THEN regulatory_due_at END"

# A case has problems when the parser recorded some, or when a fact the clocks need is
# missing (uq.queue.sla.clock_problems says which, in words): the list marks both.
HAS_PROBLEMS_SQL = "(coalesce(length(problems), 0) > 0 OR received_at IS NULL OR urgency = 'unknown')"


@dataclass(frozen=True, slots=True)
class QueueRow:
    """The few columns the queue list shows: read as tuples, not entities (PERF_NOTES)."""

    id: int
    case_id: str
    status: str
    due_at: datetime | None
    window_start: datetime | None
    binding: str
    urgency: str
    review_type: str
    client: str | None
    service: str | None
    nurse_recommendation: str
    member_name: str | None
    update_count: int
    has_problems: bool
    arrived_at: datetime
    sender: str
    claimed_by: str | None = None  # with claim_until: who holds it (uq.domain.lease_holder)
    claim_until: datetime | None = None
    regulatory_paused: bool = False  # a pend tolls the regulatory clock (the row's own still counts)
    paused_due_at: datetime | None = None  # with paused_since: what the paused clock had left
    paused_since: datetime | None = None  # (uq.queue.sla.paused_seconds_left)
