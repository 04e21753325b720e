"""Writes the synthetic case-email corpus: NN-name.eml + NN-name.json (expected results).

Run `python tests/corpus/make_corpus.py` after editing; the .eml/.json files are committed.
Every name, ID, NPI and address here is invented (example.com / example-um.com domains).
Expected values are written by hand below, independently of the parser.
"""

from __future__ import annotations

import base64
import json
import quopri
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
NY, CHI, DEN, LA = (ZoneInfo(z) for z in ("America/New_York", "America/Chicago",
                                           "America/Denver", "America/Los_Angeles"))
UTC = ZoneInfo("UTC")
CORPUS_TZ = "America/New_York"  # the reviewer zone the tests parse with

STRING_FIELDS = (
    "case_id", "client", "member_name", "member_dob", "member_id", "requesting_provider",
    "provider_phone", "provider_npi", "facility", "diagnosis", "service", "dates_of_service",
    "guideline", "criteria_met", "criteria_not_met", "clinical_summary", "nurse_assessment",
    "nurse_recommendation_text", "nurse_name", "question",
)
ALL_FIELDS = (*STRING_FIELDS, "review_type", "urgency", "received_at", "due_at",
              "nurse_recommendation")

EMAILS: list[tuple[str, bytes, dict[str, Any]]] = []
ALIASES_USED: set[tuple[str, str]] = set()


def iso(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, tz: ZoneInfo) -> str:
    return datetime(y, mo, d, h, mi, tzinfo=tz).isoformat()


# ---------------------------------------------------------------- building blocks
def pdf(lines: list[str]) -> bytes:
    """A one-page PDF with Helvetica text lines that pypdf can extract."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = ("BT /F1 10 Tf 12 TL 50 750 Td "
               + " ".join(f"({esc(line)}) Tj T*" for line in lines) + " ET")
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            ).encode()
    return bytes(out)


def headers(h: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\n" for k, v in h).encode("utf-8")


def encode_body(text: str, charset: str, cte: str) -> bytes:
    data = text.encode(charset)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    if cte == "base64":
        return base64.encodebytes(data)
    return data


def single(h: list[tuple[str, str]], text: str, *, ctype: str = "text/plain",
           charset: str = "utf-8", cte: str = "8bit") -> bytes:
    return (headers([*h, ("MIME-Version", "1.0"),
                     ("Content-Type", f"{ctype}; charset={charset}"),
                     ("Content-Transfer-Encoding", cte)])
            + b"\n" + encode_body(text, charset, cte))


def part(text: str, *, ctype: str = "text/plain", charset: str = "utf-8",
         cte: str = "quoted-printable") -> bytes:
    return (f"Content-Type: {ctype}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
            ).encode() + encode_body(text, charset, cte)


def attachment(name: str, data: bytes, ctype: str = "application/pdf") -> bytes:
    return (f'Content-Type: {ctype}; name="{name}"\nContent-Transfer-Encoding: base64\n'
            f'Content-Disposition: attachment; filename="{name}"\n\n').encode() + \
        base64.encodebytes(data)


def multipart(h: list[tuple[str, str]], parts: list[bytes], subtype: str = "mixed",
              boundary: str = "=_uq_corpus_b1", extra_ct: str = "") -> bytes:
    out = headers([*h, ("MIME-Version", "1.0"),
                   ("Content-Type", f'multipart/{subtype}; boundary="{boundary}"{extra_ct}')])
    out += b"\nThis is a multi-part message in MIME format.\n"
    for p in parts:
        out += f"\n--{boundary}\n".encode() + p
    return out + f"\n--{boundary}--\n".encode()


def std(frm: str, subject: str, msgid: str, date: str = "Sun, 29 Nov 2026 08:14:00 -0500",
        to: str = "dr.reviewer@example.org", extra: list[tuple[str, str]] | None = None
        ) -> list[tuple[str, str]]:
    return [("From", frm), ("To", to), ("Subject", subject), ("Date", date),
            ("Message-ID", msgid), *(extra or [])]


def lines(*rows: tuple[str, str, str] | list[tuple[str, str, str]], sep: str = "    "
          ) -> tuple[str, dict[str, str]]:
    """Label lines from (field, alias, value); a list of tuples is one multi-field line.

    Multi-line values become sections: label on its own line, text below, a blank line
    before. Returns the text and the plain-string expectations it implies.
    """
    out: list[str] = []
    exp: dict[str, str] = {}
    for row in rows:
        group = row if isinstance(row, list) else [row]
        for field, alias, value in group:
            ALIASES_USED.add((field, alias))
            exp[field] = value
        if len(group) == 1 and "\n" in group[0][2]:
            field, alias, value = group[0]
            out.extend(["", f"{alias}:", value, ""])
        else:
            out.append(sep.join(f"{a}: {v}" for _f, a, v in group))
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n", exp


def add(name: str, raw: bytes, expect: dict[str, Any]) -> None:
    EMAILS.append((name, raw, expect))


def case_expect(base: dict[str, str], **over: Any) -> dict[str, Any]:
    """Full field expectations: every field listed, defaults for the ones not carried."""
    fields: dict[str, Any] = {f: None for f in STRING_FIELDS}
    fields.update(review_type="unknown", urgency="unknown", received_at=None, due_at=None,
                  nurse_recommendation="unknown")
    for k, v in base.items():
        if k in fields:
            fields[k] = v
    for k in ("review_type", "urgency", "received_at", "due_at", "nurse_recommendation"):
        if k in base and k not in over:
            raise ValueError(f"{k} needs an explicit expectation")
    fields.update(over)
    return fields


# ---------------------------------------------------------------- the corpus
def build() -> None:
    # 01: the CASE_EMAIL.md example, verbatim.
    body01 = """Case ID: UM-2026-004512
Review Type: Prospective (pre-service)
Urgency: Expedited
Received: 11/29/2026 7:50 AM ET
Client: Example Health Plan - Commercial
Member: Jane Q. Doe    DOB: 03/04/1961    Member ID: EHP123456789
Requesting Provider: Alan Smith, MD (Orthopedic Surgery)
Provider Phone: (555) 201-3344   NPI: 1234567890
Diagnosis: M54.16 Radiculopathy, lumbar region
Requested Service: CPT 72148 MRI lumbar spine without contrast x1
Guideline: MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine

Clinical Summary:
64F with 3 weeks of low back pain radiating to the left leg. No red flags
documented. NSAIDs x 2 weeks. No physical therapy yet.

Criteria Met:
- Radicular pain

Criteria Not Met:
- 6 weeks of conservative therapy
- Progressive neurologic deficit

Nurse Assessment:
Request does not meet MCG criteria: conservative therapy under 6 weeks and
no red-flag findings documented.

Nurse Recommendation: Deny - conservative management not yet tried for 6 weeks
Question for Physician: Do you agree imaging is not yet indicated?
Nurse Reviewer: Maria Lopez, RN

