"""The hostile corpus's sender-trust emails through a real Dovecot and `uq sync --once`:
each is accounted for exactly once, as the corpus says (case, update, unverified update,
not a case), and the valid case after each one arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import Dovecot
from tests.fixtures.env import write_config
from tests.hostile import corpus as hc
from uq.cli import main
from uq.config import load_config
from uq.services.context import Context
from uq.services.sync import SyncSummary

TRUST_KINDS = [
    hc.case_id_hijack,
    hc.forged_followup,
    hc.followup_from_the_sender,
    hc.from_names_that_hide_the_address,
    hc.foreign_reply_to,
    hc.whole_cases_with_auto_reply_signs,
    hc.real_auto_reply_quoting_a_case,
]


def _emails() -> list[hc.Hostile]:
    out: list[hc.Hostile] = []
    for fn in TRUST_KINDS:
        got = fn()
        for h in got if isinstance(got, list) else [got]:
            out += [h, hc.valid(900 + len(out))]
    return out


def test_sender_trust_emails_are_accounted_for(
    dovecot_fn: Dovecot, uq_home: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emails = _emails()
    uids = dovecot_fn.append([h.raw for h in emails])
    cfg = write_config(tmp_path, dovecot=dovecot_fn, db_url=f"sqlite:///{tmp_path / 'uq.sqlite3'}")
    assert main(["--config", str(cfg), "sync", "--once"]) == 0
    out = capsys.readouterr().out
    ctx = Context.open(load_config(cfg))
    try:
        raws = {r.uid: r for r in ctx.store.raw_messages()}
        assert sorted(raws) == uids  # every email exactly once
        expected = SyncSummary(
            ingested=sum(h.sync == "new" for h in emails),
            updated=sum(h.sync == "updated" for h in emails),
            not_cases=sum(h.sync == "not_case" for h in emails),
            unverified=sum(h.sync == "unverified" for h in emails),
        )
        assert out.strip() == str(expected)
        for uid, h in zip(uids, emails, strict=True):
            raw = raws[uid]
            assert raw.kind == h.sync, h.name
            if h.reason:
                assert h.reason in (raw.reason or ""), h.name
            if h.sync == "not_case":
                assert raw.case_pk is None, h.name
                continue
            assert raw.case_pk is not None, h.name
            case = ctx.store.case(raw.case_pk)
            assert case is not None
            if h.case_id:
                assert case.case_id == h.case_id, h.name
            if h.sync == "new" and h.sender:
                assert case.sender == h.sender, h.name
            if h.problem:
                assert any(h.problem in p for p in case.problems), (h.name, case.problems)
        forged = next(c for c in ctx.store.find_cases("H-FORGED"))
        assert forged.fields.urgency.value == "standard" and forged.fields.member_name == "Pat Example"
        hijacked = {c.sender: c for c in ctx.store.find_cases("H-HIJACK")}
        assert set(hijacked) == {hc.SENDER, hc.STRANGER}
        assert hijacked[hc.SENDER].update_count == 0 and hijacked[hc.STRANGER].update_count == 0
        assert hijacked[hc.STRANGER].reply_to == hc.STRANGER  # its own domain: kept for its own case
        assert ctx.store.find_cases("H-REPLYTO")[0].reply_to is None
    finally:
        ctx.close()
