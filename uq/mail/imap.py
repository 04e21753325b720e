"""The IMAP adapter: one verified, logged-in connection and the few commands sync needs.

Every failure leaves as a uq error with a one-line message: a refused login is a
CredentialError, anything network or TLS is ConnectionFailed (after which the session is
dropped: reconnect with a new ImapSession). imapclient is not thread-safe, so a session
belongs to one thread.

Messages are read with BODY.PEEK[] so reading never marks them seen; the server is only
changed by ``mark_ingested`` once the caller has stored what it fetched.

API:
    FetchedMessage(uid, internaldate, raw, flags)      FolderState(uidvalidity, uidnext, exists)
    ImapSession(cfg)  (context manager: connect on enter, close on exit)
        connect() / close()
        select(folder=None) -> FolderState            (None: cfg.imap.folder)
        uids_after(last_uid) -> list[int]
        fetch(uids) -> list[FetchedMessage]           (sorted by uid; expunged ones skipped)
        fetch_slow(uids) -> list[FetchedMessage]      (the same through imapclient's parser)
        fetch_new(last_uid, batch_size) -> Iterator[list[FetchedMessage]]
        mark_ingested(uids)                           (per cfg.imap.after_ingest)
        has_idle -> bool
        wait_for_change(timeout) -> bool              (True: new mail may be there)
        append(folder, raw, flags=("\\Seen",))
        find_sent_folder() -> str | None
        has_message_id(folder, message_id) -> bool
    check_login(cfg) -> str                           (for `uq doctor`)
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from types import TracebackType
from typing import Any, NoReturn

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import SENT

from uq.config import Config, is_loopback
from uq.errors import ConfigError, ConnectionFailed, CredentialError, UqError
from uq.mail.tls import cert_problem, ssl_context
from uq.secrets import oauth2_token, secret_for

INGESTED_KEYWORD = "$uq-ingested"
FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE", b"FLAGS", b"RFC822.SIZE"]
FAST_FETCH_ITEMS = "(UID INTERNALDATE FLAGS BODY.PEEK[])"
NEW_MAIL = (b"EXISTS", b"RECENT")


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    internaldate: datetime | None  # aware (the server's offset), None if it sent none
    raw: bytes
    flags: tuple[str, ...]


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    uidnext: int
    exists: int


class ImapSession:
    """One IMAP connection for one thread. Not reusable after ConnectionFailed: make a new one."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.icfg = cfg.imap
        self._client: IMAPClient | None = None
        self._folder: str | None = None
        self._keywords_ok = True
        self._known_folders: set[str] = set()

    # ------------------------------------------------------------- lifecycle

    def __enter__(self) -> ImapSession:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def where(self) -> str:
        return f"{self.icfg.host}:{self.icfg.port}"

    def connect(self) -> None:
        if self._client is not None:
            return
        i = self.icfg
        if not i.host:
            raise ConfigError(f"{self.cfg.path or '<config>'}: 'imap.host' is not set")
        if i.security == "none" and not is_loopback(i.host):
            raise ConfigError(f'imap.security = "none" is refused for {i.host}')
        # Fetch the secret first: a missing password is not a network problem.
        secret = (
            oauth2_token("imap", self.cfg) if i.auth == "xoauth2" else secret_for("imap", self.cfg)
        )
        ctx = ssl_context(i.ca_file)
        client: IMAPClient | None = None
        try:
            client = IMAPClient(
                i.host, i.port, ssl=i.security == "ssl", ssl_context=ctx, timeout=i.timeout_seconds
            )
            client.normalise_times = False
            # imapclient turns imaplib's own tracing to its maximum, which repr()s every
            # response, message bodies included, before the logger decides to drop it: a
            # third of the FETCH time, and body text (PHI) handed to logging.
            client._imap.debug = 0
            if i.security == "starttls":
                client.starttls(ctx)
            if i.auth == "xoauth2":
                client.oauth2_login(i.username, secret)
            else:
                client.login(i.username, secret)
        except LoginError:
            _shutdown(client)
            raise CredentialError(f"IMAP login refused for {i.username} at {self.where}") from None
        except BaseException as exc:
            _shutdown(client)
            self._raise(exc)
        self._client = client

    def close(self) -> None:
        """Log out politely if the link is alive; never raises."""
        client, self._client = self._client, None
        self._folder = None
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.logout()
        _shutdown(client)

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise ConnectionFailed(f"IMAP {self.where}: not connected")
        return self._client

    def _raise(self, exc: BaseException) -> NoReturn:
        """Turn a library/network exception into a one-line uq error and drop the link."""
        if isinstance(exc, UqError):
            raise exc
        where = f"IMAP {self.where}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            msg = f"{where}: {cert_problem(exc, self.cfg.imap.host, 'imap')}"
        elif isinstance(exc, ssl.SSLError):
            msg = (
                f"{where}: TLS failed ({exc.reason or exc.__class__.__name__}); check imap.security"
            )
        elif isinstance(exc, TimeoutError):
            msg = f"{where}: timed out after {self.icfg.timeout_seconds:g}s"
        elif isinstance(exc, ConnectionRefusedError):
            msg = f"{where}: connection refused"
        elif isinstance(exc, socket.gaierror):
            msg = f"{where}: host not found"
        elif isinstance(exc, IMAPClientAbortError):
            msg = f"{where}: connection lost ({_first_line(exc)})"
        elif isinstance(exc, OSError):
            msg = f"{where}: {exc.strerror or exc.__class__.__name__}"
        elif isinstance(exc, IMAPClientError):
            if self._client is not None:  # a NO/BAD answer: the link itself is fine
                raise ConnectionFailed(f"{where}: server said: {_first_line(exc)}") from None
            msg = f"{where}: {_first_line(exc)}"
        else:
            raise exc
        if self._client is not None:
            _shutdown(self._client)
            self._client = None
        raise ConnectionFailed(msg) from None

    @contextlib.contextmanager
    def _guard(self) -> Iterator[IMAPClient]:
        try:
            yield self.client
        except (OSError, IMAPClientError, ssl.SSLError) as exc:
            self._raise(exc)

    # ------------------------------------------------------------- reading

    def select(self, folder: str | None = None) -> FolderState:
        name = folder or self.icfg.folder
        with self._guard() as c:
            info = c.select_folder(name)
            uidnext = info.get(b"UIDNEXT")
            if uidnext is None:  # optional in IMAP4rev1 SELECT; STATUS always has it
                uidnext = c.folder_status(name, [b"UIDNEXT"])[b"UIDNEXT"]
        self._folder = name
        self._keywords_ok = b"\\*" in info.get(b"PERMANENTFLAGS", (b"\\*",))
        return FolderState(int(info[b"UIDVALIDITY"]), int(uidnext), int(info[b"EXISTS"]))

    def _require_folder(self) -> None:
        if self._folder is None:
            self.select()

    def uids_after(self, last_uid: int) -> list[int]:
        self._require_folder()
        with self._guard() as c:
            found = c.search(["UID", f"{last_uid + 1}:*"])
        # "N:*" always matches the highest UID, even when it is below N.
        return sorted(u for u in found if u > last_uid)

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        """The fast path: imaplib's raw response read with a few regexes (imapclient's
        general tokenizer costs more than the network). Any response it does not
        recognise is fetched again through imapclient."""
        if not uids:
            return []
        self._require_folder()
        with self._guard() as c:
            typ, data = c._imap.uid("FETCH", _uid_set(uids), FAST_FETCH_ITEMS)
            if typ != "OK":
                raise IMAPClientError(f"UID FETCH failed: {_first_text(data)}")
        found = _parse_raw_fetch(data, set(uids))
        if found is None:
            return self.fetch_slow(uids)
        return found

    def fetch_slow(self, uids: Sequence[int]) -> list[FetchedMessage]:
        """The same FETCH through imapclient's parser (the fallback, and the reference)."""
        if not uids:
            return []
        self._require_folder()
        with self._guard() as c:
            data = c.fetch(list(uids), FETCH_ITEMS)
        out = []
        for uid, item in sorted(data.items()):
            raw = item.get(b"BODY[]")
            if raw is None:  # a FETCH for flags only (e.g. an unsolicited update)
                continue
            when = item.get(b"INTERNALDATE")
            flags = tuple(_text(f) for f in item.get(b"FLAGS", ()))
            out.append(FetchedMessage(int(uid), _aware(when), bytes(raw), flags))
        return out

    def fetch_new(self, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        """Every message above last_uid, in UID order, at most batch_size per list."""
        uids = self.uids_after(last_uid)
        size = max(1, batch_size)
        for start in range(0, len(uids), size):
            batch = self.fetch(uids[start : start + size])
            if batch:
                yield batch

    # ------------------------------------------------------------- writing

    def mark_ingested(self, uids: Sequence[int]) -> None:
        """Tell the mailbox these are in uq's store: flag (keyword $uq-ingested and \\Seen),
        move (to imap.move_to: MOVE; else COPY, then UID EXPUNGE of just these where the
        server has it, else they stay flagged \\Deleted) or nothing."""
        if not uids or self.icfg.after_ingest == "none":
            return
        self._require_folder()
        ids = list(uids)
        with self._guard() as c:
            if self.icfg.after_ingest == "flag":
                c.add_flags(ids, self._ingested_flags(), silent=True)
                return
            dest = self.icfg.move_to
            self._ensure_folder(c, dest)
            if c.has_capability("MOVE"):
                c.move(ids, dest)
                return
            c.copy(ids, dest)
            if c.has_capability("UIDPLUS") or c.has_capability("IMAP4REV2"):
                c.delete_messages(ids, silent=True)
                c.uid_expunge(ids)
                return
            # Never a plain EXPUNGE: it also removes every message another client marked
            # \Deleted. The copies left here are flagged deleted and read; the server or
            # the mailbox's owner expunges them.
            c.add_flags(ids, ["\\Deleted", *self._ingested_flags()], silent=True)

    def _ingested_flags(self) -> list[str | bytes]:
        return ["\\Seen", INGESTED_KEYWORD] if self._keywords_ok else ["\\Seen"]

    def _ensure_folder(self, c: IMAPClient, name: str) -> None:
        if name in self._known_folders:
            return
        if not c.folder_exists(name):
            c.create_folder(name)
        self._known_folders.add(name)

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ("\\Seen",)) -> None:
        """Keep a copy of a sent reply (the folder must exist)."""
        with self._guard() as c:
            c.append(folder, raw, flags=tuple(flags))

    def has_message_id(self, folder: str, message_id: str) -> bool:
        """Whether `folder` holds a message with this Message-ID (read-only: EXAMINE, so
        nothing is marked and the selected folder's state is not disturbed for a syncer
        on another connection)."""
        with self._guard() as c:
            c.select_folder(folder, readonly=True)
            self._folder = None
            found = c.search(["HEADER", "Message-ID", message_id.strip("<>")])
        return bool(found)

    def find_sent_folder(self) -> str | None:
        """imap.sent_folder when configured by name, else ("auto" or unset) the folder the
        server marks \\Sent."""
        if self.icfg.sent_folder and self.icfg.sent_folder != "auto":
            return self.icfg.sent_folder
        with self._guard() as c:
            found: str | None = c.find_special_folder(SENT)
        return found

    # ------------------------------------------------------------- waiting

    @property
    def has_idle(self) -> bool:
        with self._guard() as c:
            return bool(c.has_capability("IDLE"))

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to timeout seconds for new mail in the selected folder.

        With IDLE: True as soon as the server pushes EXISTS/RECENT; IDLE is re-issued every
        imap.idle_seconds with a NOOP in between, so a silently dead link is noticed. Without
        IDLE: sleep, then NOOP, and return True (a poll: new mail may be there). A dead
        link raises ConnectionFailed.
        """
        self._require_folder()
        deadline = time.monotonic() + max(0.0, timeout)
        if not self.has_idle:
            time.sleep(max(0.0, deadline - time.monotonic()))
            with self._guard() as c:
                c.noop()
            return True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            chunk = min(remaining, float(max(1, self.icfg.idle_seconds)))
            with self._guard() as c:
                c.idle()
                try:
                    responses = c.idle_check(timeout=chunk)
                finally:
                    # Raises when the server died during IDLE (idle_check just returns []).
                    _, done = c.idle_done()
                if _has_new(responses) or _has_new(done):
                    return True
                # A blackholed link looks like silence: make the server answer.
                _, noop_responses = c.noop()
                if _has_new(noop_responses):
                    return True


def _uid_set(uids: Sequence[int]) -> str:
    """UIDs as an IMAP sequence set, consecutive runs collapsed (a FETCH line stays short)."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = prev = ordered[0]
    for u in ordered[1:]:
        if u != prev + 1:
            parts.append(str(start) if start == prev else f"{start}:{prev}")
            start = u
        prev = u
    parts.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(parts)


