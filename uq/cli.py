"""The command line: argument parsing and one error router, nothing else.

Every command is a thin call into uq.services, imported lazily so `uq --help` and the
TUI's first paint do not pay for SQLAlchemy. Any UqError becomes one line on stderr and
its exit code; an unexpected exception becomes one line too (UQ_DEBUG=1 shows the trace).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from uq import __version__
from uq.config import Config, load_config, resolve_config_path
from uq.errors import UqError, UsageError
from uq.textsafe import csv_cell, safe_block, safe_line

if TYPE_CHECKING:
    from uq.services.context import Context

Handler = Callable[[argparse.Namespace, Config], int]
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
REVIEW_LEVELS = ("initial", "reconsideration", "appeal_1", "appeal_2")  # uq.domain.ReviewLevel, known ones
URGENCY_LABEL = {"urgent": "URG", "standard": "std", "unknown": "?"}  # as the TUI shows it


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other error."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"uq: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def _context(cfg: Config) -> Context:
    from uq.services.context import Context

    return Context.open(cfg)


def _print_json(data: Any) -> None:
    """Exact values, but JSON-escaped wherever a character could act on a terminal: json
    escapes C0 itself; DEL, C1 and the format characters are escaped here."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


# ---------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace, cfg: Config) -> int:
    from uq.tui.launch import run_app

    return run_app(cfg, demo=False)


def cmd_demo(args: argparse.Namespace, cfg: Config) -> int:
    from uq.tui.launch import run_app

    return run_app(cfg, demo=True)


