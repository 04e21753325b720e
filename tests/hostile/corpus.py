"""The hostile corpus: emails built to break, stall or bloat intake, each with what a sync
must make of it. Built in memory (some are megabytes), deterministic, synthetic data only.

Add a kind: write a function returning a `Hostile` and decorate it with `@hostile`. Each
hostile email is followed by a valid case in `corpus()`, so a test can check that nothing
after a bad email is lost. `sync` is the raw message's kind after `uq sync --once`
(new | updated | duplicate | not_case | quarantined; a new category is a new string).

    python tests/hostile/corpus.py DIR     # writes DIR/NN-name.eml to look at them
"""

from __future__ import annotations

import base64
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SENDER = "nurse@hostile.example-um.com"
DATE = "Sun, 29 Nov 2026 08:14:00 -0500"


@dataclass(frozen=True)
class Hostile:
    name: str
    raw: bytes
    sync: str  # the raw message's kind after a sync
    reason: str = ""  # a substring of the quarantine / not-case reason
    problem: str = ""  # a substring of one of the case's problems
    case_id: str = ""  # the case a new/updated message lands in
    sender: str = ""  # what a quarantine row must still show
    subject: str = ""


HOSTILE: list[Callable[[], Hostile | list[Hostile]]] = []


def hostile(fn: Callable[[], Hostile | list[Hostile]]) -> Callable[[], Hostile | list[Hostile]]:
    HOSTILE.append(fn)
    return fn


# ---------------------------------------------------------------- building blocks
def head(subject: str, msgid: str, *, frm: str = f"Nurse Example <{SENDER}>", date: str = DATE,
         extra: str = "") -> bytes:
    return (f"From: {frm}\nTo: dr.reviewer@example.org\nSubject: {subject}\nDate: {date}\n"
            f"Message-ID: <{msgid}@hostile.example-um.com>\n{extra}").encode()


def fields(case_id: str, *, received: str = "11/29/2026 7:50 AM ET", extra: str = "") -> str:
    return (f"Case ID: {case_id}\nReview Type: Prospective\nUrgency: Standard\n"
            f"Received: {received}\nMember: Pat Example\nRequested Service: CPT 72148 MRI lumbar\n"
            f"Nurse Recommendation: Approve - meets criteria\n{extra}")


def plain(case_id: str, body: bytes | str, *, subject: str | None = None, charset: str = "utf-8",
          cte: str = "8bit", extra: str = "") -> bytes:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return (head(subject or f"UM Review Request - Case {case_id}", case_id.lower(), extra=extra)
            + f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
              f"Content-Transfer-Encoding: {cte}\n\n".encode() + data)


def with_parts(case_id: str, body: str, parts: list[bytes], *, subject: str | None = None,
               boundary: str = "=_hostile_b") -> bytes:
    out = head(subject or f"Review packet - Case {case_id}", case_id.lower())
    out += f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode()
    out += f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n".encode()
    for p in parts:
        out += f"--{boundary}\n".encode() + p + b"\n"
    return out + f"--{boundary}--\n".encode()


def pdf_part(data: bytes, name: str = "packet.pdf") -> bytes:
    return (f'Content-Type: application/pdf; name="{name}"\nContent-Transfer-Encoding: base64\n'
            f'Content-Disposition: attachment; filename="{name}"\n\n').encode() + base64.encodebytes(data)


