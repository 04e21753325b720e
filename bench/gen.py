"""Synthetic case emails for the benchmarks (invented names, example.* domains only).

The mix follows issue 7: 70 % plain text bodies of ~8 KB, 20 % HTML alternatives, the
rest HTML-only packets with a short body; 30 % in all carry a 50-200 KB PDF.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

SENDERS = (
    ("Maria Lopez RN", "mlopez@reviews.example-um.com", "Example Health Plan - Commercial"),
    ("Tom Reyes RN", "treyes@um.example-acme.com", "Acme Medicare Advantage"),
    ("Ana Kim RN", "akim@review.example-north.org", "Northwind Medicaid"),
)
FILLER = (
    "Patient reports intermittent symptoms with partial response to conservative therapy. "
    "Vital signs stable; labs within normal limits except as noted in the attached records. "
)


def _pdf(lines: list[str], size: int, rng: random.Random) -> bytes:
    """A one-page PDF with extractable text, padded by an unreferenced binary stream."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 10 Tf 12 TL 50 750 Td " + " ".join(f"({esc(x)}) Tj T*" for x in lines) + " ET"
    pad = rng.randbytes(max(0, size - 1200))
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream".encode("latin-1"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(pad) + pad + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _fields(n: int, now: datetime, rng: random.Random) -> tuple[str, list[tuple[str, str]], str]:
    case_id = f"UM-2026-{n:06d}"
    urgent = rng.random() < 0.2
    received = now - timedelta(minutes=rng.randint(5, 600))
    rows = [
        ("Case ID", case_id),
        ("Review Type", rng.choice(("Prospective (pre-service)", "Concurrent", "Retrospective"))),
        ("Urgency", "Expedited" if urgent else "Standard"),
        ("Received", received.strftime("%Y-%m-%d %H:%M")),
        ("Member", f"Test Member {n}"),
        ("DOB", "03/04/1961"),
        ("Member ID", f"EHP{n:09d}"),
        ("Requesting Provider", "Alan Smith, MD (Orthopedic Surgery)"),
        ("Provider Phone", "(555) 201-3344"),
        ("NPI", "1234567890"),
        ("Diagnosis", "M54.16 Radiculopathy, lumbar region"),
        ("Requested Service", "CPT 72148 MRI lumbar spine without contrast x1"),
        ("Guideline", "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine"),
    ]
    summary = (FILLER * 60)[: rng.randint(6000, 7200)]
    sections = (
        f"\nClinical Summary:\n{summary}\n\nCriteria Met:\n- Radicular pain\n\n"
        "Criteria Not Met:\n- 6 weeks of conservative therapy\n\n"
        "Nurse Assessment:\nRequest does not meet criteria: conservative therapy under 6 weeks.\n\n"
        "Nurse Recommendation: Deny - conservative management not yet tried\n"
        "Question for Physician: Do you agree imaging is not yet indicated?\n"
        "Nurse Reviewer: Maria Lopez, RN\n"
    )
    subject = f"UM Review Request - Case #{case_id} - {'EXPEDITED' if urgent else 'Standard'} - MRI"
    return subject, rows, sections


def _headers(n: int, subject: str, now: datetime, rng: random.Random, ctype: str) -> bytes:
    name, addr, _ = SENDERS[n % len(SENDERS)]
    date = (now - timedelta(minutes=rng.randint(0, 60))).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From: {name} <{addr}>\r\nTo: dr.reviewer@example.org\r\nSubject: {subject}\r\n"
        f"Date: {date}\r\nMessage-ID: <bench-{n}.{rng.randint(0, 1 << 30)}@example-um.com>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n"
    ).encode()


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def make_email(n: int, now: datetime | None = None, seed: int = 7) -> tuple[bytes, str]:
    """Email number n of the mix; returns (raw RFC 5322 bytes with CRLF, kind)."""
    rng = random.Random(seed * 1_000_003 + n)
    now = now or datetime.now(UTC)
    subject, rows, sections = _fields(n, now, rng)
    plain = "\n".join(f"{k}: {v}" for k, v in rows) + "\n" + sections
    slot = n % 10
    kind = "text" if slot < 7 else "html-alt" if slot < 9 else "pdf-packet"
    with_pdf = slot in (0, 3) or kind == "pdf-packet"  # 20 % of text + the 10 % packets
    pdf = b""
    if with_pdf:
        pdf = _pdf([f"{k}: {v}" for k, v in rows], rng.randint(50_000, 200_000), rng)
    b1, b2 = f"=_b1_{n}", f"=_b2_{n}"
    if kind == "text":
        text_part = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + _crlf(plain)
        body_parts = [text_part]
    elif kind == "html-alt":
        html = "<html><body><table>" + "".join(
            f"<tr><td><b>{k}:</b></td><td>{v}</td></tr>" for k, v in rows
        ) + "</table><pre>" + sections + "</pre></body></html>"
        alt = (
            f'Content-Type: multipart/alternative; boundary="{b2}"\r\n\r\n'
            f"--{b2}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        ).encode() + _crlf(plain) + (
            f"\r\n--{b2}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        ).encode() + _crlf(html) + f"\r\n--{b2}--\r\n".encode()
        body_parts = [alt]
    else:
        short = "\n".join(f"{k}: {v}" for k, v in rows[:4]) + "\nFull packet attached.\n"
        body_parts = [b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + _crlf(short)]
    if not with_pdf and kind == "text":
        head = _headers(n, subject, now, rng, "text/plain; charset=utf-8")
        return head + _crlf(plain), kind
    if not with_pdf:  # html-alt without attachment: the alternative is the whole message
        head = _headers(n, subject, now, rng, f'multipart/alternative; boundary="{b2}"')
        body = body_parts[0].split(b"\r\n\r\n", 1)[1]
        return head + body, kind
    att = (
        f'Content-Type: application/pdf; name="packet-{n}.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
        f'Content-Disposition: attachment; filename="packet-{n}.pdf"\r\n\r\n'
    ).encode() + base64.encodebytes(pdf).replace(b"\n", b"\r\n")
    head = _headers(n, subject, now, rng, f'multipart/mixed; boundary="{b1}"')
    out = head + b"This is a multi-part message in MIME format.\r\n"
    for p in [*body_parts, att]:
        out += f"\r\n--{b1}\r\n".encode() + p
    return out + f"\r\n--{b1}--\r\n".encode(), kind + "+pdf"


def make_emails(count: int, start: int = 0, now: datetime | None = None) -> list[bytes]:
    now = now or datetime.now(UTC)
    return [make_email(n, now)[0] for n in range(start, start + count)]