def cmd_sync(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import sync

    ctx = _context(cfg)
    if args.once:
        print(safe_line(str(sync.sync_once(ctx))))
        return 0
    import threading

    stop = threading.Event()

    def on_state(state: str, detail: str) -> None:
        if state in ("live", "polling", "following", "offline"):
            sys.stderr.write(safe_line(f"{state}{': ' + detail if detail else ''}") + "\n")

    try:
        sync.watch(ctx, stop, on_batch=lambda s: print(safe_line(str(s)), flush=True), on_state=on_state)
    except KeyboardInterrupt:
        stop.set()
    return 0


def cmd_queue(args: argparse.Namespace, cfg: Config) -> int:
    from uq.lookalike import show_id
    from uq.queue.countdown import countdown_text, state_glyph
    from uq.queue.sla import clock_problems
    from uq.services import queries

    ctx = _context(cfg)
    items = queries.queue(ctx, include_closed=args.all)
    if args.json:
        found = queries.id_problem_map(ctx, [c for c, _ in items])
        _print_json([queries.queue_item_json(ctx, c, d, found) for c, d in items])
        return 0
    if not items:
        print("queue empty")
        return 0
    pk_problems = queries.id_problem_map(ctx, [c for c, _ in items])
    for c, d in items:
        left = f"{state_glyph(d.state)} {countdown_text(d.seconds_left)}" if c.status.is_open else "  done"
        flags = (
            ("U" if c.update_count else "-")
            + ("!" if c.problems or pk_problems.get(c.id) or clock_problems(c) else "-")
            + {"call_needed": "C", "pended": "P"}.get(c.status.value, "-")
        )
        f = c.fields
        print(
            f"{left:>10}  {URGENCY_LABEL.get(f.urgency.value, '?'):3}  {show_id(c.case_id):<18}  {flags}  "
            f"{safe_line(f.client or '')[:20]:<20}  {safe_line(f.service or '')[:36]:<36}  "
            f"{f.nurse_recommendation.value}"
        )
    return 0


def cmd_show(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import queries, review

    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    if args.attachment is not None:  # the bytes for a file (`> a.pdf`), its text for a terminal
        att = review.open_attachment(ctx, case.id, args.attachment - 1)
        if sys.stdout.isatty():
            sys.stdout.write(safe_block(att.text or f"({att.filename}: no text; redirect to a file to keep it)\n"))
        else:
            sys.stdout.buffer.write(att.data)
        return 0
    if args.message is not None:
        raw = review.open_message(ctx, case.id, args.message - 1)
        sys.stdout.write(safe_block(raw.decode("utf-8", "backslashreplace")))
        return 0
    review.open_case(ctx, case.id)  # the raw email is PHI too: audited like any view
    if args.raw:
        raw = ctx.store.first_raw_for_case(case.id)
        # as text for a terminal: undecodable bytes as \xNN, every control shown, not acted on
        sys.stdout.write(safe_block(raw.decode("utf-8", "backslashreplace")))
        return 0
    detail = queries.case_detail(ctx, case.id)
    if args.json:
        _print_json(queries.case_json(ctx, detail))
        return 0
    from uq.services.render import case_text

    print(case_text(ctx, detail))  # sanitised by case_text
    return 0


def cmd_decide(args: argparse.Namespace, cfg: Config) -> int:
    from uq.domain import DeclineReason, Outcome
    from uq.services import review

    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    outcome = Outcome(args.outcome)
    reason = (
        DeclineReason(args.reason)
        if args.reason
        else (DeclineReason.OTHER if outcome is Outcome.DECLINE and args.rationale else None)
    )
    given = review.DecisionInput(
        rationale=args.rationale or "",
        guideline=args.guideline or "",
        note=args.note or "",
        decline_reason=reason,
        approved_portion=args.approved,
        denied_portion=args.denied,
        criteria=tuple(args.criterion or ()),
        change_info=args.would_change or "",
        attest_reviewed=args.attest_reviewed,
        advice_statement=args.statement or "",
    )
    if args.preview:
        shown = review.preview(ctx, case.id, outcome, given, force=args.force)
        for w in shown.confirm:
            sys.stderr.write(safe_line(f"warning: {w} (needs --force to send)") + "\n")
        for n in shown.notices:
            sys.stderr.write(safe_line(f"note: {n}") + "\n")
        sys.stdout.write(safe_block(shown.text()))
        return 0
    result = review.decide(ctx, case.id, outcome, given, force=args.force)
    for w in result.warnings:
        sys.stderr.write(safe_line(f"warning: {w}") + "\n")
    hold = (result.outbox.not_before - ctx.clock()).total_seconds()
    held = f", held {int(hold)}s (uq undo {case.case_id})" if result.outbox.state.value == "held" else ""
    print(safe_line(f"{case.case_id}: {outcome.value} saved; reply {result.outbox.message_id} queued{held}"))
    return 0


def cmd_set(args: argparse.Namespace, cfg: Config) -> int:
    from uq.domain import ReviewLevel, Urgency
    from uq.services import review

    if not (args.urgency or args.review_level or args.end_pend):
        raise UsageError("uq set needs --urgency, --review-level or --end-pend")
    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    changed = review.set_facts(
        ctx,
        case.id,
        urgency=Urgency(args.urgency) if args.urgency else None,
        review_level=ReviewLevel(args.review_level.replace("-", "_")) if args.review_level else None,
        end_pend=args.end_pend,
    )
    print(safe_line(f"{case.case_id}: {'; '.join(changed) or 'nothing to change'}"))
    return 0


def cmd_note(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import notes, review

    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    text = notes.set_note(ctx, case.id, args.text)
    done = "saved" if text else "cleared"
    print(safe_line(f"{case.case_id}: private note {done} ({len(text)} characters; never sent)"))
    return 0


def cmd_call(args: argparse.Namespace, cfg: Config) -> int:
    from uq.domain import CallOutcome
    from uq.services import review

    if not args.attempt:
        raise UsageError("uq call needs --attempt (log one peer-to-peer call attempt)")
    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    call = review.log_call(
        ctx,
        case.id,
        CallOutcome(args.outcome.replace("-", "_")),
        note=args.note or "",
        number=args.number,
        in_reply=args.in_reply,
    )
    print(safe_line(f"{case.case_id}: call attempt logged ({call.outcome.value}, {call.number or 'no number'})"))
    return 0


def cmd_send(args: argparse.Namespace, cfg: Config) -> int:
    from uq.errors import SendError
    from uq.services import outbox, queries, review

    ctx = _context(cfg)
    if args.retry:
        case = review.resolve_case(ctx, args.retry)
        if not outbox.retry_stopped(ctx, case.id):
            raise UsageError(f"{case.case_id}: no stopped reply to send again (see `uq outbox`)")
    outbox.retry_failed_now(ctx)
    summary = outbox.send_due(ctx)
    held = queries.outbox_counts(ctx).get("held", 0)
    for line in [*summary.notes, *outbox.waiting(ctx)]:
        print(safe_line(line))
    if summary.failed:
        raise SendError(f"{summary.errors[-1]} ({summary.failed} kept in the outbox, {summary.sent} sent)")
    print(f"sent {summary.sent}" + (f", {held} still held" if held else ""))
    return 0


def cmd_outbox(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import queries

    ctx = _context(cfg)
    items = ctx.store.outbox()
    case_ids = {i.case_pk: (ctx.store.case(i.case_pk) or None) for i in items}
    rows = [queries.outbox_json(ctx, i, c.case_id if (c := case_ids[i.case_pk]) else "?") for i in items]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("outbox empty")
    for r in rows:
        nxt = f"  next try {r['next_try']}" if r["next_try"] else ""
        err = f"  {r['last_error']}" if r["last_error"] and r["state"] != "sent" else ""
        print(safe_line(f"{r['state']:<9} {r['case_id']:<18} {r['created_at']}  attempts {r['attempts']}{nxt}{err}"))
    return 0


def cmd_undo(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import review

    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    d = review.undo(ctx, case.id)
    print(safe_line(f"{case.case_id}: {d.outcome.value} undone; nothing was sent"))
    return 0


def cmd_quarantine(args: argparse.Namespace, cfg: Config) -> int:
    ctx = _context(cfg)
    from uq.services import queries

    kinds = ["quarantined", "not_case"] if args.all else ["quarantined"]
    rows: list[dict[str, Any]] = [
        {
            "id": a.info.id,
            "kind": a.info.kind,
            "reason": a.info.reason,
            "sender": a.sender,
            "subject": a.subject,
            "date": a.date.isoformat() if a.date else None,  # the Date header
            "uid": a.info.uid,
            "mailbox": a.info.mailbox,
            "message_id": a.info.message_id,
            "received": (a.info.internaldate or a.info.ingested_at).isoformat(),
            "size": a.info.size,
        }
        for a in queries.set_aside_listing(ctx, kinds)
    ]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("nothing quarantined" + (" and no non-case mail" if args.all else ""))
    for r in rows:
        when = (r["date"] or r["received"])[:16].replace("T", " ")
        sender, subject = safe_line(r["sender"] or "")[:30], safe_line(r["subject"] or "")[:40]
        print(f"{r['kind']:<11} uid {r['uid']:<6} {when:<16} {sender:<30} {subject:<40} {safe_line(r['reason'] or '')}")
    return 0


def cmd_accept(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import review, trust

    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    changed = trust.accept_update(ctx, case.id, args.message)
    print(safe_line(f"{case.case_id}: update {args.message} accepted; changed: {', '.join(changed) or 'nothing'}"))
    return 0


def cmd_claim(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import team

    ctx = _context(cfg)
    case = team.claim(ctx, args.case_id, next_case=args.next)
    until = case.claim_until.astimezone(ctx.tz).isoformat(timespec="minutes") if case.claim_until else "?"
    print(safe_line(f"{case.case_id}: claimed by {ctx.user} until {until}"))
    return 0


def cmd_release(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import team

    ctx = _context(cfg)
    case = team.release(ctx, args.case_id)
    print(safe_line(f"{case.case_id}: released"))
    return 0


def _day(text: str | None, cfg: Config, *, end: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    if d.tzinfo is None:
        if len(text) <= 10:
            d = datetime.combine(d.date(), time.min, cfg.tz) + (timedelta(days=1) if end else timedelta())
        else:
            d = d.replace(tzinfo=cfg.tz)
    return d


def cmd_report(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services.report import build_report

    ctx = _context(cfg)
    rep = build_report(ctx, _day(args.since, cfg), _day(args.until, cfg, end=True))
    earnings = rep.earnings(cfg.pay.per_case, cfg.pay.per_hour)
    if args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["case_id", "client", "outcome", "agrees_with_nurse", "decided_at", "minutes_spent"])
        for r in rep.rows:
            w.writerow(
                csv_cell(v)
                for v in [
                    r.case_id,
                    r.client,
                    r.outcome,
                    r.agrees_with_nurse,
                    r.decided_at.astimezone(cfg.tz).isoformat(),
                    r.minutes_spent,
                ]
            )
        return 0
    summary = {
        "since": args.since,
        "until": args.until,
        "decisions": len(rep.rows),
        "by_outcome": rep.by_outcome,
        "agreement_rate": rep.agreement_rate,
        "median_minutes": rep.median_minutes,
        "earnings": earnings,
    }
    if args.json:
        _print_json({**summary, "rows": [r.__dict__ | {"decided_at": r.decided_at.isoformat()} for r in rep.rows]})
        return 0
    print(f"decisions {len(rep.rows)}  " + "  ".join(f"{k} {v}" for k, v in sorted(rep.by_outcome.items())))
    if rep.agreement_rate is not None:
        print(f"agreement with nurse {rep.agreement_rate:.0%}")
    if rep.median_minutes is not None:
        print(f"median minutes per case {rep.median_minutes}")
    if earnings is not None:
        print(f"earnings {earnings:.2f}")
    return 0


def cmd_audit(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import audit

    ctx = _context(cfg)
    if args.action == "verify":
        verdict = audit.check(ctx)
        if verdict.ok:
            print(safe_block(verdict.text()))
            return 0
        for line in verdict.findings:  # one line per finding, each naming its case
            sys.stderr.write(f"uq: {safe_line(line)}\n")
        return 1
    _print_json(audit.export(ctx))
    return 0


def cmd_db(args: argparse.Namespace, cfg: Config) -> int:
    from uq.store import db, schema

    engine = db.make_engine(cfg.database_url)
    try:
        state = schema.ensure(engine, upgrade=True)
    finally:
        engine.dispose()
    how = (
        "created"
        if state.before is None
        else "up to date"
        if state.before == state.after
        else f"upgraded from {state.before}"
    )
    print(f"database at schema {state.after} ({how})" + (f"; backup {state.backup}" if state.backup else ""))
    return 0


def cmd_doctor(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services.doctor import run_checks

    failed = 0
    for name, ok, detail in run_checks(cfg):
        print(f"{'ok ' if ok else 'FAIL'} {name:<9} {safe_line(detail)}")
        failed += not ok
    return 1 if failed else 0


def cmd_init(args: argparse.Namespace, cfg: Config) -> int:
    from importlib.resources import files

    target = resolve_config_path(getattr(args, "config", None))
    if target.exists() and not args.force:
        raise UqError(f"{target} exists; use --force to overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(files("uq").joinpath("starter_config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    os.chmod(target, 0o600)
    print(f"wrote {target} (mode 0600). Next:")
    for step in (
        f"edit {target}: [reviewer] (name, credentials, specialty, licence), [imap] and [smtp]",
        "uq auth set imap      store the IMAP password in the system keyring",
        "uq auth set smtp      store the SMTP password in the system keyring",
        "uq db upgrade         create the database",
        "uq doctor             check config, keyring, database, IMAP and SMTP (changes nothing)",
        "uq                    open the queue",
    ):
        print(f"  {step}")
    from uq.errors import CredentialError
    from uq.secrets import audit_key

    try:
        key, where = audit_key()
    except CredentialError as exc:  # the config is written; the key can come later
        sys.stderr.write(f"uq: {exc}\n")
        return 0
    from uq.store.audit_chain import key_id

    made = "created in the system keyring" if where == "keyring (new)" else f"from {where}"
    print(f"audit key {key_id(key)}: {made} (it signs the audit trail; a team shares one via UQ_AUDIT_KEY)")
    return 0


def cmd_auth(args: argparse.Namespace, cfg: Config) -> int:
    import getpass

    from uq.secrets import store_password

    password = getpass.getpass(f"{args.kind.upper()} password for {getattr(cfg, args.kind).username or '?'}: ")
    if not password:
        raise UsageError("empty password: nothing stored")
    store_password(args.kind, cfg, password)
    print(f'{args.kind} password stored in the keyring (service "uq")')
    return 0


def cmd_extend(args: argparse.Namespace, cfg: Config) -> int:
    from uq.services import review

    ctx = _context(cfg)
    case = review.resolve_case(ctx, args.case_id)
    new_due = _day(args.to, cfg)
    if new_due is None:
        raise UsageError("--to needs a date and time, e.g. 2026-12-21T17:00")
    review.extend(ctx, case.id, new_due, args.reason)
    print(safe_line(f"{case.case_id}: regulatory deadline extended to {new_due.isoformat()}"))
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="uq", description="A keyboard-only work queue for physician utilization-management review.")
    p.add_argument("--version", action="version", version=f"uq {__version__}")
    p.add_argument("--config", metavar="PATH", help="config file (default: $UQ_CONFIG, else the platform config dir)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(handler=handler)
        return sp

    add("run", cmd_run, "the full-screen queue, with background sync and sending (the default)")
    add("demo", cmd_demo, "the queue on bundled synthetic cases: temp database, no network")
    sp = add("sync", cmd_sync, "pull case emails from IMAP (runs until Ctrl-C unless --once)")
    sp.add_argument("--once", action="store_true", help="one pass, then exit with a one-line summary")
    sp = add("queue", cmd_queue, "open cases in queue order")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--all", action="store_true", help="every case, decided ones too")
    sp = add("show", cmd_show, "one case: every field, attachments, problems")
    sp.add_argument("case_id")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--raw", action="store_true", help="the original email, as received")
    sp.add_argument("--attachment", type=int, metavar="N", help="attachment N's bytes (1 = first), recorded as opened")
    sp.add_argument("--message", type=int, metavar="N", help="thread message N as received (1 = the case email)")
    sp = add("decide", cmd_decide, "record a decision and queue the reply")
    sp.add_argument("case_id")
    g = sp.add_mutually_exclusive_group(required=True)
    for flag, value in (
        ("--approve", "approve"),
        ("--deny", "deny"),
        ("--partial", "partial"),
        ("--call-needed", "call_needed"),
        ("--pend", "pend"),
        ("--decline", "decline"),
    ):
        g.add_argument(flag, dest="outcome", action="store_const", const=value)
    sp.add_argument(
        "--rationale", help="patient-specific reason (required to deny or partially approve; pend: the items requested)"
    )
    sp.add_argument("--guideline", help="criterion relied on, with source and edition (default: the case's)")
    sp.add_argument(
        "--criterion",
        action="append",
        metavar="TEXT",
        help="a criterion the decision rests on, e.g. 'Not met: 6 weeks of conservative therapy' (repeatable; "
        "deny and partial need one)",
    )
    sp.add_argument("--note", help="a note to the nurse")
    sp.add_argument("--approved", metavar="TEXT", help="partial: what is approved (e.g. '6 of 12 PT visits')")
    sp.add_argument("--denied", metavar="TEXT", help="partial: what is denied (e.g. 'visits 7 to 12')")
    sp.add_argument("--would-change", metavar="TEXT", help="what information would change the decision")
    sp.add_argument("--reason", choices=["conflict_of_interest", "outside_specialty", "other"], help="decline: why")
    sp.add_argument(
        "--attest-reviewed",
        action="store_true",
        help="confirm you reviewed every record, also parts not opened in uq (audited)",
    )
    sp.add_argument("--preview", action="store_true", help="print the exact reply and save nothing")
    sp.add_argument(
        "--force",
        action="store_true",
        help="confirm despite a warning (treatment advice, a case outside your specialty)",
    )
    sp.add_argument(
        "--statement",
        metavar="TEXT",
        help="with --force after an advice warning: your statement, sent instead of 'not treatment advice'",
    )
    sp = add("set", cmd_set, "correct a fact the packet lacked (urgency, review level) or end a pend")
    sp.add_argument("case_id")
    sp.add_argument("--urgency", choices=["urgent", "standard"])
    sp.add_argument("--review-level", choices=[lv.replace("_", "-") for lv in REVIEW_LEVELS])
    sp.add_argument("--end-pend", action="store_true", help="the requested information has arrived: end the toll now")
    sp = add("note", cmd_note, "your private note on a case (never sent; empty text clears it)")
    sp.add_argument("case_id")
    sp.add_argument("text")
    sp = add("call", cmd_call, "log a peer-to-peer call attempt")
    sp.add_argument("case_id")
    sp.add_argument("--attempt", action="store_true", required=True)
    sp.add_argument("--outcome", choices=["reached", "voicemail", "no-answer"], required=True)
    sp.add_argument("--note")
    sp.add_argument("--number", help="number dialled (default: the provider phone from the case)")
    sp.add_argument(
        "--in-reply", action="store_true", help="include the note in the reply (notes are private otherwise)"
    )
    sp = add("send", cmd_send, "deliver what is due in the outbox, then exit")
    sp.add_argument("--retry", metavar="CASE_ID", help="send a stopped reply again (its tries start over)")
    sp = add("outbox", cmd_outbox, "replies: state, attempts, next try, last error")
    sp.add_argument("--json", action="store_true")
    sp = add("undo", cmd_undo, "take back a decision while its reply is held")
    sp.add_argument("case_id")
    sp = add("quarantine", cmd_quarantine, "emails that could not be parsed (--all: and non-case mail)")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--all", action="store_true", help="also list auto-replies, bounces, newsletters")
    sp = add("accept", cmd_accept, "apply an unverified update (a follow-up from another sender) to its case")
    sp.add_argument("case_id")
    sp.add_argument("message", type=int, help="the update's number, as `uq show` lists it")
    sp = add("claim", cmd_claim, "team queue: take a case")
    sp.add_argument("case_id", nargs="?")
    sp.add_argument("--next", action="store_true", help="the most urgent unclaimed case")
    sp = add("release", cmd_release, "team queue: give a case back")
    sp.add_argument("case_id")
    sp = add("report", cmd_report, "decisions, agreement, time and pay over a period")
    sp.add_argument("--since", metavar="D")
    sp.add_argument("--until", metavar="D")
    fmt = sp.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    sp = add("audit", cmd_audit, "verify or export the audit trail")
    sp.add_argument("action", choices=["verify", "export"])
    sp = add("db", cmd_db, "database maintenance")
    sp.add_argument("action", choices=["upgrade"])
    add("doctor", cmd_doctor, "check config, keyring, database, IMAP and SMTP, one line each")
    sp = add("init", cmd_init, "write a starter config")
    sp.add_argument("--force", action="store_true")
    sp = add("auth", cmd_auth, "store a password in the keyring (prompted, never echoed)")
    sp.add_argument("action", choices=["set"])
    sp.add_argument("kind", choices=["imap", "smtp"])
    sp = add("extend", cmd_extend, "give a case a new regulatory deadline, with the reason")
    sp.add_argument("case_id")
    sp.add_argument("--to", required=True, metavar="DATETIME")
    sp.add_argument("--reason", required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)
    for stream in (sys.stdout, sys.stderr):  # placeholders must print even on an ASCII locale
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = getattr(args, "handler", cmd_run)
    try:
        if handler is cmd_init:
            cfg = Config()
        else:
            cfg = load_config(args.config)
            from uq.logfile import setup_logging

            setup_logging(cfg.ui.log_level)
        return handler(args, cfg)
    except UqError as exc:
        sys.stderr.write(f"uq: {safe_line(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("uq: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the one router: never a traceback in front of a reviewer
        if os.environ.get("UQ_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"uq: internal error: {type(exc).__name__}: {safe_line(first)} (UQ_DEBUG=1 for details)\n")
        return 70


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