Please respond within 2 hours.
"""
    for f, a in [("case_id", "Case ID"), ("review_type", "Review Type"), ("urgency", "Urgency"),
                 ("received_at", "Received"), ("client", "Client"), ("member_name", "Member"),
                 ("member_dob", "DOB"), ("member_id", "Member ID"),
                 ("requesting_provider", "Requesting Provider"),
                 ("provider_phone", "Provider Phone"), ("provider_npi", "NPI"),
                 ("diagnosis", "Diagnosis"), ("service", "Requested Service"),
                 ("guideline", "Guideline"), ("clinical_summary", "Clinical Summary"),
                 ("criteria_met", "Criteria Met"), ("criteria_not_met", "Criteria Not Met"),
                 ("nurse_assessment", "Nurse Assessment"),
                 ("nurse_recommendation", "Nurse Recommendation"),
                 ("question", "Question for Physician"), ("nurse_name", "Nurse Reviewer")]:
        ALIASES_USED.add((f, a))
    h01 = std("Maria Lopez RN <mlopez@reviews.example-um.com>",
              "UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine",
              "<case-004512.1@reviews.example-um.com>")
    add("01-example-text", headers(h01) + b"\n" + body01.encode(), {
        "kind": "case", "sync": "new",
        "message_id": "<case-004512.1@reviews.example-um.com>",
        "sender": "mlopez@reviews.example-um.com", "sender_name": "Maria Lopez RN",
        "reply_to": None, "date": iso(2026, 11, 29, 8, 14, tz=NY),
        "subject": "UM Review Request - Case #UM-2026-004512 - EXPEDITED - MRI lumbar spine",
        "problems": [], "attachments": [],
        "fields": case_expect({
            "case_id": "UM-2026-004512", "client": "Example Health Plan - Commercial",
            "member_name": "Jane Q. Doe", "member_dob": "03/04/1961",
            "member_id": "EHP123456789",
            "requesting_provider": "Alan Smith, MD (Orthopedic Surgery)",
            "provider_phone": "(555) 201-3344", "provider_npi": "1234567890",
            "diagnosis": "M54.16 Radiculopathy, lumbar region",
            "service": "CPT 72148 MRI lumbar spine without contrast x1",
            "guideline": "MCG A-0317 Magnetic Resonance Imaging, Lumbar Spine",
            "clinical_summary": "64F with 3 weeks of low back pain radiating to the left leg. "
                                "No red flags\ndocumented. NSAIDs x 2 weeks. No physical "
                                "therapy yet.",
            "criteria_met": "- Radicular pain",
            "criteria_not_met": "- 6 weeks of conservative therapy\n- Progressive neurologic "
                                "deficit",
            "nurse_assessment": "Request does not meet MCG criteria: conservative therapy "
                                "under 6 weeks and\nno red-flag findings documented.",
            "nurse_recommendation_text": "conservative management not yet tried for 6 weeks",
            "question": "Do you agree imaging is not yet indicated?",
            "nurse_name": "Maria Lopez, RN",
        }, review_type="prospective", urgency="urgent",
            received_at=iso(2026, 11, 29, 7, 50, tz=NY), nurse_recommendation="deny"),
    })

    # 02: a second company's template (Acme UM), concurrent inpatient stay, CT zone.
    text02, exp02 = lines(
        ("case_id", "Case Number", "ACM-88120"),
        ("review_type", "Type of Review", "Concurrent - continued stay"),
        ("urgency", "Priority", "Urgent"),
        ("received_at", "Date Received", "2026-11-29 09:05"),
        ("due_at", "Decision Due", "11/29/2026 5:00 PM CT"),
        ("client", "Health Plan", "Example Medicaid Managed Care"),
        [("member_name", "Patient Name", "Robert T. Example"),
         ("member_dob", "Date of Birth", "1950-02-14"),
         ("member_id", "Subscriber ID", "MCD-55501234")],
        ("requesting_provider", "Attending", "Priya Raman, MD (Hospitalist)"),
        [("provider_phone", "Office Phone", "555-310-7788"), ("provider_npi", "NPI", "1098765432")],
        ("facility", "Facility", "Example General Hospital"),
        ("diagnosis", "Diagnosis Code(s)", "J18.9 Pneumonia, unspecified organism"),
        ("service", "Procedure", "Inpatient acute care, 3 additional days"),
        ("dates_of_service", "Admit Date", "11/26/2026"),
        ("guideline", "InterQual", "2026 Acute Adult, Pneumonia subset"),
        ("clinical_summary", "Clinical Information",
         "76M admitted with CAP. Day 3: still on 4 L O2, febrile overnight.\n"
         "IV ceftriaxone and azithromycin continue."),
        ("criteria_met", "Criteria Met", "* O2 requirement above baseline\n* IV antibiotics"),
        ("criteria_unmet_placeholder", "Criteria Unmet", "- none"),
        ("nurse_assessment", "RN Assessment", "Continued stay criteria met for day 3."),
        ("nurse_recommendation", "RN Recommendation",
         "Approve 3 additional days; reassess on day 6"),
        ("nurse_name", "Case Manager", "Tom Baker, RN, CCM"),
        ("question", "Physician Question", "Agree with continued stay through 12/01?"),
    )
    ALIASES_USED.discard(("criteria_unmet_placeholder", "Criteria Unmet"))
    ALIASES_USED.add(("criteria_not_met", "Criteria Unmet"))
    exp02["criteria_not_met"] = exp02.pop("criteria_unmet_placeholder")
    exp02["guideline"] = "InterQual 2026 Acute Adult, Pneumonia subset"
    add("02-acme-concurrent", headers(std(
        "Tom Baker <tbaker@acme.example-um.com>",
        "Acme UM | Concurrent Review ACM-88120 | URGENT", "<acm-88120.a@acme.example-um.com>",
        date="Sun, 29 Nov 2026 09:10:00 -0600")) + b"\n" + text02.encode(), {
        "kind": "case", "sync": "new", "sender": "tbaker@acme.example-um.com",
        "sender_name": "Tom Baker", "date": iso(2026, 11, 29, 9, 10, tz=CHI), "problems": [],
        "attachments": [],
        "fields": case_expect(exp02, review_type="concurrent", urgency="urgent",
                              received_at=iso(2026, 11, 29, 9, 5, tz=NY),
                              due_at=iso(2026, 11, 29, 17, 0, tz=CHI),
                              nurse_recommendation="approve",
                              nurse_recommendation_text="3 additional days; reassess on day 6"),
    })

    # 03: subject carries the ref and urgency ([Physician Review] template), body lacks both.
    text03, exp03 = lines(
        ("review_type", "Review", "Concurrent"),
        ("received_at", "Received Date", "Nov 29, 2026 08:14 EST"),
        ("client", "Payer", "Example Commercial PPO"),
        [("member_name", "Claimant", "Lee, Dana"), ("member_id", "ID #", "XPC-0042-77")],
        ("requesting_provider", "Treating Provider", "Omar Haddad, MD (Psychiatry)"),
        ("provider_phone", "Callback", "555-404-1200 ext 12"),
        ("facility", "Servicing Facility", "Example Behavioral Health Center"),
        ("diagnosis", "Dx", "F33.2 Major depressive disorder, recurrent severe"),
        ("service", "Service Requested", "Inpatient psychiatric, 4 more days"),
        ("dates_of_service", "DOS", "11/26/2026 - 12/02/2026"),
        ("guideline", "Criteria", "Plan medical policy BH-12"),
        ("clinical_summary", "History", "Admitted 11/26 with SI and plan. Improving mood, "
                                        "still passive SI.\n\nMedication titration ongoing."),
        ("nurse_assessment", "Assessment", "Meets continued stay criteria through day 5."),
        ("nurse_recommendation", "Recommendation", "Pend: awaiting updated psych notes"),
        ("nurse_name", "RN", "Kim Park"),
        ("question", "Question", "Should additional days be approved now or after notes?"),
    )
    h03 = std("Kim Park <kpark@intake.example-um.com>",
              "[Physician Review] Ref 88231-B | Standard | Inpatient concurrent day 3",
              "<88231-B.1@intake.example-um.com>", date="Sun, 29 Nov 2026 13:20:00 +0000")
    exp03_full = {
        "kind": "case", "sync": "new", "date": iso(2026, 11, 29, 13, 20, tz=UTC),
        "problems": [], "attachments": [],
        "fields": case_expect(exp03, case_id="88231-B", review_type="concurrent",
                              urgency="standard", received_at=iso(2026, 11, 29, 8, 14, tz=NY),
                              nurse_recommendation="pend",
                              nurse_recommendation_text="awaiting updated psych notes"),
    }
    add("03-subject-ref", headers(h03) + b"\n" + text03.encode(), exp03_full)

    # 04: HTML only, a two-column table (Northwind Review Services), retrospective.
    rows04 = [
        ("case_id", "Review ID", "NW-2026-7781"),
        ("review_type", "Review Type", "Retrospective"),
        ("urgency", "Timeframe", "Routine"),
        ("received_at", "Request Received", "29 Nov 2026"),
        ("due_at", "Response Due", "12/04/2026 5:00 PM PT"),
        ("client", "Line of Business", "Medicare Advantage"),
        ("member_name", "Member Name", "Grace H. Sample"),
        ("member_dob", "DOB", "07/22/1944"),
        ("member_id", "Member ID", "MA9988776"),
        ("requesting_provider", "Requesting Physician", "Lena Ortiz, DO (Cardiology)"),
        ("provider_phone", "Contact Phone", "(555) 777-0101"),
        ("provider_npi", "NPI", "1487654321"),
        ("facility", "Site of Service", "Example Heart Institute (outpatient)"),
        ("diagnosis", "ICD-10", "I48.91 Atrial fibrillation"),
        ("service", "HCPCS", "E0617 External ECG monitor, 30 days"),
        ("dates_of_service", "Service Date", "10/02/2026"),
        ("guideline", "Policy", "LCD L34636 Ambulatory ECG Monitoring"),
        ("clinical_summary", "Summary", "Palpitations with two syncopal episodes; Holter "
                                        "non-diagnostic."),
        ("nurse_assessment", "Nurse Review", "Meets LCD indications after a non-diagnostic "
                                             "Holter."),
        ("nurse_recommendation", "Preliminary Recommendation", "Approve"),
        ("nurse_name", "Reviewed By", "Sam Rivera, RN"),
    ]
    for f, a, _v in rows04:
        ALIASES_USED.add((f, a))
    trs = "\n".join(f"<tr><td><b>{a}</b></td><td>{v.replace('&', '&amp;')}</td></tr>"
                    for _f, a, v in rows04)
    html04 = (f"<html><head><style>td {{padding: 2px}}</style></head><body>"
              f"<p>Please review the following retrospective case.</p>\n"
              f"<table border=1>\n{trs}\n</table><p>Thank you &amp; regards,<br>Northwind</p>"
              f"</body></html>\n")
    exp04 = {f: v for f, _a, v in rows04}
    exp04["diagnosis"] = "ICD-10 I48.91 Atrial fibrillation"
    exp04["service"] = "HCPCS E0617 External ECG monitor, 30 days"
    add("04-html-table", single(std("Northwind Reviews <cases@northwind.example-um.com>",
                                    "Retro review NW-2026-7781",
                                    "<nw7781@northwind.example-um.com>"),
                                html04, ctype="text/html", cte="quoted-printable"), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp04, review_type="retrospective", urgency="standard",
                              received_at=iso(2026, 11, 29, 0, 0, tz=NY),
                              due_at=iso(2026, 12, 4, 17, 0, tz=LA),
                              nurse_recommendation="approve", nurse_recommendation_text=None),
    })

    # 05: HTML only, <b>Label:</b> value lines, base64, prior auth, numeric offsets + UTC.
    rows05 = [
        ("case_id", "Authorization Number", "PA-300417"),
        ("review_type", "Review Type", "Prior Auth"),
        ("urgency", "Expedited", "Yes"),
        ("received_at", "Received", "2026-11-29T10:30:00-05:00"),
        ("due_at", "TAT Due", "2026-11-30 10:30 UTC"),
        ("client", "LOB", "Example Exchange Silver"),
        ("member_name", "Patient", "Chris Example"),
        ("member_dob", "DOB", "12/01/1988"),
        ("member_id", "Member ID", "EXS-112233"),
        ("requesting_provider", "Ordering Provider", "Nia Brooks, PT"),
        ("provider_phone", "Provider Phone", "555-909-2222"),
        ("provider_npi", "NPI", "1567890123"),
        ("facility", "Servicing Provider", "Example Physical Therapy LLC"),
        ("diagnosis", "Diagnosis", "S83.511A ACL sprain, right knee"),
        ("service", "CPT", "97110 Therapeutic exercise, 12 visits"),
        ("dates_of_service", "Dates of Service", "12/01/2026 - 01/31/2027"),
        ("guideline", "Criteria Used", "Plan PT policy PT-004"),
        ("clinical_summary", "Clinical", "Post ACL reconstruction 10/30/2026."),
        ("nurse_assessment", "Nurse Assessment", "Meets criteria for 8 of 12 visits."),
        ("nurse_recommendation", "Nurse Recommendation", "Partial approval - 8 visits"),
        ("nurse_name", "Nurse", "Pat Quinn, RN"),
        ("question", "Question for Physician", "Approve 8 visits now?"),
    ]
    for f, a, _v in rows05:
        ALIASES_USED.add((f, a))
    html05 = ("<html><body><div>\n" + "\n".join(f"<b>{a}:</b> {v}<br>" for _f, a, v in rows05)
              + "\n</div><p>Sent from the Example UM portal</p></body></html>\n")
    exp05 = {f: v for f, _a, v in rows05}
    exp05["service"] = "CPT 97110 Therapeutic exercise, 12 visits"
    add("05-html-bold-lines", single(std("Pat Quinn <pquinn@portal.example-um.com>",
                                         "Prior authorization request PA-300417",
                                         "<pa300417@portal.example-um.com>"),
                                     html05, ctype="text/html", cte="base64"), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp05, review_type="prospective", urgency="urgent",
                              received_at=iso(2026, 11, 29, 10, 30, tz=NY),
                              due_at=iso(2026, 11, 30, 10, 30, tz=UTC),
                              nurse_recommendation="partial",
                              nurse_recommendation_text="8 visits"),
    })

    # 06: PDF packet with a short body: the fields come from the PDF text.
    pdf06_lines = [
        "EXAMPLE UM PARTNERS - PHYSICIAN REVIEW PACKET",
        "Case No: EUP-5521",
        "Review Type: Pre-service",
        "Urgency: STAT",
        "Received: 11/29/2026 6:45 AM MT",
        "Client: Example Employer Plan (ERISA)",
        "Member: Alex M. Testcase",
        "Requesting Provider: Dr. Ravi Shah (Neurosurgery)",
        "Phone: 555-600-1000",
        "Requested Service: CPT 63030 Lumbar laminotomy",
        "Guideline: MCG S-820",
        "Nurse Recommendation: Deny - no imaging of nerve compression",
        "Nurse Reviewer: Jo Adams, RN",
    ]
    ALIASES_USED.update({("case_id", "Case No"), ("provider_phone", "Phone")})
    pdf06 = pdf(pdf06_lines)
    body06 = ("Dr. Reviewer,\n\nThe review packet is attached. Please respond within 2 "
              "hours.\n\nThanks,\nJo\n")
    add("06-pdf-packet", multipart(std("Jo Adams <jadams@partners.example-um.com>",
                                       "Review packet attached",
                                       "<eup5521@partners.example-um.com>"),
                                   [part(body06), attachment("EUP-5521-packet.pdf", pdf06)]), {
        "kind": "case", "sync": "new", "problems": [], "attachments": ["EUP-5521-packet.pdf"],
        "attachment_text_contains": {"EUP-5521-packet.pdf": "Case No: EUP-5521"},
        "fields": case_expect({
            "case_id": "EUP-5521", "client": "Example Employer Plan (ERISA)",
            "member_name": "Alex M. Testcase",
            "requesting_provider": "Dr. Ravi Shah (Neurosurgery)",
            "provider_phone": "555-600-1000", "service": "CPT 63030 Lumbar laminotomy",
            "guideline": "MCG S-820", "nurse_name": "Jo Adams, RN"},
            review_type="prospective", urgency="urgent",
            received_at=iso(2026, 11, 29, 6, 45, tz=DEN), nurse_recommendation="deny",
            nurse_recommendation_text="no imaging of nerve compression"),
    })

    # 07: markdown-bold labels, a "Plan:" sentence inside the clinical summary.
    body07 = """**Case ID:** MD-2026-0091
