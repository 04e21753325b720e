"""`uq demo`: bundled synthetic case emails, ingested through the real parser and store.

The emails in uq/demo/cases carry date tokens instead of dates, so whenever the demo
starts the queue shows the same mix (two breached, three in warning, the rest fresh)
against the current clock: `{{rfc:-150m}}` in a header, `{{us:..}}`, `{{iso:..}}`,
`{{long:..}}` and `{{day:..}}` in the body (the formats the three fake UM companies use).
Everything in them is invented: fake names, fake IDs, example.com domains.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources
from pathlib import Path

from uq.config import Config, DatabaseConfig, ImapConfig, ReviewerConfig, SmtpConfig
from uq.domain import CallOutcome, Outcome
from uq.mail.imap import FetchedMessage
from uq.paths import ensure_private_dir
from uq.services import review
from uq.services.context import Context
from uq.services.sync import SyncSummary, ingest_batch

DEMO_MAILBOX = "demo"
DEMO_UIDVALIDITY = 1
DEMO_FROM = "dr.demo@example.org"
CALL_NEEDED_CASE = "SHR-26-1052"  # shown already waiting on a peer-to-peer call

_TOKEN_RE = re.compile(r"\{\{(rfc|us|iso|long|day):([+-]\d+)([mhd])\}\}")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def demo_messages(now: datetime, tz_name: str = "America/New_York") -> list[bytes]:
    """The bundled emails with their date tokens resolved against `now`, CRLF line ends."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    folder = resources.files("uq.demo").joinpath("cases")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".eml"))
    out: list[bytes] = []
    for name in names:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        text = _TOKEN_RE.sub(lambda m: _render(m, now, tz), text)
        out.append(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    return out


def _render(m: re.Match[str], now: datetime, tz: object) -> str:
    kind, amount, unit = m.group(1), int(m.group(2)), m.group(3)
    when = (now + timedelta(**{_UNITS[unit]: amount})).astimezone(tz)  # type: ignore[arg-type]
    if kind == "rfc":
        return format_datetime(when)
    if kind == "us":
        return when.strftime("%m/%d/%Y %I:%M %p ET").lstrip("0")
    if kind == "iso":
        return when.strftime("%Y-%m-%d %H:%M ET")
    if kind == "long":
        return when.strftime("%b %d, %Y %H:%M ET")
    return when.strftime("%m/%d/%Y")


def demo_root() -> Path:
    """A fresh private temp dir (0700): the demo database and the replies folder live here."""
    return ensure_private_dir(Path(tempfile.mkdtemp(prefix="uq-demo-")))


def demo_config(base: Config, root: Path) -> Config:
    """The user's UI settings on a demo setup: temp database, no IMAP, default clocks, and a
    sender address so decisions can be composed."""
    reviewer = base.reviewer
    if reviewer == ReviewerConfig():
        reviewer = replace(
            reviewer,
            name="Dr. Demo Reviewer",
            specialty="Internal Medicine",
            similar_specialties=["Hospital Medicine", "Family Medicine"],
            email=DEMO_FROM,
            phone="(555) 010-0000",
            license_states=["NY"],
            license_number="DEMO-0000",
            user="demo",
        )
    return Config(
        reviewer=reviewer,
        imap=ImapConfig(),
        smtp=SmtpConfig(from_address=DEMO_FROM, hold_seconds=base.smtp.hold_seconds),
        database=DatabaseConfig(url=f"sqlite:///{root / 'demo.sqlite3'}"),
        security=base.security,
        team=base.team,  # "auto" is off on the demo's SQLite; "on" shows the team queue's claims
        ui=base.ui,
        hooks=base.hooks,
        path=base.path,
    )


def replies_dir(ctx: Context) -> Path:
    """Where demo replies are written: next to the demo database when it is a file."""
    url = ctx.config.database.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///")).parent / "replies"
    return demo_root() / "replies"


def load_demo(ctx: Context) -> Path:
    """Ingest the demo cases (once per database) and return the replies folder."""
    now = ctx.clock()
    batch = []
    for uid, raw in enumerate(demo_messages(now, ctx.config.reviewer.timezone), start=1):
        batch.append(FetchedMessage(uid, _header_date(raw) or now, raw, ()))
    summary, _ = ingest_batch(ctx, DEMO_MAILBOX, DEMO_UIDVALIDITY, batch)
    if summary.ingested:
        _prepare_call_needed(ctx, summary)
    return ensure_private_dir(replies_dir(ctx))


def _header_date(raw: bytes) -> datetime | None:
    """The Date header as INTERNALDATE: the reviewer clock starts when the mail arrived."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    m = re.search(r"^Date: (.+)$", head, re.MULTILINE)
    return parsedate_to_datetime(m.group(1).strip()) if m else None


def _prepare_call_needed(ctx: Context, summary: SyncSummary) -> None:
    """One case already marked call needed, with a voicemail in its P2P log."""
    for case in ctx.store.find_cases(CALL_NEEDED_CASE):
        if case.id not in summary.new_case_pks:
            continue
        review.open_case(ctx, case.id)
        review.decide(
            ctx,
            case.id,
            Outcome.CALL_NEEDED,
            review.DecisionInput(note="Peer-to-peer requested to discuss step-down to level II."),
        )
        review.log_call(ctx, case.id, CallOutcome.VOICEMAIL, note="Left call-back number with the unit clerk.")