def pdf(pages: list[bytes], *, tounicode: dict[str, str] | None = None, compress: bool = False) -> bytes:
    """A PDF whose pages have the given content streams; `tounicode` maps a byte (hex) of
    the font to the UTF-16 code units (hex) pypdf must report for it."""
    font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    if tounicode:
        font = font[:-2] + f" /ToUnicode {4 + 2 * n} 0 R >>"
    objs.append(font.encode())
    for i, content in enumerate(pages):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * i} 0 R "
                    "/Resources << /Font << /F1 3 0 R >> >> >>".encode())
        data, filt = (zlib.compress(content), b" /Filter /FlateDecode") if compress else (content, b"")
        objs.append(b"<< /Length %d%s >>\nstream\n" % (len(data), filt) + data + b"\nendstream")
    if tounicode:
        cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def "
                "1 begincodespacerange <00> <FF> endcodespacerange "
                f"{len(tounicode)} beginbfchar "
                + " ".join(f"<{a}> <{b}>" for a, b in tounicode.items())
                + " endbfchar endcmap CMapName currentdict /CMap defineresource pop end end").encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_page(lines: list[str]) -> bytes:
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    return ("BT /F1 10 Tf 12 TL 50 750 Td " + " ".join(f"({esc(x)}) Tj T*" for x in lines) + " ET"
            ).encode("latin-1")


def valid(n: int) -> Hostile:
    """The valid case sent after a hostile email: it must always arrive."""
    cid = f"VALID-{n:04d}"
    return Hostile(f"valid-{n:04d}", plain(cid, fields(cid)), "new", case_id=cid)


# ---------------------------------------------------------------- charsets and surrogates
@hostile
def utf7_lone_surrogate() -> Hostile:
    cid = "H-UTF7"
    return Hostile("utf7-lone-surrogate", plain(cid, fields(cid, extra="Note: +2AA- end\n").encode("ascii"),
                                                charset="utf-7"), "new", case_id=cid)


@hostile
def unicode_escape_charset() -> Hostile:
    cid = "H-UESC"
    return Hostile("unicode-escape-charset", plain(cid, fields(cid, extra="Note: \\ud800 \\x00 end\n"),
                                                   charset="unicode-escape"), "new", case_id=cid)


@hostile
def unknown_charset() -> Hostile:
    cid = "H-NOCS"
    return Hostile("unknown-charset", plain(cid, fields(cid), charset="x-no-such-charset"), "new", case_id=cid)


@hostile
def punycode_charset() -> Hostile:
    cid = "H-PUNY"
    return Hostile("punycode-charset", plain(cid, fields(cid) + "-" * 5000 + "\n", charset="punycode"),
                   "new", case_id=cid)


@hostile
def utf16_mislabelled() -> Hostile:
    cid = "H-U16"
    return Hostile("utf16-mislabelled", plain(cid, fields(cid).encode("utf-8"), charset="utf-16"), "new",
                   case_id=cid)


@hostile
def latin1_as_utf8() -> Hostile:
    cid = "H-LAT1"
    body = fields(cid, extra="Clinical Summary: r\xe9sum\xe9 na\xefve\n").encode("latin-1")
    return Hostile("latin1-labelled-utf8", plain(cid, body), "new", case_id=cid)


@hostile
def encoded_word_surrogate_subject() -> Hostile:
    cid = "H-EWSUR"
    return Hostile("encoded-word-surrogate-subject",
                   plain(cid, fields(cid), subject=f"=?utf-7?Q?+2AA-?= Case {cid} =?unicode-escape?Q?=5Cud800?="),
                   "new", case_id=cid)


@hostile
def raw_8bit_headers() -> Hostile:
    cid = "H-8BIT"
    raw = plain(cid, fields(cid), subject=f"Révision urgente \u2013 Case {cid}")
    raw = raw.replace(b"Nurse Example", "Zoë Ørsted".encode())
    return Hostile("raw-8bit-headers", raw, "new", case_id=cid)


@hostile
def raw_latin1_header() -> Hostile:
    cid = "H-8LAT"
    raw = plain(cid, fields(cid), subject=f"R\xe9vision Case {cid}".encode("latin-1").decode("latin-1"))
    raw = raw.replace("Révision".encode(), "R\xe9vision".encode("latin-1"))
    return Hostile("raw-latin1-header", raw, "new", case_id=cid)