**Review Type**: Retro (post-service)
## Urgency: Rush
**Received:** 11/28/2026 16:40 PST
**Plan:** Example Health Plan - Medicare
* Member: Oliver Sample
**Date of Birth:** 05/05/1955

**Clinical Summary:**
Knee OA, failed injections.
Plan: continue home exercise program.
Imaging shows bone-on-bone medial compartment.

**Recommendation:** Approved - meets criteria
**RN:** Dee Vo, RN
"""
    ALIASES_USED.update({("client", "Plan"), ("member_dob", "Date of Birth")})
    add("07-markdown-bold", headers(std("Dee Vo <dvo@md.example-um.com>", "Case review",
                                        "<md0091@md.example-um.com>")) + b"\n" + body07.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect({
            "case_id": "MD-2026-0091", "client": "Example Health Plan - Medicare",
            "member_name": "Oliver Sample", "member_dob": "05/05/1955",
            "clinical_summary": "Knee OA, failed injections.\nPlan: continue home exercise "
                                "program.\nImaging shows bone-on-bone medial compartment.",
            "nurse_name": "Dee Vo, RN"},
            review_type="retrospective", urgency="urgent",
            received_at=iso(2026, 11, 28, 16, 40, tz=LA), nurse_recommendation="approve",
            nurse_recommendation_text="meets criteria"),
    })

    # 08: windows-1252, quoted-printable, accented names; date-only due (end of day).
    text08, exp08 = lines(
        ("case_id", "Auth #", "WX-40017"),
        ("urgency", "Urgency", "Standard"),
        ("received_at", "Received", "11/29/2026 8:14 AM EDT"),
        ("due_at", "Due By", "12/01/2026"),
        ("member_name", "Member", "José Muñoz"),
        ("requesting_provider", "Requesting Provider", "François Côté, MD"),
        ("service", "Service", "Sleep study, in-lab (95810)"),
        ("nurse_recommendation", "Nurse Recommendation", "Approve \u2013 meets AASM indications"),
        ("nurse_name", "Nurse Reviewer", "Renée Dubois, RN"),
    )
    add("08-windows-1252-qp", single(std("=?windows-1252?Q?Ren=E9e_Dubois?= "
                                         "<rdubois@wx.example-um.com>",
                                         "Case WX-40017 sleep study",
                                         "<wx40017@wx.example-um.com>"),
                                     text08, charset="windows-1252", cte="quoted-printable"), {
        "kind": "case", "sync": "new", "sender_name": "Renée Dubois", "problems": [],
        "attachments": [],
        "fields": case_expect(exp08, urgency="standard",
                              received_at=iso(2026, 11, 29, 8, 14, tz=NY),
                              due_at=iso(2026, 12, 1, 23, 59, tz=NY),
                              nurse_recommendation="approve",
                              nurse_recommendation_text="meets AASM indications"),
    })

    # 09: iso-8859-1 in base64, accented names, encoded-word subject.
    text09, exp09 = lines(
        ("case_id", "Reference", "LT-2026-118"),
        ("review_type", "Review Type", "Pre-service"),
        ("received_at", "Received", "2026-11-29 07:00 GMT"),
        ("member_name", "Member", "Zoë Ångström"),
        ("requesting_provider", "Requesting Provider", "Inés García, MD"),
        ("service", "Requested Service", "Upper endoscopy"),
        ("nurse_recommendation", "Nurse Recommendation", "Deny; no alarm features"),
        ("nurse_name", "Nurse Reviewer", "Maëlle Roux, RN"),
    )
    add("09-latin1-base64", single(std("Maelle Roux <mroux@latin.example-um.com>",
                                       "=?iso-8859-1?Q?R=E9vision_LT-2026-118?=",
                                       "<lt118@latin.example-um.com>"),
                                   text09, charset="iso-8859-1", cte="base64"), {
        "kind": "case", "sync": "new", "subject": "Révision LT-2026-118", "problems": [],
        "attachments": [],
        "fields": case_expect(exp09, review_type="prospective",
                              received_at=iso(2026, 11, 29, 7, 0, tz=UTC),
                              nurse_recommendation="deny",
                              nurse_recommendation_text="no alarm features"),
    })

    # 10: dense multi-field lines (tabs and runs of spaces).
    body10 = ("Case #: MF-77001\tType of Review: Prospective\tPriority: Routine\n"
              "Received: Nov 29, 2026 10:00 CST    Return By: Dec 2, 2026 10:00 CST\n"
              "Patient: Ann Example    DOB: 01/02/1970    ID #: AE-1\n"
              "Ordering Provider: Bo Lin, MD  Phone: 555-111-2222  NPI: 1222333444\n"
              "Diagnosis: R51.9 Headache\tProcedure: 70553 MRI brain w/wo contrast\n"
              "Nurse Recommendation: pending peer review\n")
    ALIASES_USED.update({("case_id", "Case #"), ("due_at", "Return By"),
                         ("member_name", "Patient")})
    add("10-multi-field-lines", headers(std("Bo Intake <intake@mf.example-um.com>",
                                            "Review request", "<mf77001@mf.example-um.com>"))
        + b"\n" + body10.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect({
            "case_id": "MF-77001", "member_name": "Ann Example", "member_dob": "01/02/1970",
            "member_id": "AE-1", "requesting_provider": "Bo Lin, MD",
            "provider_phone": "555-111-2222", "provider_npi": "1222333444",
            "diagnosis": "R51.9 Headache", "service": "70553 MRI brain w/wo contrast"},
            review_type="prospective", urgency="standard",
            received_at=iso(2026, 11, 29, 10, 0, tz=CHI),
            due_at=iso(2026, 12, 2, 10, 0, tz=CHI), nurse_recommendation="pend",
            nurse_recommendation_text="peer review"),
    })

    # 11: case ID and urgency only in the subject.
    text11, exp11 = lines(
        ("review_type", "Review Type", "Prospective"),
        ("received_at", "Received", "11/29/2026 08:30 MST"),
        ("member_name", "Member", "Ivy Example"),
        ("service", "Requested Service", "PT evaluation"),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
    )
    add("11-subject-only-id", headers(std(
        "Maria Lopez RN <mlopez@reviews.example-um.com>",
        "UM Review Request - Case #UM-2026-004600 - Standard - PT eval",
        "<case-004600.1@reviews.example-um.com>")) + b"\n" + text11.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp11, case_id="UM-2026-004600", review_type="prospective",
                              urgency="standard", received_at=iso(2026, 11, 29, 8, 30, tz=DEN),
                              nurse_recommendation="approve"),
    })

    # 12: Reply-To differs from From; CDT/PDT zones in summer; Date Received alias reused.
    text12, exp12 = lines(
        ("case_id", "Case ID", "RT-2026-0700"),
        ("review_type", "Review Type", "Retrospective"),
        ("received_at", "Received", "07/15/2026 9:00 AM CDT"),
        ("due_at", "Due", "07/20/2026 5:00 PM PDT"),
        ("member_name", "Member", "Sol Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Deny - not medically necessary"),
    )
    add("12-reply-to-differs", headers(std(
        "Nina Cole RN <ncole@rt.example-um.com>", "Case RT-2026-0700",
        "<rt0700@rt.example-um.com>", date="Wed, 15 Jul 2026 09:05:00 -0500",
        extra=[("Reply-To", "UM Intake <UM-Intake@rt.example-um.com>")])) + b"\n"
        + text12.encode(), {
        "kind": "case", "sync": "new", "reply_to": "um-intake@rt.example-um.com",
        "sender": "ncole@rt.example-um.com", "sender_name": "Nina Cole RN", "problems": [],
        "attachments": [],
        "fields": case_expect(exp12, review_type="retrospective",
                              received_at=iso(2026, 7, 15, 9, 0, tz=CHI),
                              due_at=iso(2026, 7, 20, 17, 0, tz=LA),
                              nurse_recommendation="deny",
                              nurse_recommendation_text="not medically necessary"),
    })

    # 13: looks like a case, no case ID anywhere.
    text13, exp13 = lines(
        ("review_type", "Review Type", "Prospective"),
        ("member_name", "Member Name", "Una Example"),
        ("service", "Requested Service", "Knee brace L1833"),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
    )
    add("13-no-case-id", headers(std("Ops <ops@noid.example-um.com>", "New review request",
                                     "<noid1@noid.example-um.com>")) + b"\n" + text13.encode(), {
        "kind": "case", "sync": "new", "problems": ["case_id: not found"], "attachments": [],
        "fields": case_expect(exp13, review_type="prospective", nurse_recommendation="approve"),
    })

    # 14: unreadable received date.
    text14, exp14 = lines(
        ("case_id", "Case ID", "BD-2026-0014"),
        ("received_at", "Received", "31/31/2026"),
        ("member_name", "Member", "Vic Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Deny - duplicate request"),
    )
    add("14-unreadable-date", headers(std("Bad Date <bd@bd.example-um.com>",
                                          "Case BD-2026-0014", "<bd14@bd.example-um.com>"))
        + b"\n" + text14.encode(), {
        "kind": "case", "sync": "new",
        "problems": ["received_at: unreadable date '31/31/2026'"], "attachments": [],
        "fields": case_expect(exp14, received_at=None, nurse_recommendation="deny",
                              nurse_recommendation_text="duplicate request"),
    })

    # 15: recommendation names no outcome.
    text15, exp15 = lines(
        ("case_id", "Case ID", "NR-2026-0015"),
        ("member_name", "Member", "Wes Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Refer to physician for determination"),
    )
    add("15-recommendation-no-outcome", headers(std("Nurse <n@nr.example-um.com>",
                                                    "Case NR-2026-0015",
                                                    "<nr15@nr.example-um.com>"))
        + b"\n" + text15.encode(), {
        "kind": "case", "sync": "new", "problems": ["nurse_recommendation: names no outcome"],
        "attachments": [],
        "fields": case_expect(exp15, nurse_recommendation="unknown",
                              nurse_recommendation_text="Refer to physician for determination"),
    })

    # 16-18: the remaining date formats and zones.
    text16, exp16 = lines(
        ("case_id", "Case ID", "DZ-2026-0016"),
        ("received_at", "Received", "Sunday, November 29, 2026 at 8:14 AM ET"),
        ("due_at", "Due", "2026-11-30 08:14 -0800"),
        ("member_name", "Member", "Xia Example"),
    )
    add("16-dates-long-form", headers(std("D <d@dz.example-um.com>", "Case DZ-2026-0016",
                                          "<dz16@dz.example-um.com>")) + b"\n" + text16.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp16, received_at=iso(2026, 11, 29, 8, 14, tz=NY),
                              due_at="2026-11-30T08:14:00-08:00"),
    })
    text17, exp17 = lines(
        ("case_id", "Case ID", "DZ-2026-0017"),
        ("received_at", "Received", "2026-06-01 14:00 MDT"),
        ("due_at", "Due", "06/02/2026 2:00 PM MT"),
        ("member_name", "Member", "Yan Example"),
    )
    add("17-dates-mountain", headers(std("D <d@dz.example-um.com>", "Case DZ-2026-0017",
                                         "<dz17@dz.example-um.com>")) + b"\n" + text17.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp17, received_at=iso(2026, 6, 1, 14, 0, tz=DEN),
                              due_at=iso(2026, 6, 2, 14, 0, tz=DEN)),
    })
    text18, exp18 = lines(
        ("case_id", "Case ID", "DZ-2026-0018"),
        ("received_at", "Received", "29-Nov-2026 13:00 UTC+05:30"),
        ("due_at", "Due", "Dec 1, 2026 9 AM PT"),
        ("member_name", "Member", "Zed Example"),
    )
    add("18-dates-offsets", headers(std("D <d@dz.example-um.com>", "Case DZ-2026-0018",
                                        "<dz18@dz.example-um.com>")) + b"\n" + text18.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp18, received_at="2026-11-29T13:00:00+05:30",
                              due_at=iso(2026, 12, 1, 9, 0, tz=LA)),
    })

    # 19-25: not cases.
    add("19-auto-reply", headers(std(
        "Dr. Other <dr.other@example.org>", "Automatic reply: Case UM-2026-004512",
        "<auto1@example.org>", extra=[("Auto-Submitted", "auto-replied"),
                                      ("In-Reply-To", "<case-004512.1@reviews.example-um.com>")]))
        + b"\nI am away until Monday.\n", {
        "kind": "not_case", "reason": "Auto-Submitted", "sync": "not_case",
        "in_reply_to": "<case-004512.1@reviews.example-um.com>"})
    add("20-x-autorespond", headers(std(
        "Help Desk <help@example.com>", "We received your message", "<ar2@example.com>",
        extra=[("X-Autorespond", "yes")])) + b"\nTicket #4411 opened.\n", {
        "kind": "not_case", "reason": "X-Autorespond", "sync": "not_case"})
    add("21-precedence-auto-reply", headers(std(
        "Member Services <ms@example.com>", "Re: inquiry", "<ar3@example.com>",
        extra=[("Precedence", "auto_reply")])) + b"\nThanks for writing.\n", {
        "kind": "not_case", "reason": "auto_reply", "sync": "not_case"})
    add("22-out-of-office", headers(std(
        "Maria Lopez RN <mlopez@reviews.example-um.com>", "Out of Office: back Dec 1",
        "<ooo4@reviews.example-um.com>", extra=[("X-Autoreply", "yes")]))
        + b"\nI am out of the office until December 1.\n", {
        "kind": "not_case", "reason": "auto-reply", "sync": "not_case"})
    add("23-out-of-office-subject-only", headers(std(
        "Kim Park <kpark@intake.example-um.com>", "Out of office - Kim Park",
        "<ooo5@intake.example-um.com>"))
        + b"\nI will be away from the office with limited email.\n", {
        "kind": "not_case", "reason": "out-of-office", "sync": "not_case"})
    report = multipart(
        std("Mail Delivery System <MAILER-DAEMON@mx.example.org>",
            "Undelivered Mail Returned to Sender", "<bounce6@mx.example.org>"),
        [part("This is the mail system. Your message could not be delivered.\n", cte="7bit"),
         b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
         b"Final-Recipient: rfc822; nobody@example.com\nAction: failed\nStatus: 5.1.1\n",
         b"Content-Type: text/rfc822-headers\n\nSubject: Re: Case UM-2026-004512\n"],
        subtype="report", boundary="=_bounce", extra_ct="; report-type=delivery-status")
    add("24-bounce-report", report, {
        "kind": "not_case", "reason": "multipart/report", "sync": "not_case",
        "sender": "mailer-daemon@mx.example.org"})
    add("25-bounce-postmaster", headers(std(
        "postmaster@relay.example.com", "Delivery failure", "<bounce7@relay.example.com>"))
        + b"\nCase ID: UM-2026-004512 could not be delivered to nobody@example.com\n", {
        "kind": "not_case", "reason": "delivery failure", "sync": "not_case"})
    add("26-newsletter", single(std(
        "UM Weekly <news@news.example.com>", "UM Weekly: 5 changes to prior auth in 2026",
        "<nl8@news.example.com>", extra=[("List-Unsubscribe", "<https://news.example.com/u>"),
                                         ("Precedence", "bulk")]),
        "<html><body><h1>UM Weekly</h1><p>Summary: CMS-0057-F brings 72 hour decisions.</p>"
        "<p>Read more at https://news.example.com/</p></body></html>\n", ctype="text/html"), {
        "kind": "not_case", "reason": "newsletter", "sync": "not_case"})

    # 27-29: quarantine.
    add("27-broken-mime", headers(std("X <x@broken.example-um.com>", "Case BR-1",
                                      "<br1@broken.example-um.com>",
                                      extra=[("MIME-Version", "1.0"),
                                             ("Content-Type", "multipart/mixed")]))
        + b"\n--zzz\nContent-Type: text/plain\n\nCase ID: BR-1\n--zzz--\n", {
        "kind": "quarantine", "reason": "broken MIME", "sync": "quarantined",
        "message_id": "<br1@broken.example-um.com>"})
    add("28-undecodable-base64", headers(std("X <x@broken.example-um.com>", "Case BR-2",
                                             "<br2@broken.example-um.com>",
                                             extra=[("MIME-Version", "1.0"),
                                                    ("Content-Type", "text/plain; charset=utf-8"),
                                                    ("Content-Transfer-Encoding", "base64")]))
        + b"\n!!!! ???? **** not base64 at all ~~~~\n", {
        "kind": "quarantine", "reason": "undecodable body", "sync": "quarantined"})
    add("29-binary-text-part", headers(std("X <x@broken.example-um.com>", "Case BR-3",
                                           "<br3@broken.example-um.com>",
                                           extra=[("MIME-Version", "1.0"),
                                                  ("Content-Type", "text/plain; charset=utf-8")]))
        + b"\n" + bytes(range(0, 32)) * 8 + b"\n", {
        "kind": "quarantine", "reason": "undecodable body", "sync": "quarantined"})

    # 30: Auto-Submitted: no is a real case (a UM system that sets the header honestly).
    text30, exp30 = lines(
        ("case_id", "Case ID", "AS-2026-0030"),
        ("urgency", "Urgency", "Non-urgent"),
        ("member_name", "Member", "Abe Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
    )
    add("30-auto-submitted-no", headers(std("System <noreply@as.example-um.com>",
                                            "Case AS-2026-0030", "<as30@as.example-um.com>",
                                            extra=[("Auto-Submitted", "no")]))
        + b"\n" + text30.encode(), {
        "kind": "case", "sync": "new", "problems": [], "attachments": [],
        "fields": case_expect(exp30, urgency="standard", nurse_recommendation="approve"),
    })

    # 31-37: follow-ups, duplicates, threads.
    notes = pdf(["Progress notes 11/29/2026", "PT visits: 4 completed", "Pain 6/10"])
    body31 = ("Additional records attached (PT notes).\n\nMaria\n\n"
              "On Sun, Nov 29, 2026 at 8:14 AM Maria Lopez wrote:\n"
              "> Case ID: UM-2026-004512\n> Urgency: Expedited\n")
    add("31-followup-in-reply-to", multipart(std(
        "Maria Lopez RN <mlopez@reviews.example-um.com>",
        "RE: Case UM-2026-004512 - additional records", "<case-004512.2@reviews.example-um.com>",
        date="Sun, 29 Nov 2026 09:02:00 -0500",
        extra=[("In-Reply-To", "<case-004512.1@reviews.example-um.com>"),
               ("References", "<case-004512.1@reviews.example-um.com>")]),
        [part(body31), attachment("pt-notes.pdf", notes)]), {
        "kind": "case", "sync": "updated", "update_of": "01-example-text",
        "in_reply_to": "<case-004512.1@reviews.example-um.com>",
        "references": ["<case-004512.1@reviews.example-um.com>"], "problems": [],
        "attachments": ["pt-notes.pdf"],
        "attachment_text_contains": {"pt-notes.pdf": "PT visits: 4 completed"},
        "fields": case_expect({"case_id": "UM-2026-004512"}),
    })
    text32, exp32 = lines(("case_id", "Case ID", "UM-2026-004512"),
                          ("due_at", "Due", "11/29/2026 1:00 PM ET"))
    add("32-followup-same-case-id", headers(std(
        "Maria Lopez RN <mlopez@reviews.example-um.com>",
        "Case UM-2026-004512 - updated due time", "<case-004512.3@reviews.example-um.com>",
        date="Sun, 29 Nov 2026 09:30:00 -0500")) + b"\n" + text32.encode(), {
        "kind": "case", "sync": "updated", "update_of": "01-example-text", "problems": [],
        "fields": case_expect(exp32, due_at=iso(2026, 11, 29, 13, 0, tz=NY)),
    })
    raw02 = next(r for n, r, _e in EMAILS if n == "02-acme-concurrent")
    exp02_copy = {k: v for k, v in next(e for n, _r, e in EMAILS
                                        if n == "02-acme-concurrent").items()}
    add("33-duplicate-same-message-id", raw02,
        {**exp02_copy, "sync": "duplicate", "duplicate_of": "02-acme-concurrent"})
    h33 = std("Kim Park <kpark@intake.example-um.com>",
              "[Physician Review] Ref 88231-B | Standard | Inpatient concurrent day 3",
              "<88231-B.resend@intake.example-um.com>", date="Sun, 29 Nov 2026 13:45:00 +0000")
    add("34-duplicate-new-message-id", headers(h33) + b"\n" + text03.encode(), {
        **exp03_full, "date": iso(2026, 11, 29, 13, 45, tz=UTC), "sync": "duplicate",
        "duplicate_of": "03-subject-ref", "message_id": "<88231-B.resend@intake.example-um.com>",
        "same_content_hash_as": "03-subject-ref"})
    add("35-reply-no-case-id", headers(std(
        "Northwind Reviews <cases@northwind.example-um.com>", "Re: your question",
        "<nw7781.r1@northwind.example-um.com>", date="Mon, 30 Nov 2026 10:00:00 -0500",
        extra=[("In-Reply-To", "<reply-to-nw7781@example.org>"),
               ("References", "<nw7781@northwind.example-um.com> <reply-to-nw7781@example.org>")]))
        + b"\nThe Holter report was faxed this morning.\n", {
        "kind": "not_case", "reason": "reply", "sync": "updated", "update_of": "04-html-table",
        "in_reply_to": "<reply-to-nw7781@example.org>",
        "references": ["<nw7781@northwind.example-um.com>", "<reply-to-nw7781@example.org>"]})
    fwd36 = ("FYI, forwarding from the plan.\n\n---------- Forwarded message ---------\n"
             "From: Plan Intake <intake@plan.example.com>\nDate: Sun, Nov 29, 2026\n"
             "Subject: Case CC-2026-3610\n\n"
             "Case ID: CC-2026-3610\nUrgency: Expedited\nMember: Bea Example\n"
             "Requested Service: Home oxygen E1390\nNurse Recommendation: Approve\n")
    add("36-forwarded-case", headers(std(
        "Cal Coordinator <cal@coord.example-um.com>", "Fwd: Case CC-2026-3610",
        "<cc3610@coord.example-um.com>")) + b"\n" + fwd36.encode(), {
        "kind": "case", "sync": "new", "problems": [],
        "fields": case_expect({"case_id": "CC-2026-3610", "member_name": "Bea Example",
                               "service": "Home oxygen E1390"}, urgency="urgent",
                              nurse_recommendation="approve"),
    })
    add("37-followup-references-only", multipart(std(
        "Pat Quinn <pquinn@portal.example-um.com>", "Re: Prior authorization request PA-300417",
        "<pa300417.2@portal.example-um.com>", date="Sun, 29 Nov 2026 11:00:00 -0500",
        extra=[("References", "<pa300417@portal.example-um.com>")]),
        [part("Attached: updated operative report.\n"),
         attachment("op-report.txt", b"Operative report: ACL graft intact.\n", "text/plain")]), {
        "kind": "case", "sync": "updated", "update_of": "05-html-bold-lines", "problems": [],
        "attachments": ["op-report.txt"],
        "references": ["<pa300417@portal.example-um.com>"],
        "fields": case_expect({"case_id": "PA-300417"}),
    })

    # 38: CRLF line ends with QP soft line breaks.
    text38, exp38 = lines(
        ("case_id", "Case ID", "CR-2026-0038"),
        ("client", "Client", "Example Health Plan"),
        ("clinical_summary", "Clinical Summary",
         "A deliberately long line that quoted-printable must wrap with soft line breaks so "
         "that the parser sees one line again after decoding it.\nSecond line."),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
    )
    raw38 = single(std("CR <cr@crlf.example-um.com>", "Case CR-2026-0038",
                       "<cr38@crlf.example-um.com>"), text38, cte="quoted-printable")
    add("38-crlf-qp", raw38.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), {
        "kind": "case", "sync": "new", "problems": [],
        "fields": case_expect(exp38, nurse_recommendation="approve"),
    })

    # 39: multipart/alternative: the plain part is used.
    text39, exp39 = lines(
        ("case_id", "Case ID", "AL-2026-0039"),
        ("review_type", "Review Type", "Concurrent"),
        ("member_name", "Member", "Cy Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Deny - discharge ready"),
    )
    add("39-alternative", multipart(std("Al <al@alt.example-um.com>", "Case AL-2026-0039",
                                        "<al39@alt.example-um.com>"),
                                    [part(text39), part(f"<pre>{text39}</pre>", ctype="text/html")],
                                    subtype="alternative"), {
        "kind": "case", "sync": "new", "problems": [], "body_contains": "AL-2026-0039",
        "fields": case_expect(exp39, review_type="concurrent", nurse_recommendation="deny",
                              nurse_recommendation_text="discharge ready"),
    })

    # 40: fields in the body and a clinical PDF; body values win over the PDF's.
    text40, exp40 = lines(
        ("case_id", "Case ID", "PB-2026-0040"),
        ("member_name", "Member", "Di Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
    )
    pdf40 = pdf(["Clinical notes", "Member: Someone Else", "Facility: Example Rehab Center"])
    add("40-body-and-pdf", multipart(std("Pb <pb@pb.example-um.com>", "Case PB-2026-0040",
                                         "<pb40@pb.example-um.com>"),
                                     [part(text40), attachment("clinicals.pdf", pdf40)]), {
        "kind": "case", "sync": "new", "problems": [], "attachments": ["clinicals.pdf"],
        "fields": case_expect({**exp40, "facility": "Example Rehab Center"},
                              nurse_recommendation="approve"),
    })

    # 41: the same case ID as 01 from another company: a different case.
    text41, exp41 = lines(
        ("case_id", "Case ID", "UM-2026-004512"),
        ("member_name", "Member", "Eve Example"),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
    )
    add("41-same-id-other-sender", headers(std("Other UM <cases@other.example-um.com>",
                                               "Case UM-2026-004512",
                                               "<o4512@other.example-um.com>"))
        + b"\n" + text41.encode(), {
        "kind": "case", "sync": "new", "problems": [],
        "fields": case_expect(exp41, nurse_recommendation="approve"),
    })

    # 42: sender-specific aliases from configuration.
    body42 = ("Auth Ref: CF-2026-0042\nPt: Flo Example\nAsk: Is this covered?\n"
              "Nurse Recommendation: Approve\n")
    add("42-configured-aliases", headers(std("Cfg <cfg@cfg.example-um.com>", "New review",
                                             "<cf42@cfg.example-um.com>")) + b"\n"
        + body42.encode(), {
        "kind": "case", "sync": "new", "problems": [],
        "config": {"aliases": {"question": ["Ask"]},
                   "sender": {"cfg.example-um.com": {"case_id": ["Auth Ref"],
                                                     "member_name": ["Pt"]}}},
        "fields": case_expect({"case_id": "CF-2026-0042", "member_name": "Flo Example",
                               "question": "Is this covered?"},
                              nurse_recommendation="approve"),
    })

    # 43: the remaining aliases in one more template (Summit Review), and a Fwd: subject.
    text43, exp43 = lines(
        ("case_id", "Case No", "SR-2026-0043"),
        ("urgency", "Urgency", "Standard"),
        ("received_at", "Received", "2026-11-29 08:00 PT"),
        ("due_at", "Due", "2026-12-03 08:00 PST"),
        ("client", "Client", "Example Plan West"),
        ("member_name", "Member", "Gus Example"),
        ("requesting_provider", "Requesting Provider", "Hal Example, MD"),
        ("facility", "Facility", "Example Surgery Center"),
        ("service", "Service", "Cataract surgery 66984"),
        ("guideline", "MCG", "A-0123 Cataract Surgery"),
        ("clinical_summary", "Clinical Summary", "Visual acuity 20/60 with glare.\n"
                                                 "Cannot drive at night."),
        ("criteria_met", "Criteria Met", "- Functional impairment"),
        ("criteria_not_met", "Criteria Not Met", "- none"),
        ("nurse_assessment", "Nurse Assessment", "Meets criteria."),
        ("nurse_recommendation", "Nurse Recommendation", "Approve"),
        ("nurse_name", "Nurse Reviewer", "Ida Example, RN"),
        ("question", "Question for Physician", "Agree?"),
    )
    exp43["guideline"] = "MCG A-0123 Cataract Surgery"
    add("43-summit-template", headers(std("Summit Review <rn@summit.example-um.com>",
                                          "FW: Summit Review case SR-2026-0043",
                                          "<sr43@summit.example-um.com>")) + b"\n"
        + text43.encode(), {
        "kind": "case", "sync": "new", "problems": [],
        "fields": case_expect(exp43, urgency="standard",
                              received_at=iso(2026, 11, 29, 8, 0, tz=LA),
                              due_at=iso(2026, 12, 3, 8, 0, tz=LA),
                              nurse_recommendation="approve"),
    })

    # 44: plain-text template using the remaining alias spellings.
    body44 = """Review ID: ZZ-2026-0044
