"""Mutated emails (hostile corpus + synthetic corpus) through the sync's parse and the
store: never an exception, text every store accepts, dates within bounds, short
problems, and bounded time per example.

The default run tries a few hundred; `pytest -m fuzz tests/unit/test_hostile_fuzz.py`
runs 10,000 (deselected otherwise, see tests/conftest.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpus_loader import load_corpus
from tests.hostile.corpus import hostile_emails, valid
from uq.config import Config, ParseConfig, ReviewerConfig
from uq.domain import MessageKind, ParsedEmail
from uq.mail.imap import FetchedMessage
from uq.mail.parse import AHEAD, EARLIEST
from uq.queue.clock import FixedClock
from uq.services import sync
from uq.services.context import Context
from uq.store.repo import Store

NOW = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)
PARSE = ParseConfig(pdf_seconds=0.3)
SEED_BYTES = 200_000  # mutate the smaller emails: the big ones are the corpus test's
# byte strings a mutation splices in: what broke intake before, and more of it
SPLICES = [
    b"charset=utf-7", b"charset=unicode-escape", b"charset=punycode", b"+2AA-", b"\\ud800", b"\x00",
    b"Due: 12/31/9999\n", b"Received: 01/01/0001 00:00 +14:00\n", b"Date: Fri, 31 Dec 9999 23:59:59 -1200\n",
    b"case." * 2000, b"a*" * 3000, b" " * 5000, b"=?utf-8?q?" * 300, b"=?utf-7?Q?+2AA-?=", b"<a " * 2000,
    b"<![ x", b"Content-Type: multipart/mixed; boundary=\"q\"\n", b"--q\n", b"--q--\n",
    b"Content-Transfer-Encoding: base64\n", b"Content-Type: message/rfc822\n\n", b"\xff\xfe\xc3\x28",
    "Résumé.pdf".encode(), b"filename*=x''%FF%D8", b"References: " + b"<r@x> " * 500 + b"\n", b"\r", b"\r\n",
    b"In-Reply-To: <valid-0001@hostile.example-um.com>\n", b"Case ID: " + b"9" * 500 + b"\n",
]


@cache
def seeds() -> list[bytes]:
    raws = [h.raw for h in hostile_emails() if len(h.raw) <= SEED_BYTES]
    raws += [raw for _n, raw, _e in load_corpus()]
    return raws


def mutate(raw: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(raw)
    for op, a, b in ops:
        i = a % (len(data) + 1)
        if op == 0:
            del data[i:]
        elif op == 1 and data:
            data[i % len(data)] = b % 256
        elif op == 2:
            data[i:i] = SPLICES[b % len(SPLICES)]
        elif op == 3:
            data[i:i + b % 200] = b""
        elif op == 4:
            data[i:i] = bytes(data[i:i + b % 4000])  # repeat a stretch
        elif op == 5:
            data = bytearray(bytes(data).replace(b"\n", b"\r\n" if b % 2 else b"\r"))
        elif op == 6:
            data = bytearray(bytes(data).replace(b"charset=utf-8", b"charset=" + SPLICES[b % 3][8:]))
        elif op == 7:
            data = bytearray(bytes(data).replace(b"boundary=", b"boundary=zz" * (b % 3), 1))
    return bytes(data)


def check(p: ParsedEmail) -> None:
    assert isinstance(p.kind, MessageKind)
    assert p.kind is MessageKind.CASE or p.reason
    texts = [p.subject, p.sender, p.sender_name, p.body_text, p.reason or "", *p.problems,
             *(a.filename for a in p.attachments), *(a.text or "" for a in p.attachments),
             *(v for v in vars_of(p) if isinstance(v, str))]
    for t in texts:
        t.encode("utf-8")  # no lone surrogate reaches a store or a terminal
    assert "\x00" not in p.subject + p.sender + p.sender_name + p.body_text
    for when in (p.date, p.fields.received_at, p.fields.due_at):
        assert when is None or EARLIEST <= when <= NOW + AHEAD
    assert all(len(x) < 400 for x in p.problems)
    assert len(p.subject) <= 8192 and len(p.sender) <= 254


def vars_of(p: ParsedEmail) -> list[object]:
    return [getattr(p.fields, f) for f in p.fields.__dataclass_fields__]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'uq.sqlite3'}"
    return Context(config=Config(reviewer=ReviewerConfig(timezone="America/New_York", user="t"), parse=PARSE),
                   store=Store.open(url), clock=FixedClock(NOW))


_uid = iter(range(1, 10**9))
OPS = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10**7), st.integers(0, 10**6)), min_size=1, max_size=5)


def one(ctx: Context, raw: bytes) -> None:
    """Parse and store one mutated email followed by a valid case: both stored, in time."""
    cpu = time.process_time()
    (p,) = sync.parse_many([raw], ctx.tz, PARSE, now=NOW)
    spent = time.process_time() - cpu
    check(p)
    assert spent < 1.0, spent
    n = next(_uid)
    msgs = [FetchedMessage(2 * n, NOW, raw, ()), FetchedMessage(2 * n + 1, NOW, valid(n).raw, ())]
    parsed = [p, *sync.parse_many([msgs[1].raw], ctx.tz, PARSE, now=NOW)]
    summary, _ = sync.store_isolated(ctx, "INBOX", 1, msgs, parsed)
    assert summary.total == 2
    assert ctx.store.find_cases(f"VALID-{n:04d}")


_FEW = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
_MANY = settings(_FEW, max_examples=10_000)


@_FEW
@given(raw=st.sampled_from(range(10**6)), ops=OPS)
def test_mutated_emails(ctx: Context, raw: int, ops: list[tuple[int, int, int]]) -> None:
    one(ctx, mutate(seeds()[raw % len(seeds())], ops))


@pytest.mark.fuzz
@_MANY
@given(raw=st.sampled_from(range(10**6)), ops=OPS)
def test_mutated_emails_10k(ctx: Context, raw: int, ops: list[tuple[int, int, int]]) -> None:
    one(ctx, mutate(seeds()[raw % len(seeds())], ops))


def test_the_seeds_hold_the_hostile_kinds_and_the_corpus() -> None:
    assert len(seeds()) == sum(len(h.raw) <= SEED_BYTES for h in hostile_emails()) + len(load_corpus()) >= 90
