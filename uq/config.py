"""Strict configuration: TOML in, frozen dataclasses out.

Every key is declared here as a dataclass field; an unknown key, a wrong type or a bad
value raises ConfigError naming the file and the dotted key, so a typo never silently
falls back to a default. Secrets are never read from the TOML (see uq.secrets).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import types
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from uq.errors import ConfigError
from uq.paths import default_config_path, default_database_url

Security = Literal["ssl", "starttls", "none"]
Auth = Literal["password", "xoauth2"]
AfterIngest = Literal["flag", "move", "none"]
ReceiptDay = Literal["same_day", "next_business_day"]
CUTOFF_REVIEWS = ("prospective", "concurrent", "retrospective", "urgent")
DEFAULT_CUTOFF_APPLIES = ("prospective", "retrospective")  # 8 CCR 9792.9.1(a)(1)

# Keys that no longer exist, with what replaced them: a one-line error, not a silent change.
RETIRED_KEYS = {
    "pause_on_call_needed": "replaced by 'toll_on_pend': a peer-to-peer call pauses no clock; "
    "an information request (pend) tolls the regulatory clock of a non-urgent claim",
}


def _derived() -> Any:
    """A field the loader fills (never a TOML key)."""
    return field(default=frozenset(), metadata={"derived": True})

DURATION_RE = re.compile(r"^\s*(\d+)\s*(h|d|bd|m)\s*$")
CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class ReviewerConfig:
    name: str = "Reviewer"
    credentials: str = "MD"
    specialty: str = ""
    email: str = ""
    phone: str = ""  # call-back number given in call-needed replies
    timezone: str = "America/New_York"
    similar_specialties: list[str] = field(default_factory=list)  # also count as "same or similar"
    license_states: list[str] = field(default_factory=list)  # two-letter codes, e.g. ["NY", "NJ"]
    license_number: str = ""  # printed with the states on every reply
    user: str = ""  # unique identity recorded on every audited action; default: OS user


@dataclass(frozen=True)
class ImapConfig:
    host: str = ""
    port: int = 993
    security: Security = "ssl"
    username: str = ""
    folder: str = "INBOX"
    ca_file: str = ""
    auth: Auth = "password"
    password_command: list[str] = field(default_factory=list)
    oauth2_token_command: list[str] = field(default_factory=list)
    poll_seconds: int = 60
    timeout_seconds: float = 30.0
    batch_size: int = 500
    after_ingest: AfterIngest = "flag"
    move_to: str = ""
    sent_folder: str = ""
    idle_seconds: int = 540  # re-issue IDLE before the 10 minutes servers allow (RFC 2177: 29)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    from_address: str = ""
    ca_file: str = ""
    auth: Auth = "password"
    password_command: list[str] = field(default_factory=list)
    oauth2_token_command: list[str] = field(default_factory=list)
    hold_seconds: int = 20
    timeout_seconds: float = 30.0  # every command's reply
    data_timeout_seconds: float = 600.0  # the reply to the end of the data (RFC 5321 §4.5.3.2)
    max_attempts: int = 8
    retry_seconds: float = 60.0  # first back-off after a failed attempt; doubles each time
    lease_seconds: float = 60.0  # a sender's hold on a reply, renewed while its session lives


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""


@dataclass(frozen=True)
class RegulatoryConfig:
    urgent: str = "72h"
    standard: str = "7d"
    concurrent_urgent: str = "24h"
    concurrent_standard: str = "7d"
    retrospective: str = "30d"
    # appeals and reconsiderations (ERISA 29 CFR 2560.503-1(i)(2): urgent 72 h, pre-service
    # 30 days, post-service 60 days)
    appeal_urgent: str = "72h"
    appeal_standard: str = "30d"
    appeal_retrospective: str = "60d"


@dataclass(frozen=True)
class ClientPolicy:
    """A per-client override; first match (client field or sender domain) wins."""

    match: str = ""
    reviewer_minutes: int | None = None
    urgent_reviewer_minutes: int | None = None
    standard_reviewer_minutes: int | None = None
    urgent: str | None = None
    standard: str | None = None
    concurrent_urgent: str | None = None
    concurrent_standard: str | None = None
    retrospective: str | None = None
    appeal_urgent: str | None = None
    appeal_standard: str | None = None
    appeal_retrospective: str | None = None
    cutoff: str | None = None
    # review types the cut-off applies to ("urgent" = any urgent review); default
    # DEFAULT_CUTOFF_APPLIES: California exempts expedited and concurrent review
    cutoff_applies: list[str] | None = None
    # day 0 of a business-day count when the request arrives on a weekend or holiday:
    # "same_day" (the earlier deadline, the default) or "next_business_day"
    receipt_day: ReceiptDay | None = None
    timezone: str | None = None
    holidays: str | None = None
    # sender domains whose follow-ups may change this client's cases besides the case's own
    # sender address, and whose Reply-To is honoured (uq.intake)
    trusted_domains: list[str] = field(default_factory=list)
    holidays_add: list[date] = field(default_factory=list)
    holidays_remove: list[date] = field(default_factory=list)
    holidays_file: str | None = None
    holidays_file_dates: frozenset[date] = _derived()
    toll_on_pend: bool = False


@dataclass(frozen=True)
class SlaConfig:
    reviewer_minutes: int = 120
    urgent_reviewer_minutes: int | None = None
    standard_reviewer_minutes: int | None = None
    warning_fraction: float = 0.25
    warning_minutes: int = 30
    regulatory: RegulatoryConfig = field(default_factory=RegulatoryConfig)
    client: list[ClientPolicy] = field(default_factory=list)


@dataclass(frozen=True)
class ParseConfig:
    """Extra label aliases: {field: [alias, ...]}, and per sender {address/domain: {...}};
    and the bounds on the work one message may cost (every email is untrusted)."""

    aliases: dict[str, list[str]] = field(default_factory=dict)
    sender: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    message_bytes: int = 26_214_400  # larger: quarantined unread (raw kept)
    header_bytes: int = 131_072  # of the header block; the rest of it is not read
    lines_scanned: int = 5_000  # of a body or PDF text, for labels
    pdf_pages: int = 30
    pdf_text_chars: int = 500_000
    pdf_seconds: float = 2.0  # per message while syncing, per packet in the PDF pass
    pdf_memory_mb: int = 512  # address space of the PDF worker process


@dataclass(frozen=True)
class SecurityConfig:
    lock_after_minutes: int = 10
    # "curtain": the idle screen hides PHI and any key shows it again (not a lock);
    # "password": a passphrase lock, also at start-up. "key" is curtain's older name.
    unlock: Literal["curtain", "password", "key"] = "curtain"


@dataclass(frozen=True)
class TeamConfig:
    lease_minutes: int = 30  # a claim lasts this long unless the case stays open in a TUI
    mode: Literal["auto", "on", "off"] = "auto"  # auto: a team queue when the database is PostgreSQL


@dataclass(frozen=True)
class UiConfig:
    theme: str = "textual-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    bell: bool = True
    log_level: str = "INFO"  # DEBUG | INFO | WARNING | ERROR (uq's own events; libraries log WARNING+)


@dataclass(frozen=True)
class HooksConfig:
    on_new_case: list[str] = field(default_factory=list)
    on_warning: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PayConfig:
    per_case: float | None = None
    per_hour: float | None = None


@dataclass(frozen=True)
class Config:
    reviewer: ReviewerConfig = field(default_factory=ReviewerConfig)
    imap: ImapConfig = field(default_factory=ImapConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    parse: ParseConfig = field(default_factory=ParseConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    team: TeamConfig = field(default_factory=TeamConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    hooks: HooksConfig = field(default_factory=HooksConfig)
    pay: PayConfig = field(default_factory=PayConfig)
    path: str = ""  # where it was loaded from; "" for built-in defaults

    @property
    def database_url(self) -> str:
        return self.database.url or default_database_url()

    @property
    def team_mode(self) -> bool:
        """Several reviewers share the queue: cases opened are claimed, holders are shown."""
        if self.team.mode == "auto":
            return not self.database_url.startswith("sqlite")
        return self.team.mode == "on"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.reviewer.timezone)

    @property
    def user(self) -> str:
        return self.reviewer.user or os.environ.get("USER") or os.environ.get("USERNAME") or "reviewer"


# ---------------------------------------------------------------- loading


def resolve_config_path(cli_path: str | None) -> Path:
    if cli_path:
        return Path(cli_path)
    env = os.environ.get("UQ_CONFIG")
    return Path(env) if env else default_config_path()


def load_config(path: Path | str | None = None, *, required: bool = False) -> Config:
    """Load and validate. A missing default file gives built-in defaults (so `uq demo` and
    `uq --help` work on a fresh machine); a missing explicit file is an error."""
    p = resolve_config_path(str(path) if path else None)
    if not p.exists():
        if required or path or os.environ.get("UQ_CONFIG"):
            raise ConfigError(f"{p}: config file not found (run `uq init` to write one)")
        return Config()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_config(data, str(p))


def parse_config(data: dict[str, Any], where: str = "<config>") -> Config:
    cfg = _build(Config, {**data}, where, "")
    cfg = replace(cfg, path=where)
    _validate(cfg, where)
    return _with_holiday_files(cfg, where)


def _with_holiday_files(cfg: Config, where: str) -> Config:
    """Read each policy's holidays_file once, at load: the queue's clocks do no IO."""
    if not any(p.holidays_file for p in cfg.sla.client):
        return cfg
    from uq.holiday_files import HolidayFileError, read_holiday_file

    base = Path(where).parent if where and not where.startswith("<") else Path.cwd()
    policies = []
    for i, pol in enumerate(cfg.sla.client):
        if pol.holidays_file:
            path = Path(pol.holidays_file).expanduser()
            try:
                days = read_holiday_file(path if path.is_absolute() else base / path)
            except HolidayFileError as exc:
                raise ConfigError(f"{where}: 'sla.client[{i}].holidays_file': {exc}") from None
            pol = replace(pol, holidays_file_dates=days)
        policies.append(pol)
    return replace(cfg, sla=replace(cfg.sla, client=policies))


def _build(cls: type[Any], table: Any, where: str, prefix: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{prefix.rstrip('.')}] must be a table")
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if f.name != "path" and not f.metadata.get("derived")}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key in RETIRED_KEYS and key not in known:
            raise ConfigError(f"{where}: '{prefix}{key}' is {RETIRED_KEYS[key]}")
        if key not in known:
            suggestion = _closest(key, list(known))
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            raise ConfigError(f"{where}: unknown key '{prefix}{key}'{hint}")
        kwargs[key] = _coerce(hints[key], value, where, f"{prefix}{key}")
    for name, f in known.items():
        if name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"{where}: missing key '{prefix}{name}'")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, where: str, key: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return _coerce(args[0], value, where, key)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            allowed = ", ".join(f'"{c}"' for c in choices)
            raise ConfigError(f"{where}: '{key}' must be one of {allowed}, not {value!r}")
        return value
    if origin is list:
        (item,) = get_args(tp)
        if isinstance(value, str) and item is str and key.endswith("command"):
            raise ConfigError(f'{where}: \'{key}\' must be a list of arguments, e.g. ["pass", "imap"]')
        if not isinstance(value, list):
            raise ConfigError(f"{where}: '{key}' must be a list")
        return [_coerce(item, v, where, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _k, vt = get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{key}' must be a table")
        return {str(k): _coerce(vt, v, where, f"{key}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        return _build(tp, value, where, f"{key}.")
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: '{key}' must be true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: '{key}' must be a whole number")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: '{key}' must be a number")
        return float(value)
    if tp is date:
        return _date(value, where, key)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be a string")
        return value
    raise ConfigError(f"{where}: '{key}' has an unsupported type")  # pragma: no cover


def _date(value: Any, where: str, key: str) -> date:
    """A TOML date (2026-06-19) or the same as a string."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: '{key}' must be a date like 2026-06-19, not {value!r}")