Type of Review: prior auth
Timeframe: expedited
Request Received: 11/29/2026 09:00 ET
Decision Due: 11/30/2026 09:00 ET
Health Plan: Example Health Plan
Patient Name: Hank Example
Subscriber ID: SUB-44
Requesting Physician: Ann Doc, MD
Callback: 555-123-0044
Servicing Facility: Example Hospital
ICD-10: K35.80 Acute appendicitis
Service Requested: 44970 Laparoscopic appendectomy
Service Date: 11/29/2026
Criteria: InterQual Procedures 2026
Summary: Acute appendicitis on CT.
Nurse Review: Meets criteria.
RN Recommendation: Approve
Reviewed By: Joy Example, RN
Physician Question: Agree?
"""
    add("44-alias-sweep", headers(std("Zz <zz@zz.example-um.com>", "Review",
                                      "<zz44@zz.example-um.com>"))
        + b"\n" + body44.encode(), {
        "kind": "case", "sync": "new", "problems": [],
        "fields": case_expect({
            "case_id": "ZZ-2026-0044", "client": "Example Health Plan",
            "member_name": "Hank Example", "member_id": "SUB-44",
            "requesting_provider": "Ann Doc, MD", "provider_phone": "555-123-0044",
            "facility": "Example Hospital", "diagnosis": "ICD-10 K35.80 Acute appendicitis",
            "service": "44970 Laparoscopic appendectomy", "dates_of_service": "11/29/2026",
            "guideline": "InterQual Procedures 2026",
            "clinical_summary": "Acute appendicitis on CT.",
            "nurse_assessment": "Meets criteria.", "nurse_name": "Joy Example, RN",
            "question": "Agree?"},
            review_type="prospective", urgency="urgent",
            received_at=iso(2026, 11, 29, 9, 0, tz=NY), due_at=iso(2026, 11, 30, 9, 0, tz=NY),
            nurse_recommendation="approve"),
    })
    # 45: more alias spellings, a Ref label and a Response/TAT style deadline.
    body45 = """Ref: QQ-2026-0045