# One FETCH attribute, as Dovecot and most servers send them; anything else → the slow path.
_ATTR = re.compile(
    rb' ?(?:UID (?P<uid>\d+)|INTERNALDATE "(?P<date>[^"]*)"|FLAGS \((?P<flags>[^()"{}]*)\)'
    rb"|RFC822\.SIZE \d+|MODSEQ \(\d+\)|(?P<body>BODY\[\] \{(?P<size>\d+)\}$))"
)
_HEAD = re.compile(rb"\d+ \(")
_MONTHS = {
    m: i
    for i, m in enumerate(
        (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"), 1
    )
}
_DATE = re.compile(rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def _scan(text: bytes, pos: int, end: int, into: dict[str, bytes]) -> bool:
    """Read attributes from text[pos:end] into `into`; False on anything unexpected."""
    while pos < end:
        m = _ATTR.match(text, pos, end)
        if m is None or m.end() == pos:
            return False
        for key in ("uid", "date", "flags", "size"):
            v = m.group(key)
            if v is not None:
                if key in into:
                    return False
                into[key] = v
        pos = m.end()
    return True


def _parse_raw_fetch(data: Sequence[Any], wanted: set[int]) -> list[FetchedMessage] | None:
    """imaplib's FETCH data → messages, or None when any part does not look as expected.

    imaplib gives a message with a literal as (b'<seq> (<attrs> BODY[] {<n>}', literal)
    followed by the rest of the line (b')' or b' FLAGS (...))'); a response without a
    literal (an unsolicited flag change) comes as plain bytes and is skipped, as
    imapclient's path does.
    """
    out: dict[int, FetchedMessage] = {}
    i, n = 0, len(data)
    while i < n:
        item = data[i]
        i += 1
        if item is None:
            continue
        if isinstance(item, bytes):
            if b"BODY[" in item:  # a body without a literal (quoted or NIL)
                return None
            continue
        if not (isinstance(item, tuple) and len(item) == 2):
            return None
        head, literal = item
        tail = data[i] if i < n else None
        if not isinstance(tail, bytes) or not tail.endswith(b")"):
            return None
        i += 1
        h = _HEAD.match(head)
        if h is None:
            return None
        attrs: dict[str, bytes] = {}
        if not (_scan(head, h.end(), len(head), attrs) and _scan(tail, 0, len(tail) - 1, attrs)):
            return None
        if "size" not in attrs or "uid" not in attrs or int(attrs["size"]) != len(literal):
            return None
        uid = int(attrs["uid"])
        when = _internaldate(attrs["date"]) if "date" in attrs else None
        if "date" in attrs and when is None:
            return None
        flags = tuple(_text(f) for f in attrs.get("flags", b"").split())
        if uid in wanted:
            out[uid] = FetchedMessage(uid, when, bytes(literal), flags)
    return [out[u] for u in sorted(out)]


def _internaldate(value: bytes) -> datetime | None:
    """IMAP date-time ("29-Nov-2026 08:14:00 -0500") → aware datetime in the server's offset."""
    m = _DATE.fullmatch(value)
    if m is None or m.group(2).title() not in _MONTHS:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    offset = timedelta(hours=int(oh), minutes=int(om))
    tz = timezone(-offset if sign == b"-" else offset)
    try:
        return datetime(int(year), _MONTHS[mon.title()], int(day), int(hh), int(mm), int(ss), tzinfo=tz)
    except ValueError:
        return None


def _first_text(data: Sequence[Any]) -> str:
    first = data[0] if data else b""
    return _text(first)[:200] if isinstance(first, bytes | str) else repr(first)[:200]


def _has_new(responses: Sequence[Any]) -> bool:
    return any(
        isinstance(r, tuple) and len(r) >= 2 and isinstance(r[0], int) and r[1] in NEW_MAIL
        for r in responses
    )


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # normalise_times=False makes this rare; assume UTC
        return value.replace(tzinfo=UTC)
    return value


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else exc.__class__.__name__)[:200]


def _shutdown(client: IMAPClient | None) -> None:
    if client is None:
        return
    with contextlib.suppress(Exception):
        client.shutdown()


def check_login(cfg: Config) -> str:
    """For `uq doctor`: connect, log in, select the folder; raises UqError on any failure."""
    with ImapSession(cfg) as s:
        state = s.select()
    return f"ok: {state.exists} messages in {cfg.imap.folder}"
