"""The bytes behind a case: its raw email and its attachments as private files.

The TUI never reaches the store itself; these are the two reads it needs for the raw
view and for handing an attachment to the system viewer.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from uq.domain import Attachment
from uq.mail.mime import part_data
from uq.services.context import Context

_SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def raw_email(ctx: Context, case_pk: int) -> bytes:
    """The first message of the case, exactly as the server sent it."""
    return ctx.store.first_raw_for_case(case_pk)


def attachments_with_data(ctx: Context, case_pk: int) -> list[Attachment]:
    """The case's attachments with their bytes, decoded from the stored raw message by the
    same walker that parsed it (so they are the bytes hashed at ingest)."""
    return [replace(a, data=part_data(raw, a.part)) for a, raw in ctx.store.attachment_sources(case_pk)]


def private_copy(ctx: Context, att: Attachment, index: int) -> Path:
    """Write an attachment to a fresh file only the user can read (0600) in a private
    directory: it holds PHI and a viewer needs a path."""
    folder = Path(tempfile.mkdtemp(prefix="uq-att-"))  # mkdtemp is 0700 already
    ctx.scratch.append(folder)  # removed when the context closes (the app quits)
    name = _SAFE_NAME_RE.sub("_", Path(att.filename).name).strip("._") or f"attachment-{index + 1}"
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(att.data)
    return path