Review Type: Continued stay
Priority: Stat
Received: 2026-11-29 06:00 EDT
Due By: 2026-11-29 18:00 ET
Payer: Example Payer
Member: Ike Example
Ordering Provider: Jan Doc, MD
Contact Phone: 555-000-0045
Site of Service: Inpatient
Procedure: Inpatient stay
Dates of Service: 11/27/2026 - 11/30/2026
Policy: Plan policy IP-1
History: Sepsis, improving.
Assessment: Meets criteria.
Preliminary Recommendation: Pend - awaiting labs
Case Manager: Kai Example, RN
"""
    add("45-alias-sweep-2", headers(std("Qq <qq@qq.example-um.com>", "Review request",
                                        "<qq45@qq.example-um.com>")) + b"\n" + body45.encode(), {
        "kind": "case", "sync": "new", "problems": [],
        "fields": case_expect({
            "case_id": "QQ-2026-0045", "client": "Example Payer", "member_name": "Ike Example",
            "requesting_provider": "Jan Doc, MD", "provider_phone": "555-000-0045",
            "facility": "Inpatient", "service": "Inpatient stay",
            "dates_of_service": "11/27/2026 - 11/30/2026", "guideline": "Plan policy IP-1",
            "clinical_summary": "Sepsis, improving.", "nurse_assessment": "Meets criteria.",
            "nurse_name": "Kai Example, RN"},
            review_type="concurrent", urgency="urgent",
            received_at=iso(2026, 11, 29, 6, 0, tz=NY), due_at=iso(2026, 11, 29, 18, 0, tz=NY),
            nurse_recommendation="pend", nurse_recommendation_text="awaiting labs"),
    })


def main() -> None:
    build()
    missing = [(f, a) for f, aliases in _aliases().items() for a in aliases
               if (f, a) not in ALIASES_USED and not _used_in_text(a)]
    if missing:
        print("aliases never used:", missing, file=sys.stderr)
    for old in HERE.glob("[0-9][0-9]-*"):
        old.unlink()
    for name, raw, expect in EMAILS:
        (HERE / f"{name}.eml").write_bytes(raw)
        (HERE / f"{name}.json").write_text(json.dumps(expect, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    print(f"wrote {len(EMAILS)} emails")


def _aliases() -> dict[str, tuple[str, ...]]:
    sys.path.insert(0, str(HERE.parent.parent))
    from uq.mail.labels import FIELD_ALIASES

    return FIELD_ALIASES


def _used_in_text(alias: str) -> bool:
    needle = f"\n{alias}:".encode()
    return any(needle in b"\n" + raw or f"**{alias}:**".encode() in raw
               or f"<b>{alias}" in raw.decode("latin-1") or f"\t{alias}:".encode() in raw
               or f"  {alias}:".encode() in raw for _n, raw, _e in EMAILS)


if __name__ == "__main__":
    main()
