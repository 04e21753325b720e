"""The raw-imaplib FETCH path returns exactly what imapclient's parser returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.fixtures.mailcfg import case_email, make_cfg
from uq.errors import ConnectionFailed
from uq.mail import imap
from uq.mail.imap import FetchedMessage, ImapSession, _parse_raw_fetch, _uid_set

EST = timezone(timedelta(hours=-5))
TRICKY = (
    b"From: Nurse Example <nurse9@payer.example>\r\n"
    b"Subject: tricky (literal) {123}\r\n"
    b"Message-ID: <tricky@payer.example>\r\n"
    b"\r\n"
    b"Case ID: TEST-0009\r\n"
    b"Text with ) and ( and {123}\r\nand BODY[] {5} and FLAGS (\\Seen) UID 77 )\r\n"
)


@pytest.fixture(autouse=True)
def _clean(dovecot):
    dovecot.reset()


def test_fast_fetch_equals_the_imapclient_path(tmp_path, dovecot):
    when = datetime(2026, 11, 29, 8, 14, tzinfo=EST)
    plain = dovecot.append([case_email(1), case_email(2)], msg_time=when)
    flagged = dovecot.append(case_email(3), flags=["\\Flagged", "\\Seen", "$custom"], msg_time=when)
    tricky = dovecot.append(TRICKY, msg_time=when)
    uids = plain + flagged + tricky
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        fast = s.fetch(uids)
        slow = s.fetch_slow(uids)
    assert fast == slow
    assert [m.uid for m in fast] == sorted(uids)
    assert [m.raw for m in fast] == [case_email(1), case_email(2), case_email(3), TRICKY]
    by_uid = {m.uid: m for m in fast}
    by_slow = {m.uid: m for m in slow}
    # the first session to see them also gets \\Recent, on both paths alike
    assert set(by_uid[flagged[0]].flags) - {"\\Recent"} == {"\\Flagged", "\\Seen", "$custom"}
    assert set(by_uid[plain[0]].flags) - {"\\Recent"} == set()
    for m in fast:  # aware, the same instant and offset as imapclient's
        assert m.internaldate is not None and m.internaldate.utcoffset() is not None
        assert m.internaldate.utcoffset() == by_slow[m.uid].internaldate.utcoffset()  # type: ignore[union-attr]


def test_fast_fetch_skips_missing_uids_and_keeps_only_those_asked(tmp_path, dovecot):
    uids = dovecot.append([case_email(n) for n in range(1, 6)])
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        got = s.fetch([uids[3], uids[1], uids[1], 999])
        assert [m.uid for m in got] == [uids[1], uids[3]]
        assert got == s.fetch_slow([uids[1], uids[3]])
        assert [m.raw for b in s.fetch_new(0, 2) for m in b] == [case_email(n) for n in range(1, 6)]


def test_unrecognised_response_falls_back_to_imapclient(tmp_path, dovecot, monkeypatch):
    uids = dovecot.append([case_email(1), TRICKY], flags=["\\Seen"])
    # BODYSTRUCTURE is not an attribute the fast parser knows: the whole fetch goes the slow way
    monkeypatch.setattr(imap, "FAST_FETCH_ITEMS", "(UID INTERNALDATE FLAGS BODYSTRUCTURE BODY.PEEK[])")
    slow_calls: list[int] = []
    real_slow = ImapSession.fetch_slow

    def counting(self: ImapSession, u: list[int]) -> list[FetchedMessage]:
        slow_calls.append(len(u))
        return real_slow(self, u)

    monkeypatch.setattr(ImapSession, "fetch_slow", counting)
    with ImapSession(make_cfg(tmp_path, dovecot)) as s:
        s.select()
        got = s.fetch(uids)
    assert slow_calls == [2]
    assert [m.raw for m in got] == [case_email(1), TRICKY]
    assert all("\\Seen" in m.flags for m in got)


def test_server_refusal_and_dead_link_are_uq_errors(tmp_path, dovecot_fn):
    dovecot_fn.append(case_email(1))
    with ImapSession(make_cfg(tmp_path, dovecot_fn)) as s:
        s.select()
        with pytest.raises(ConnectionFailed, match="server said"):
            s.fetch([0])  # UID 0 is not a valid UID: BAD
        assert [m.raw for m in s.fetch([1])] == [case_email(1)]  # the link survives a BAD
        dovecot_fn.kill()
        with pytest.raises(ConnectionFailed) as err:
            s.fetch([1])
        assert "\n" not in str(err.value)
        with pytest.raises(ConnectionFailed, match="not connected"):
            s.fetch([1])


# ---------------------------------------------------------------- the parser alone


def test_parser_any_attribute_order_and_flags_after_the_literal() -> None:
    body = b"Subject: x\r\n\r\n) {3}\r\n"
    data = [
        (b"1 (FLAGS () BODY[] {%d}" % len(body), body),
        b' UID 5 INTERNALDATE " 2-Mar-2026 23:05:09 +0130")',
        b"2 (UID 6 FLAGS (\\Seen))",  # an unsolicited flag change: no body, skipped
        (b"3 (UID 7 BODY[] {%d}" % len(body), body),
        b" FLAGS (\\Answered $x))",
    ]
    got = _parse_raw_fetch(data, {5, 7})
    assert got == [
        FetchedMessage(5, datetime(2026, 3, 2, 21, 35, 9, tzinfo=UTC), body, ()),
        FetchedMessage(7, None, body, ("\\Answered", "$x")),
    ]
    assert got[0].internaldate is not None and got[0].internaldate.utcoffset() == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    "data",
    [
        [(b"1 (UID 5 BODY[] {4}", b"abc"), b")"],  # literal shorter than announced
        [(b"1 (UID 5 BODY[] {3}", b"abc")],  # no closing line
        [(b"1 (UID 5 X-GM-LABELS (a) BODY[] {3}", b"abc"), b")"],  # unknown attribute
        [(b'1 (UID 5 INTERNALDATE "31-Foo-2026 00:00:00 +0000" BODY[] {3}', b"abc"), b")"],
        [(b"1 (BODY[] {3}", b"abc"), b")"],  # no UID
        [b'1 (UID 5 BODY[] "abc")'],  # a quoted body, no literal
        [(b"1 (UID 5 BODY[] {3}", b"abc"), b" UID 5)"],  # UID twice
    ],
)
def test_parser_gives_up_on_anything_unexpected(data: list[object]) -> None:
    assert _parse_raw_fetch(data, {5}) is None


def test_uid_set_collapses_runs() -> None:
    assert _uid_set([5, 1, 2, 3, 9, 10, 3]) == "1:3,5,9:10"
    assert _uid_set([7]) == "7"
