"""The MIME side of parsing: headers, text parts, attachments, charsets.

The message tree is the stdlib's compat32 one (never raises on the malformed headers that
policy.default turns into exceptions). Well-formed messages get it from `mimewalk`, which
skips the stdlib's line-by-line body parse; anything else from `email.message_from_bytes`.
Bodies are decoded here with binascii on whole slices -- the same bytes as compat32's
`get_payload(decode=True)`, which splits base64 bodies into lines first (PERF_NOTES.md).
"""

from __future__ import annotations

import binascii
import codecs
import email
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from uq.domain import Attachment
from uq.mail.html_text import html_to_text
from uq.mail.mimewalk import split_message

_MSGID_RE = re.compile(r"<[^<>\s]+>")
# C0 controls but tab, LF, CR; counted with str.translate (3x a regex findall)
_CONTROL_CHARS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))
_DROP_CONTROL = str.maketrans("", "", _CONTROL_CHARS)
_BROKEN = {
    "NoBoundaryInMultipartDefect": "multipart without a boundary",
    "StartBoundaryNotFoundDefect": "multipart boundary not found",
}
# Python codecs that are not mail charsets: they turn escapes in the text into lone
# surrogates or cost more than linear time; such a part is read as UTF-8/cp1252 instead.
_NOT_CHARSETS = frozenset({"unicode_escape", "raw_unicode_escape", "punycode", "idna", "undefined"})
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_CHARSET_ALIASES = {"utf8": "utf-8", "cp-1252": "cp1252", "latin1": "iso-8859-1",
                    "us-ascii": "ascii", "unknown-8bit": "utf-8", "x-unknown": "utf-8"}
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_UUENCODE = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})
# base64 padding implied by the decoded length when the encoded text is strictly valid
_PAD_FOR_REMAINDER = {0: b"", 1: b"==", 2: b"="}


class Unparseable(Exception):
    """The message cannot be read at all; str() is the quarantine reason."""


@dataclass(slots=True)
class Mime:
    msg: Message
    plain: str | None = None
    html_source: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    html_converted: str | None = None

    @property
    def html(self) -> str | None:
        """The HTML body as label lines, converted on first use: an HTML alternative whose
        plain twin already holds the fields is never converted (~1 ms each)."""
        if self.html_converted is None and self.html_source is not None:
            self.html_converted = html_to_text(self.html_source)
        return self.html_converted


HEADER_CHARS = 8192  # of one header value: more is no subject or address, only work
_MAX_ADDRESS = 254  # RFC 5321's longest path


def header_text(msg: Message, name: str) -> str:
    """A decoded header value, '' when absent; raw 8-bit headers are read as UTF-8/cp1252.
    Only its first HEADER_CHARS are decoded."""
    value: str | Header | None = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, str) and len(value) > HEADER_CHARS:
        value = value[:HEADER_CHARS]
    return decode_value(value)[:HEADER_CHARS]  # a Header (raw 8-bit) is cut after decoding


def thread_ids(msg: Message, name: str, keep: int = 50) -> tuple[str, ...]:
    """The Message-IDs of References/In-Reply-To: the first one (the thread's root) and the
    last `keep` - 1 (the nearest parents), however long the header is."""
    value = msg.get(name)
    if not isinstance(value, str):
        return ()
    ids = _MSGID_RE.findall(value)
    if len(ids) > keep:
        ids = [ids[0], *ids[len(ids) - keep + 1:]]
    return tuple(_clean(i) for i in ids if len(i) <= 998)


def decode_value(value: str | Header) -> str:
    try:
        chunks = decode_header(value)
    except Exception:
        return _clean(str(value))
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset) or chunk.decode("latin-1"))
        else:
            out.append(chunk)
    return _clean("".join(out))


def _clean(text: str) -> str:
    """One line of header text: raw 8-bit bytes (kept by compat32 as surrogate escapes)
    read as UTF-8, else cp1252; any other lone surrogate replaced; NULs dropped."""
    if _SURROGATE_RE.search(text) is not None:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            text = scrub_surrogates(text)
        else:
            text = decode_bytes(raw, "utf-8") or raw.decode("latin-1")
    return " ".join(text.replace("\x00", "").split())


