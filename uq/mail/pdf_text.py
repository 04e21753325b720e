"""Text of a PDF case packet, for display, search and the fields a short body lacks."""

from __future__ import annotations

import io

_MAX_PAGES = 30


def pdf_text(data: bytes) -> str | None:
    """None when pypdf cannot read it: a broken packet must not stop the case."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        parts = [page.extract_text() or "" for page in reader.pages[:_MAX_PAGES]]
    except Exception:
        return None
    text = "\n".join(parts).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None