@hostile
def raw_8bit_filename() -> Hostile:
    cid = "H-RESUME"
    part = ('Content-Type: application/pdf; name="Résumé.pdf"\nContent-Transfer-Encoding: base64\n'
            'Content-Disposition: attachment; filename="Résumé.pdf"\n\n').encode() + base64.encodebytes(
        pdf([text_page(["Attached records"])]))
    return Hostile("raw-8bit-filename", with_parts(cid, fields(cid), [part]), "new", case_id=cid)


@hostile
def rfc2231_bad_charset_filename() -> Hostile:
    cid = "H-2231"
    part = (b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
            b"Content-Disposition: attachment; filename*=x-bogus''%FF%FE%00%D8.pdf\n\n") + \
        base64.encodebytes(b"%PDF-1.4 not really")
    return Hostile("rfc2231-bad-charset-filename", with_parts(cid, fields(cid), [part]), "new", case_id=cid)


@hostile
def nul_in_headers() -> Hostile:
    cid = "H-NULHDR"
    return Hostile("nul-in-headers", plain(cid, fields(cid), subject=f"Case {cid} \x00\x00 x"), "new",
                   case_id=cid)


@hostile
def nul_in_body() -> Hostile:
    cid = "H-NULBODY"  # Dovecot stores a NUL as 0x80: read as cp1252, the case arrives
    return Hostile("nul-in-body", plain(cid, fields(cid) + "\x00" * 50), "new", case_id=cid)


@hostile
def nul_in_base64_body() -> Hostile:
    cid = "H-NULB64"
    body = base64.encodebytes((fields(cid) + "\x00" * 50).encode())
    return Hostile("nul-in-base64-body", plain(cid, body, cte="base64"), "quarantined", reason="binary data",
                   sender=SENDER, subject=f"UM Review Request - Case {cid}")


# ---------------------------------------------------------------- dates
@hostile
def due_year_9999() -> Hostile:
    cid = "H-DUE9999"
    return Hostile("due-year-9999", plain(cid, fields(cid, extra="Due: 12/31/9999\n")), "new",
                   problem="due_at: date out of range", case_id=cid)


@hostile
def received_year_9999() -> Hostile:
    cid = "H-REC9999"
    return Hostile("received-year-9999", plain(cid, fields(cid, received="12/31/9999 11:59 PM")), "new",
                   problem="received_at: date out of range", case_id=cid)


@hostile
def received_year_1900() -> Hostile:
    cid = "H-REC1900"
    return Hostile("received-year-1900", plain(cid, fields(cid, received="01/01/1900 8:00 AM")), "new",
                   problem="received_at: date out of range", case_id=cid)


@hostile
def due_year_0001() -> Hostile:
    cid = "H-DUE0001"
    return Hostile("due-year-0001", plain(cid, fields(cid, extra="Due: 0001-01-01 00:00 +14:00\n")), "new",
                   problem="due_at:", case_id=cid)


@hostile
def date_header_9999() -> Hostile:
    cid = "H-DATE9999"
    raw = plain(cid, fields(cid)).replace(DATE.encode(), b"Fri, 31 Dec 9999 23:59:59 -1200")
    return Hostile("date-header-9999", raw, "new", case_id=cid)


@hostile
def date_header_garbage() -> Hostile:
    cid = "H-DATEBAD"
    raw = plain(cid, fields(cid)).replace(DATE.encode(), b"Mon, 99 Foo 99999999999 99:99:99 +9999")
    return Hostile("date-header-garbage", raw, "new", case_id=cid)


@hostile
def impossible_dates() -> Hostile:
    cid = "H-FEB30"
    return Hostile("impossible-dates", plain(cid, fields(cid, received="02/30/2026 25:61 PM",
                                                         extra="Due: 13/45/2026\n")), "new",
                   problem="unreadable date", case_id=cid)


# ---------------------------------------------------------------- slow regexes, absurd lengths
@hostile
def subject_case_repeated() -> Hostile:
    cid = "H-SUBJ"
    return Hostile("subject-200kb-case-dots", plain(cid, fields(cid), subject="case." * 40_000), "new",
                   case_id=cid)


