"""Every corpus email, field by field, against its expected JSON."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from uq.config import ParseConfig
from uq.domain import MessageKind, ParsedEmail
from uq.mail.parse import parse_email

_spec = importlib.util.spec_from_file_location(
    "corpus_loader", Path(__file__).resolve().parents[1] / "corpus_loader.py")
assert _spec is not None and _spec.loader is not None
corpus_loader = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus_loader)

CORPUS = corpus_loader.load_corpus()
TZ = ZoneInfo(corpus_loader.CORPUS_TZ)
BY_NAME = {name: (raw, exp) for name, raw, exp in CORPUS}


def _parse(raw: bytes, expected: dict[str, Any]) -> ParsedEmail:
    cfg = expected.get("config")
    if not cfg:
        return parse_email(raw, tz=TZ)
    parse = ParseConfig(aliases=cfg.get("aliases", {}), sender=cfg.get("sender", {}))
    return parse_email(raw, tz=TZ, parse=parse)


def _same_instant(got: datetime | None, want: str | None, what: str) -> None:
    if want is None:
        assert got is None, what
        return
    assert got is not None, f"{what}: missing"
    assert got.tzinfo is not None, f"{what}: naive"
    expected = datetime.fromisoformat(want)
    assert got == expected, f"{what}: {got.isoformat()} != {want}"
    assert got.utcoffset() == expected.utcoffset(), f"{what}: offset {got.isoformat()} vs {want}"


def test_corpus_is_big_enough_and_ordered() -> None:
    assert len(CORPUS) >= 40
    names = [n for n, _r, _e in CORPUS]
    for name, _raw, exp in CORPUS:
        for key in ("update_of", "duplicate_of"):
            if key in exp:
                assert names.index(exp[key]) < names.index(name), (name, key)
    kinds = {exp["sync"] for _n, _r, exp in CORPUS}
    assert kinds == {"new", "updated", "duplicate", "not_case", "quarantined"}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_corpus_email(name: str) -> None:
    raw, exp = BY_NAME[name]
    got = _parse(raw, exp)
    assert got.kind == MessageKind(exp["kind"]), (got.kind, got.reason)
    if "reason" in exp:
        assert got.reason is not None and exp["reason"].lower() in got.reason.lower()
    elif got.kind is MessageKind.CASE:
        assert got.reason is None
    if "problems" in exp:
        assert list(got.problems) == exp["problems"]
    if "attachments" in exp:
        assert [a.filename for a in got.attachments] == exp["attachments"]
        for att in got.attachments:
            assert att.size == len(att.data) > 0
    for att_name, needle in exp.get("attachment_text_contains", {}).items():
        att = next(a for a in got.attachments if a.filename == att_name)
        assert att.text is not None and needle in att.text
    for key in ("message_id", "in_reply_to", "sender", "sender_name", "reply_to", "subject"):
        if key in exp:
            assert getattr(got, key) == exp[key], key
    if "references" in exp:
        assert list(got.references) == exp["references"]
    if "date" in exp:
        _same_instant(got.date, exp["date"], "date")
    if "body_contains" in exp:
        assert exp["body_contains"] in got.body_text
    if "same_content_hash_as" in exp:
        other_raw, other_exp = BY_NAME[exp["same_content_hash_as"]]
        assert got.content_hash == _parse(other_raw, other_exp).content_hash
        assert got.message_id != _parse(other_raw, other_exp).message_id
    if "fields" in exp:
        for key, want in exp["fields"].items():
            value = getattr(got.fields, key)
            if key in ("received_at", "due_at"):
                _same_instant(value, want, key)
            elif key in ("review_type", "urgency", "nurse_recommendation"):
                assert str(value) == want, key
            else:
                assert value == want, key


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_corpus_headers_always_filled(name: str) -> None:
    raw, exp = BY_NAME[name]
    got = _parse(raw, exp)
    assert got.message_id and got.message_id.startswith("<")
    assert got.sender and got.sender == got.sender.lower() and "<" not in got.sender
    assert got.date is None or got.date.tzinfo is not None
    assert len(got.content_hash) == 64