def scrub_surrogates(text: str) -> str:
    """Lone surrogates (from utf-7, a PDF string, a stray escape) become U+FFFD: no store,
    terminal or JSON encoder accepts them."""
    if _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def _codec(name: str) -> str | None:
    try:
        codec = codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return None
    return None if codec in _NOT_CHARSETS else codec


def decode_bytes(data: bytes, charset: str | None) -> str | None:
    """Declared charset first, then UTF-8, then cp1252 (the usual mislabel); None if none fit.
    The text never holds a lone surrogate."""
    declared = (charset or "").strip().strip('"').lower()
    tried: list[str] = []
    for name in (_CHARSET_ALIASES.get(declared, declared), "utf-8", "cp1252"):
        cs = _codec(name) if name else None
        if not cs or cs in tried:
            continue
        tried.append(cs)
        try:
            return scrub_surrogates(data.decode(cs))
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(_MSGID_RE.findall(value))


def first_id(value: str) -> str | None:
    ids = message_ids(value)
    found = ids[0] if ids else value.strip()
    return found if found and len(found) <= 998 else None  # longer is no Message-ID


_ANGLE_ADDR_RE = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+)\s*>\s*")


def header_address(msg: Message, name: str) -> tuple[str, str]:
    """(display name, bare lower-case address) of an address header, read from the raw
    value: the address is parsed before any encoded word is decoded, so a display name
    that decodes to "nurse@payer, " can never become the address."""
    value: str | Header | None = msg.get(name)
    if value is None:
        return "", ""
    # raw 8-bit bytes come as a Header of unknown-8bit: decoding it only reads those
    # bytes as UTF-8/cp1252, it decodes no encoded word
    text = value if isinstance(value, str) else decode_value(value)
    display, addr = address(text[:HEADER_CHARS])
    if len(addr) > _MAX_ADDRESS or addr != addr.translate(_DROP_CONTROL) or " " in addr:
        return display[:_MAX_ADDRESS], ""  # no mailbox looks like that: a hostile header, no sender
    return display[:HEADER_CHARS // 8], addr


def address(raw: str) -> tuple[str, str]:
    """(display name, bare lower-case address) of a raw (undecoded) header value.

    A final `<addr>` wins, whatever the name before it holds (unquoted commas, `;`,
    brackets: the usual "Lopez, Maria RN <m@x>"); else the first list entry that is an
    address. Only the display name is decoded."""
    raw = raw.replace("\r", " ").replace("\n", " ")
    lt = raw.rfind("<")
    if lt >= 0 and not _ANGLE_ADDR_RE.search(raw, 0, lt):  # one angle-addr: no list
        m = _ANGLE_ADDR_RE.fullmatch(raw, lt)
        if m:
            return _display_name(raw[:lt]), m.group(1).strip().lower()
    try:
        pairs = getaddresses([raw])
    except Exception:
        return "", ""
    for name, addr in pairs:
        if "@" in addr:
            return _display_name(name), addr.strip().lower()
    return "", ""


def _display_name(raw: str) -> str:
    name = decode_value(raw.strip())
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    return " ".join(name.split())


def header_date(msg: Message) -> datetime | None:
    raw = header_text(msg, "Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def load(raw: bytes, *, fast: bool = True) -> Message:
    """fast=False: always the stdlib parse (the reference the fast walker is tested against)."""
    if not raw or raw.isspace():
        raise Unparseable("broken MIME: empty message")
    msg = split_message(raw) if fast else None
    if msg is None:
        msg = email.message_from_bytes(raw, policy=compat32)
    if not msg.keys():
        raise Unparseable("broken MIME: no header block")
    return msg


def load_headers(raw: bytes, limit: int = 1 << 16) -> Message:
    """Only the header block (its first `limit` bytes): what a message whose body or
    structure cannot be read still tells about itself."""
    head = raw[:limit]
    ends = [i for i in (head.find(b"\n\n"), head.find(b"\r\n\r\n")) if i >= 0]
    if ends:
        head = head[: min(ends)]
    return BytesHeaderParser(policy=compat32).parsebytes(head, headersonly=True)


def split_parts(msg: Message, *, fast: bool = True) -> Mime:
    """fast=False: stdlib body decoding and eager HTML conversion, as before the fast path."""
    out = Mime(msg)
    _walk(msg, out, 0, fast, "")
    return out


def _walk(part: Message, out: Mime, depth: int, fast: bool, path: str) -> None:
    if depth > 20:
        raise Unparseable("broken MIME: parts nested too deep")
    for defect in part.defects:
        reason = _BROKEN.get(type(defect).__name__)
        if reason is not None:
            raise Unparseable(f"broken MIME: {reason}")
    ctype = part.get_content_type()
    if part.is_multipart():
        if ctype == "message/rfc822":
            out.attachments.append(_attachment(part, len(out.attachments), fast, path))
            return
        payload = part.get_payload()
        if isinstance(payload, list):
            for n, sub in enumerate(payload, 1):
                if isinstance(sub, Message):
                    _walk(sub, out, depth + 1, fast, f"{path}.{n}" if path else str(n))
        return
    disposition_value = header_str(part, "Content-Disposition")
    disposition = (disposition_value or "").split(";")[0].strip().lower()
    filename = _filename(part, disposition_value) if fast else get_filename(part)
    is_body = ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
    if is_body and ((ctype == "text/plain" and out.plain is None) or
                    (ctype == "text/html" and out.html_source is None)):
        text = _text_of(part, fast)
        if ctype == "text/plain":
            out.plain = text
        else:
            out.html_source = text
            if not fast or "<![" in text:
                # Only a `<![` marked section can make HTMLParser raise: convert now, so the
                # error surfaces exactly where it did before the conversion became lazy.
                out.html_converted = html_to_text(text)
        return
    if is_body:
        return  # a second alternative of the same kind: nothing the first did not say
    out.attachments.append(_attachment(part, len(out.attachments), fast, path))


def part_data(raw: bytes, part: str) -> bytes:
    """The decoded bytes of the part at `part` (Attachment.part) of `raw`; b"" when the
    message has no such part. The same bytes parse_email gave that attachment."""
    try:
        msg: Message | str = load(raw)
    except Unparseable:
        return b""
    for step in part.split(".") if part else ():
        payload = msg.get_payload() if isinstance(msg, Message) else None
        n = int(step) - 1
        if not isinstance(payload, list) or not 0 <= n < len(payload):
            return b""
        msg = payload[n]
    if not isinstance(msg, Message):
        return b""
    if msg.get_content_type() == "message/rfc822":
        return _attachment(msg, 0, True, part).data
    return payload_bytes(msg)[0]


def _filename(part: Message, disposition: str | None) -> str | None:
    """get_filename(), skipped when neither header can hold a `filename`/`name` parameter
    (the param parse is a fifth of a text part's walk)."""
    ctype = part.get("Content-Type")
    for value in (disposition, ctype):
        if value is not None and (not isinstance(value, str) or "name" in value.lower()):
            return get_filename(part)
    return None


def header_str(msg: Message, name: str) -> str | None:
    """A header's value as text. compat32 hands a header holding raw 8-bit bytes (a UTF-8
    `filename="Résumé.pdf"` without RFC 2231) back as a Header object no str method
    works on; here those bytes are read as UTF-8, else cp1252."""
    value = msg.get(name)
    if value is None or isinstance(value, str):
        return value
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            return _from_8bit(str(raw))
    return None


def _from_8bit(text: str) -> str:
    try:
        data = text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return scrub_surrogates(text)
    return decode_bytes(data, "utf-8") or data.decode("latin-1")


def get_filename(part: Message) -> str | None:
    """compat32 get_filename(), also for 8-bit Content-Type/Content-Disposition headers."""
    ctype, disp = part.get("Content-Type"), part.get("Content-Disposition")
    if (ctype is None or isinstance(ctype, str)) and (disp is None or isinstance(disp, str)):
        return part.get_filename()
    clean = Message()
    for name in ("Content-Type", "Content-Disposition"):
        value = header_str(part, name)
        if value is not None:
            clean[name] = value
    return clean.get_filename()


def payload_bytes(part: Message, *, fast: bool = True) -> tuple[bytes, bool]:
    """compat32 `get_payload(decode=True)` of a leaf part (b"" for a multipart), and whether
    its base64 was invalid. fast=True does it on the whole body at once."""
    payload = vars(part).get("_payload")
    cte = str(part.get("content-transfer-encoding", "")).lower()
    if not fast or not isinstance(payload, str) or cte in _UUENCODE:
        data = part.get_payload(decode=True)
        broken = any(type(d).__name__.startswith("InvalidBase64") for d in part.defects)
        return (data if isinstance(data, bytes) else b""), broken
    raw = payload.encode("ascii", "surrogateescape")
    if cte == "quoted-printable":
        return binascii.a2b_qp(raw), False
    if cte == "base64":
        return _base64(raw)
    return raw, False


def _base64(raw: bytes) -> tuple[bytes, bool]:
    """email._encoded_words.decode_b on the body with its line ends removed, plus a fast path.

    Fast path: lenient a2b_base64 straight on the CRLF-broken text is the strict decode's
    result when nothing but line ends is outside the alphabet, `=` only ends the text, and
    the padding is the one the decoded length implies. Otherwise decode_b's steps exactly.
    """
    rest = raw.translate(None, _B64_ALPHABET + b"\r\n")
    if rest in (b"", b"=", b"=="):
        try:
            data = binascii.a2b_base64(raw)
        except binascii.Error:
            data = None
        if data is not None and rest == _PAD_FOR_REMAINDER[len(data) % 3] and (
                not rest or raw[raw.find(b"="):].translate(None, b"\r\n") == rest):
            return data, False
    encoded = raw.translate(None, b"\r\n")
    pad_err = len(encoded) % 4
    try:
        padded = encoded + b"==="[: 4 - pad_err] if pad_err else encoded
        return binascii.a2b_base64(padded, strict_mode=True), bool(pad_err)
    except binascii.Error:
        pass
    for attempt in (encoded, encoded + b"=="):
        try:
            return binascii.a2b_base64(attempt), True
        except binascii.Error:
            continue
    return encoded, True


def _text_of(part: Message, fast: bool) -> str:
    data, broken_base64 = payload_bytes(part, fast=fast)
    if broken_base64:
        raise Unparseable("undecodable body: invalid base64")
    text = decode_bytes(data, part.get_content_charset())
    if text is None:
        raise Unparseable("undecodable body: charset")
    if "\x00" in text or len(text) - len(text.translate(_DROP_CONTROL)) > max(8, len(text) // 20):
        raise Unparseable("undecodable body: binary data in a text part")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _attachment(part: Message, index: int, fast: bool, path: str) -> Attachment:
    ctype = part.get_content_type()
    name = ""
    try:
        raw_name = get_filename(part)
    except Exception:
        raw_name = None
    if raw_name:
        name = decode_value(raw_name)
    if ctype == "message/rfc822":
        inner = part.get_payload(0) if isinstance(part.get_payload(), list) else None
        try:
            data = inner.as_bytes() if isinstance(inner, Message) else b""
        except Exception:
            data = b""
        name = name or f"message-{index + 1}.eml"
    else:
        data, _ = payload_bytes(part, fast=fast)
    if not name:
        ext = {"application/pdf": ".pdf", "text/plain": ".txt", "text/html": ".html"}.get(ctype, "")
        name = f"attachment-{index + 1}{ext}"
    return Attachment(filename=name, content_type=ctype, size=len(data), data=data, part=path)
