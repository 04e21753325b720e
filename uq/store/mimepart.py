"""An attachment's bytes, decoded from the stored raw message on demand.

The store keeps each message once, as received; an attachment row only says where its
part sits (`Attachment.part`, dotted 1-based child numbers). Storing the decoded bytes too
doubled what a sync writes (PDF packets are most of a case email's size). Decoding here is
the stdlib compat32 parse, which is the tree the mail parser's fast walker reproduces, and
`get_payload(decode=True)`, which its body decoder equals; so the bytes are the ones the
parser hashed at ingest.
"""

from __future__ import annotations

import email
from email.message import Message
from email.policy import compat32


def part_bytes(raw: bytes, part: str) -> bytes:
    """The decoded body of the part at `part` in `raw`; b"" when there is no such part."""
    msg: Message | str = email.message_from_bytes(raw, policy=compat32)
    for step in part.split(".") if part else ():
        payload = msg.get_payload() if isinstance(msg, Message) else None
        n = int(step) - 1
        if not isinstance(payload, list) or not 0 <= n < len(payload):
            return b""
        msg = payload[n]
    if not isinstance(msg, Message):
        return b""
    if msg.get_content_type() == "message/rfc822":
        inner = msg.get_payload(0) if isinstance(msg.get_payload(), list) else None
        try:
            return inner.as_bytes() if isinstance(inner, Message) else b""
        except Exception:
            return b""
    data = msg.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""