@hostile
def subject_ref_repeated() -> Hostile:
    cid = "H-SUBJREF"
    return Hostile("subject-ref-hash-repeated", plain(cid, fields(cid), subject="Ref #a" * 30_000), "new",
                   case_id=cid)


@hostile
def line_of_a_star() -> Hostile:
    cid = "H-ASTAR"
    return Hostile("line-300kb-a-star", plain(cid, fields(cid) + "a*" * 150_000 + "\n"), "new", case_id=cid)


@hostile
def label_then_a_star() -> Hostile:
    cid = "H-LASTAR"
    return Hostile("label-line-a-star", plain(cid, fields(cid) + "Plan " + "a*" * 100_000 + ": x\n"), "new",
                   case_id=cid)


@hostile
def line_of_spaces() -> Hostile:
    cid = "H-SPACES"
    return Hostile("line-60kb-spaces", plain(cid, fields(cid) + "Note:" + " " * 60_000 + "x  y\n"), "new",
                   case_id=cid)


@hostile
def spaces_between_words() -> Hostile:
    cid = "H-SPWORD"
    return Hostile("spaces-between-words", plain(cid, fields(cid) + ("Member ID" + " " * 30) * 5000 + "\n"),
                   "new", case_id=cid)


@hostile
def many_colons() -> Hostile:
    cid = "H-COLONS"
    return Hostile("line-of-colons-and-labels", plain(cid, fields(cid) + "  Due:" * 50_000 + "\n"), "new",
                   case_id=cid)


@hostile
def id_like_tokens() -> Hostile:
    cid = "H-IDTOK"
    return Hostile("subject-long-id-token", plain(cid, fields(cid), subject="Case " + "A-" * 100_000 + "1"),
                   "new", case_id=cid)


@hostile
def reply_prefix_storm() -> Hostile:
    cid = "H-RERE"
    return Hostile("subject-reply-prefix-storm", plain(cid, fields(cid), subject="Re: " * 20_000 + f"Case {cid}"),
                   "new", case_id=cid)


@hostile
def ten_megabyte_body() -> Hostile:
    cid = "H-10MB"
    filler = ("Clinical note line with ordinary words and numbers 12345 " * 2 + "\n") * 85_000
    return Hostile("body-10mb", plain(cid, fields(cid) + filler), "new", case_id=cid)


@hostile
def ten_megabyte_single_line() -> Hostile:
    cid = "H-10MBLINE"
    return Hostile("body-10mb-one-line", plain(cid, fields(cid) + "x" * 9_900_000 + "\n"), "new", case_id=cid)


@hostile
def many_lines_of_labels() -> Hostile:
    cid = "H-LABELS"
    return Hostile("body-200k-label-lines", plain(cid, fields(cid) + "Review: x\n" * 200_000), "new",
                   case_id=cid)


@hostile
def huge_subject_encoded_words() -> Hostile:
    cid = "H-EWORDS"
    words = " ".join(f"=?utf-8?b?{base64.b64encode(b'caf' + bytes([0xC3, 0xA9])).decode()}?=" for _ in range(20_000))
    return Hostile("subject-20k-encoded-words", plain(cid, fields(cid), subject=words), "new", case_id=cid)


@hostile
def unterminated_encoded_words() -> Hostile:
    cid = "H-EWOPEN"
    return Hostile("subject-unterminated-encoded-words", plain(cid, fields(cid), subject="=?utf-8?q?" * 30_000),
                   "new", case_id=cid)


@hostile
def huge_from_header() -> Hostile:
    cid = "H-BIGFROM"
    frm = "\"" + "a, b <c@d>, " * 20_000 + f"\" <{SENDER}>"
    raw = plain(cid, fields(cid)).replace(f"Nurse Example <{SENDER}>".encode(), frm.encode())
    return Hostile("from-header-240kb", raw, "new", case_id=cid)


