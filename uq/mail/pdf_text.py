"""Text of a PDF case packet, for display, search and the fields a short body lacks."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import replace

from uq.domain import Attachment
from uq.mail.mime import scrub_surrogates

_MAX_PAGES = 30


def pdf_text(data: bytes) -> str | None:
    """None when pypdf cannot read it: a broken packet must not stop the case."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        parts = [page.extract_text() or "" for page in reader.pages[:_MAX_PAGES]]
    except Exception:
        return None
    text = "\n".join(parts).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    return scrub_surrogates(text) or None


def is_pdf(att: Attachment) -> bool:
    return att.content_type == "application/pdf" or att.filename.lower().endswith(".pdf")


def pdf_texts(attachments: Iterable[Attachment]) -> list[Attachment]:
    """The attachments with `text` filled for every PDF that has none yet, others as given.

    For a background pass after a sync with extract_pdf_text=False: the same text
    parse_email(extract_pdf_text=True) would have stored. Never raises; an unreadable PDF
    keeps text=None (pdf_text's ~2 ms per packet is why this is not done while syncing).
    """
    return [
        replace(a, text=pdf_text(a.data)) if a.text is None and a.data and is_pdf(a) else a
        for a in attachments
    ]
