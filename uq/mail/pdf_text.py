"""Text of a PDF case packet, for display, search and the fields a short body lacks.

Read in a limited worker process (pdf_worker): a hostile packet costs at most the
configured seconds and memory, and whatever was read before a limit is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from uq.config import ParseConfig
from uq.domain import Attachment
from uq.mail.mime import scrub_surrogates
from uq.mail.pdf_worker import PdfLimits, PdfResult, extract_text

__all__ = ["PdfLimits", "PdfResult", "cut_problem", "is_pdf", "pdf_limits", "pdf_text", "pdf_texts"]


def pdf_limits(cfg: ParseConfig) -> PdfLimits:
    return PdfLimits(pages=cfg.pdf_pages, chars=cfg.pdf_text_chars, seconds=cfg.pdf_seconds,
                     memory_mb=cfg.pdf_memory_mb)


def pdf_text(data: bytes, limits: PdfLimits) -> PdfResult:
    """Never raises; text "" when pypdf cannot read any of it (a broken packet must not
    stop the case)."""
    got = extract_text(data, limits)
    text = got.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    return PdfResult(scrub_surrogates(text), got.cut)


def cut_problem(filename: str, result: PdfResult, limits: PdfLimits) -> str | None:
    """The problem line for a text a limit cut short (the raw part is always kept)."""
    why = {
        "pages": f"text cut after the first {limits.pages} pages",
        "characters": f"text cut at {limits.chars} characters",
        "time": f"text cut short by the PDF time limit ({limits.seconds:g} s)",
        "memory": f"text cut short by the PDF memory limit ({limits.memory_mb} MB)",
    }.get(result.cut)
    return f"attachment {filename}: {why}; open the attachment for all of it" if why else None


def is_pdf(att: Attachment) -> bool:
    return att.content_type == "application/pdf" or att.filename.lower().endswith(".pdf")


def pdf_texts(attachments: Iterable[Attachment], limits: PdfLimits | None = None) -> list[Attachment]:
    """The attachments with `text` filled for every PDF that has none yet, others as given.

    For a background pass after a sync with extract_pdf_text=False: the same text
    parse_email(extract_pdf_text=True) would have stored. Never raises; an unreadable PDF
    keeps text=None.
    """
    lim = limits or PdfLimits()
    return [
        replace(a, text=pdf_text(a.data, lim).text or None) if a.text is None and a.data and is_pdf(a) else a
        for a in attachments
    ]