@hostile
def many_headers() -> Hostile:
    cid = "H-MANYHDR"
    extra = "".join(f"X-Filler-{i}: {'v' * 40}\n" for i in range(20_000))
    return Hostile("header-block-1mb", plain(cid, fields(cid), extra=extra), "new", case_id=cid)


@hostile
def references_storm() -> Hostile:
    cid = "H-REFS"
    refs = " ".join(f"<r{i}@x.example>" for i in range(60_000))
    return Hostile("references-60k-ids", plain(cid, fields(cid), extra=f"References: {refs}\n"), "new",
                   case_id=cid)


@hostile
def long_message_id() -> Hostile:
    cid = "H-LONGMID"
    raw = plain(cid, fields(cid)).replace(b"Message-ID: <", b"Message-ID: <" + b"m" * 100_000)
    return Hostile("message-id-100kb", raw, "new", case_id=cid)


@hostile
def long_case_id_value() -> Hostile:
    cid = "H-LONGCID"
    body = fields(cid).replace(f"Case ID: {cid}", f"Case ID: {cid}" + "9" * 200_000)
    return Hostile("case-id-200kb", plain(cid, body), "new", problem="case_id", case_id="")


@hostile
def long_field_values() -> Hostile:
    cid = "H-LONGVAL"
    return Hostile("field-values-1mb", plain(cid, fields(cid, extra="Facility: " + "F" * 1_000_000 + "\n")),
                   "new", case_id=cid)


# ---------------------------------------------------------------- broken MIME
@hostile
def multipart_without_boundary() -> Hostile:
    cid = "H-NOBOUND"
    raw = head(f"Case {cid}", cid.lower()) + b"MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n" + \
        fields(cid).encode()
    return Hostile("multipart-without-boundary", raw, "quarantined", reason="broken MIME", sender=SENDER,
                   subject=f"Case {cid}")


@hostile
def boundary_never_closed() -> Hostile:
    cid = "H-OPENB"
    raw = head(f"Case {cid}", cid.lower()) + \
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\nContent-Type: text/plain\n\n' + \
        fields(cid).encode()
    return Hostile("boundary-never-closed", raw, "new", case_id=cid)


@hostile
def boundary_not_found() -> Hostile:
    cid = "H-NOSTART"
    raw = head(f"Case {cid}", cid.lower()) + \
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="never-used"\n\n' + fields(cid).encode()
    return Hostile("boundary-not-found", raw, "quarantined", reason="broken MIME", sender=SENDER,
                   subject=f"Case {cid}")


@hostile
def invalid_base64_body() -> Hostile:
    cid = "H-B64"
    return Hostile("invalid-base64-body", plain(cid, b"!!!! not base64 @@@@\n" * 10, cte="base64"),
                   "quarantined", reason="invalid base64", sender=SENDER, subject=f"UM Review Request - Case {cid}")


@hostile
def broken_quoted_printable() -> Hostile:
    cid = "H-QP"
    return Hostile("broken-quoted-printable", plain(cid, fields(cid) + "=ZZ=\n=\n=4" * 1000, cte="quoted-printable"),
                   "new", case_id=cid)


@hostile
def unknown_transfer_encoding() -> Hostile:
    cid = "H-CTE"
    return Hostile("unknown-transfer-encoding", plain(cid, fields(cid), cte="x-made-up"), "new", case_id=cid)


@hostile
def uuencode_garbage() -> Hostile:
    cid = "H-UUE"
    return Hostile("uuencode-garbage", plain(cid, b"begin 644 x\n!!!garbage\nend\n", cte="x-uuencode"),
                   "not_case", reason="no case fields")