def _closest(key: str, options: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(key, options, n=1, cutoff=0.7)
    return found[0] if found else None


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=64)
def parse_duration(text: str) -> tuple[int, str]:
    """'72h' -> (72, 'h'); '7d' -> (7, 'd'); '5bd' -> (5, 'bd'); '90m' -> (90, 'm')."""
    m = DURATION_RE.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r} (use e.g. 72h, 7d, 5bd)")
    return int(m.group(1)), m.group(2)


def _check_tz(name: str, where: str, key: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: '{key}' is not a known time zone: {name!r}") from None


def _validate(cfg: Config, where: str) -> None:
    _check_tz(cfg.reviewer.timezone, where, "reviewer.timezone")
    for section, sec in (("imap", cfg.imap), ("smtp", cfg.smtp)):
        if sec.security == "none" and sec.host and not is_loopback(sec.host):
            raise ConfigError(
                f"{where}: '{section}.security' = \"none\" is refused for non-loopback host "
                f'{sec.host!r}: use "ssl" or "starttls"'
            )
        if not 0 < sec.port < 65536:
            raise ConfigError(f"{where}: '{section}.port' must be 1-65535")
        if sec.ca_file and not Path(sec.ca_file).expanduser().exists():
            raise ConfigError(f"{where}: '{section}.ca_file' not found: {sec.ca_file}")
        if sec.auth == "xoauth2" and not sec.oauth2_token_command:
            raise ConfigError(f"{where}: '{section}.auth' = \"xoauth2\" needs '{section}.oauth2_token_command'")
    for key in ("timeout_seconds", "data_timeout_seconds", "retry_seconds", "lease_seconds"):
        if getattr(cfg.smtp, key) <= 0:
            raise ConfigError(f"{where}: 'smtp.{key}' must be positive")
    if cfg.smtp.max_attempts < 1:
        raise ConfigError(f"{where}: 'smtp.max_attempts' must be at least 1")
    if cfg.imap.after_ingest == "move" and not cfg.imap.move_to:
        raise ConfigError(f"{where}: 'imap.after_ingest' = \"move\" needs 'imap.move_to'")
    if cfg.imap.poll_seconds < 5:
        raise ConfigError(f"{where}: 'imap.poll_seconds' must be at least 5")
    if not 0 < cfg.sla.warning_fraction < 1:
        raise ConfigError(f"{where}: 'sla.warning_fraction' must be between 0 and 1")
    if cfg.sla.reviewer_minutes <= 0:
        raise ConfigError(f"{where}: 'sla.reviewer_minutes' must be positive")
    durations = [(f"sla.regulatory.{f.name}", getattr(cfg.sla.regulatory, f.name)) for f in fields(RegulatoryConfig)]
    for i, pol in enumerate(cfg.sla.client):
        if not pol.match.strip():
            raise ConfigError(f"{where}: 'sla.client[{i}].match' must not be empty")
        for name in (f.name for f in fields(RegulatoryConfig)):
            value = getattr(pol, name)
            if value is not None:
                durations.append((f"sla.client[{i}].{name}", value))
        if pol.cutoff is not None and not CLOCK_RE.match(pol.cutoff):
            raise ConfigError(f"{where}: 'sla.client[{i}].cutoff' must be HH:MM, not {pol.cutoff!r}")
        for j, kind in enumerate(pol.cutoff_applies or ()):
            if kind not in CUTOFF_REVIEWS:
                allowed = ", ".join(f'"{c}"' for c in CUTOFF_REVIEWS)
                key = f"sla.client[{i}].cutoff_applies[{j}]"
                raise ConfigError(f"{where}: '{key}' must be one of {allowed}, not {kind!r}")
        if pol.timezone is not None:
            _check_tz(pol.timezone, where, f"sla.client[{i}].timezone")
        if pol.holidays is not None:
            _check_holidays(pol.holidays, where, f"sla.client[{i}].holidays")
    for key, value in durations:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: '{key}': {exc}") from None
    if cfg.team.lease_minutes < 1:
        raise ConfigError(f"{where}: 'team.lease_minutes' must be 1 or more")
    for key in ("message_bytes", "header_bytes", "lines_scanned", "pdf_pages", "pdf_text_chars"):
        if getattr(cfg.parse, key) < 1:
            raise ConfigError(f"{where}: 'parse.{key}' must be at least 1")
    if not 0 < cfg.parse.pdf_seconds <= 600:
        raise ConfigError(f"{where}: 'parse.pdf_seconds' must be more than 0 and at most 600")
    if cfg.parse.pdf_memory_mb < 128:
        raise ConfigError(f"{where}: 'parse.pdf_memory_mb' must be at least 128 (the worker needs ~50)")
    if cfg.security.lock_after_minutes < 0:
        raise ConfigError(f"{where}: 'security.lock_after_minutes' must be 0 (off) or more")


def _check_holidays(code: str, where: str, key: str) -> None:
    """'US', 'US-CA': a country, optionally a subdivision, known to the holidays package."""
    import holidays

    country, _, subdiv = code.partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdiv or None, years=2026)
    except (NotImplementedError, KeyError, ValueError):
        raise ConfigError(f"{where}: '{key}' is not a known holiday calendar: {code!r}") from None