@hostile
def deep_multipart_nesting() -> Hostile:
    cid = "H-DEEP"
    inner = f"Content-Type: text/plain\n\n{fields(cid)}".encode()
    for i in range(40):
        inner = (f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n').encode() + inner + \
            f"\n--b{i}--\n".encode()
    raw = head(f"Case {cid}", cid.lower()) + b"MIME-Version: 1.0\n" + inner
    return Hostile("multipart-nested-40-deep", raw, "quarantined", reason="nested too deep", sender=SENDER,
                   subject=f"Case {cid}")


@hostile
def deep_message_nesting() -> Hostile:
    cid = "H-DEEPMSG"
    inner = f"Content-Type: text/plain\n\n{fields(cid)}".encode()
    for _ in range(300):
        inner = b"Content-Type: message/rfc822\n\nSubject: inner\n" + inner
    raw = head(f"Case {cid}", cid.lower()) + b"MIME-Version: 1.0\n" + inner
    return Hostile("message-rfc822-nested-300-deep", raw, "not_case", reason="no case fields")


@hostile
def thousands_of_parts() -> Hostile:
    cid = "H-PARTS"
    parts = [f'Content-Type: text/csv; name="p{i}.csv"\nContent-Disposition: attachment; filename="p{i}.csv"\n\n'
             f"a,b\n".encode() for i in range(3000)]
    return Hostile("3000-attachments", with_parts(cid, fields(cid), parts), "new", problem="attachments",
                   case_id=cid)


@hostile
def huge_boundary() -> Hostile:
    cid = "H-BIGB"
    b = "B" * 50_000
    return Hostile("boundary-50kb", with_parts(cid, fields(cid), [], boundary=b), "new", case_id=cid)


@hostile
def content_type_param_storm() -> Hostile:
    cid = "H-PARAMS"
    params = "".join(f'; p{i}="v{i}"' for i in range(10_000))
    raw = plain(cid, fields(cid)).replace(b"charset=utf-8", b"charset=utf-8" + params.encode())
    return Hostile("content-type-10k-params", raw, "new", case_id=cid)


@hostile
def lone_crs() -> Hostile:
    cid = "H-CR"
    return Hostile("lone-carriage-returns", plain(cid, fields(cid).replace("\n", "\r")), "new", case_id=cid)


@hostile
def html_marked_section() -> Hostile:
    cid = "H-HTMLMS"
    html = "".join(f"<p>{line}</p>" for line in fields(cid).splitlines()) + "<![ x"
    raw = plain(cid, html).replace(b"text/plain", b"text/html")
    return Hostile("html-broken-marked-section", raw, "new", case_id=cid)


@hostile
def html_tag_soup() -> Hostile:
    cid = "H-SOUP"
    html = "".join(f"<p>{line}</p>" for line in fields(cid).splitlines()) + "<a " * 100_000 + "<!--" * 10_000
    raw = plain(cid, html).replace(b"text/plain", b"text/html")
    return Hostile("html-tag-soup-400kb", raw, "new", case_id=cid)


@hostile
def headers_only() -> Hostile:
    return Hostile("headers-only-no-body", head("Hello", "hdronly"), "not_case", reason="no case fields")


@hostile
def no_from_header() -> Hostile:
    cid = "H-NOFROM"
    raw = plain(cid, fields(cid)).replace(f"From: Nurse Example <{SENDER}>\n".encode(), b"")
    return Hostile("no-from-header", raw, "new", case_id=cid)


@hostile
def binary_garbage() -> Hostile:
    data = bytes((i * 7919) % 256 for i in range(20_000))
    return Hostile("binary-garbage", data, "quarantined")


# ---------------------------------------------------------------- PDFs
@hostile
def pdf_lone_surrogate_due_9999() -> Hostile:
    cid = "H-PDFSUR"
    page = text_page([f"Case ID: {cid}", "Review Type: Prospective", "Urgency: Standard",
                      "Received: 11/29/2026 7:50 AM", "Member: Pat Example", "Requested Service: MRI",
                      "Nurse Recommendation: Approve", "Due: 12/31/9999", "Note: A"])
    packet = pdf([page], tounicode={"41": "D800"})
    return Hostile("pdf-lone-surrogate-due-9999",
                   with_parts(cid, "The packet is attached.", [pdf_part(packet)], subject=f"Case {cid}"),
                   "new", case_id=cid)


@hostile
def pdf_not_a_pdf() -> Hostile:
    cid = "H-PDFJUNK"
    return Hostile("pdf-garbage", with_parts(cid, fields(cid), [pdf_part(b"%PDF-1.7\n" + b"\xff" * 5000)]), "new",
                   case_id=cid)


@hostile
def pdf_token_bomb() -> Hostile:
    cid = "H-PDFBOMB"
    bomb = b"BT /F1 1 Tf " + b"(a) Tj 0 0 Td " * 2_000_000 + b" ET"
    packet = pdf([bomb] * 10, compress=True)
    return Hostile("pdf-token-bomb", with_parts(cid, f"Case ID: {cid}\nPacket attached.", [pdf_part(packet)]),
                   "new", problem="text cut", case_id=cid)


@hostile
def pdf_huge_string() -> Hostile:
    cid = "H-PDFSTR"
    page = b"BT /F1 10 Tf 50 750 Td (" + b"A" * 70_000_000 + b") Tj ET"
    packet = pdf([page], compress=True)
    return Hostile("pdf-70mb-string", with_parts(cid, f"Case ID: {cid}\nPacket attached.", [pdf_part(packet)]),
                   "new", problem="text cut", case_id=cid)


@hostile
def pdf_many_pages() -> Hostile:
    cid = "H-PDFPAGES"
    packet = pdf([text_page([f"Page {i} of the records"]) for i in range(400)])
    return Hostile("pdf-400-pages", with_parts(cid, f"Case ID: {cid}\nPacket attached.", [pdf_part(packet)]),
                   "new", problem="text cut", case_id=cid)


# ---------------------------------------------------------------- threads
@hostile
def followup_with_surrogates() -> list[Hostile]:
    cid = "H-THREAD"
    first = plain(cid, fields(cid))
    reply = (head(f"RE: Case {cid}", "h-thread-reply",
                  extra=f"In-Reply-To: <{cid.lower()}@hostile.example-um.com>\n")
             + b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-7\n\n"
             + b"Additional records: +2AA- attached\nDue: 12/31/9999\n")
    return [Hostile("thread-original", first, "new", case_id=cid),
            Hostile("followup-surrogate-due-9999", reply, "updated", case_id=cid)]


@hostile
def duplicate_of_hostile() -> list[Hostile]:
    cid = "H-DUPE"
    raw = plain(cid, fields(cid, extra="Note: +2AA-\n"), charset="utf-7")
    return [Hostile("dupe-original", raw, "new", case_id=cid),
            Hostile("dupe-same-message-id", raw, "duplicate", case_id=cid)]


# ---------------------------------------------------------------- sender trust
STRANGER = "mallory@evil.example"


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


@hostile
def case_id_hijack() -> list[Hostile]:
    """A stranger sends the case ID first, posing as the nurse in an encoded display name and
    with their own Reply-To; the nurse's real email must not become its follow-up."""
    cid = "H-HIJACK"
    frm = f"{_word(f'{SENDER}, ')} <{STRANGER}>"
    first = (head(f"UM Review Request - Case {cid}", "h-hijack-first", frm=frm, extra=f"Reply-To: {STRANGER}\n")
             + b"\n" + fields(cid).encode())
    return [Hostile("hijack-stranger-first", first, "new", problem="display name holds another address",
                    case_id=cid, sender=STRANGER),
            Hostile("hijack-real-nurse", plain(cid, fields(cid)), "new", problem="possible spoof", case_id=cid,
                    sender=SENDER)]


@hostile
def forged_followup() -> list[Hostile]:
    """Anyone who knows the Message-ID: kept, changes nothing until accepted."""
    cid = "H-FORGED"
    forged = (head(f"RE: Case {cid}", "h-forged-reply", frm=f"Nurse Example <{STRANGER}>",
                   extra=f"In-Reply-To: <{cid.lower()}@hostile.example-um.com>\n")
              + b"\nUrgency: Urgent\nNurse Recommendation: Deny\nRequested Service: CPT 63030\nMember: Other\n")
    return [Hostile("forged-original", plain(cid, fields(cid)), "new", case_id=cid),
            Hostile("forged-followup-other-sender", forged, "unverified", case_id=cid, sender=STRANGER)]


@hostile
def followup_from_the_sender() -> list[Hostile]:
    cid = "H-OWNFU"
    reply = (head(f"RE: Case {cid}", "h-ownfu-reply", frm=f"Example, Nurse; RN <{SENDER}>",
                  extra=f"In-Reply-To: <{cid.lower()}@hostile.example-um.com>\n")
             + b"\nAdditional records attached.\n")
    return [Hostile("own-original", plain(cid, fields(cid)), "new", case_id=cid),
            Hostile("own-followup-name-with-comma-and-semicolon", reply, "updated", case_id=cid)]


@hostile
def from_names_that_hide_the_address() -> list[Hostile]:
    out = []
    for n, name in enumerate(["Example, Nurse RN", "Nurse Example; RN", "Example [RN]", "Example <RN>"]):
        cid = f"H-NAME{n}"
        raw = plain(cid, fields(cid)).replace(f"From: Nurse Example <{SENDER}>".encode(),
                                              f"From: {name} <{SENDER}>".encode())
        out.append(Hostile(f"from-name-{n}", raw, "new", case_id=cid, sender=SENDER))
    return out


@hostile
def foreign_reply_to() -> Hostile:
    cid = "H-REPLYTO"
    return Hostile("reply-to-other-domain", plain(cid, fields(cid), extra=f"Reply-To: {STRANGER}\n"), "new",
                   problem="reply_to:", case_id=cid)


@hostile
def whole_cases_with_auto_reply_signs() -> list[Hostile]:
    out = []
    for n, (extra, frm, subject) in enumerate([
        ("Auto-Submitted: auto-generated\n", None, None),
        ("X-Autoreply: yes\n", None, None),
        ("X-Autoreply:\n", None, None),
        ("", None, "Case {cid} - sent while I am out of office"),
        ("", "Mail System <postmaster@hostile.example-um.com>", None),
    ]):
        cid = f"H-AUTO{n}"
        raw = (head((subject or "UM Review Request - Case {cid}").format(cid=cid), cid.lower(),
                    frm=frm or f"Nurse Example <{SENDER}>", extra=extra)
               + b"\n" + fields(cid).encode())
        out.append(Hostile(f"whole-case-auto-reply-sign-{n}", raw, "new", problem="auto-reply signs", case_id=cid))
    return out


@hostile
def real_auto_reply_quoting_a_case() -> Hostile:
    raw = (head("Automatic reply: Case H-AUTO0", "h-ooo", extra="Auto-Submitted: auto-replied\n"
                "In-Reply-To: <h-auto0@hostile.example-um.com>\n")
           + b"\nI am out of the office until Monday.\n")
    return Hostile("out-of-office-on-a-thread", raw, "not_case", reason="auto-reply")


def hostile_emails() -> list[Hostile]:
    out: list[Hostile] = []
    for fn in HOSTILE:
        got = fn()
        out.extend(got if isinstance(got, list) else [got])
    return out


def corpus() -> list[Hostile]:
    """Every hostile email, each followed by a valid case, in the order a sync meets them."""
    out: list[Hostile] = []
    for n, h in enumerate(hostile_emails()):
        out += [h, valid(n)]
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for i, h in enumerate(corpus()):
        (target / f"{i:03d}-{h.name}.eml").write_bytes(h.raw)
