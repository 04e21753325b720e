"""The log file: a rotating file in the platform state dir, readable only by the user.

What goes in it is chosen for a PHI system: event names, case primary keys and exception
types. uq's own code logs only those. Third-party libraries (pypdf, imapclient, asyncio,
warnings) would write whatever they hold, attachment bytes and server lines included, so
their records keep only the logger name, the level and the exception type; and nothing
logged ever carries a traceback or an exception message, which could quote case text.
Installing the handler on the root logger also stops Python's last-resort handler from
printing library warnings on stderr during `uq sync`.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from uq.errors import ConfigError
from uq.paths import ensure_private_dir, state_dir

LOG_NAME = "uq.log"
MAX_BYTES = 2_000_000
BACKUPS = 3
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_OURS = "uq"


def log_path() -> Path:
    return state_dir() / LOG_NAME


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Every file it opens (the first and each rotated one) is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        raw = io.BufferedWriter(io.FileIO(fd, "a"))
        return io.TextIOWrapper(raw, encoding=self.encoding, errors=self.errors, write_through=True)


class _Withhold(logging.Filter):
    """Keep the event, drop what could be case text."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0] if record.exc_info else None
        if record.name != _OURS and not record.name.startswith(_OURS + "."):
            record.msg, record.args = "(message withheld)", None
        if exc_type is not None:
            record.msg = f"{record.getMessage()} [{exc_type.__name__}]"
            record.args = None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def setup_logging(level: str = "INFO") -> Path:
    """Send every logger to the file at `level` (uq's) and WARNING (libraries). Idempotent:
    a second call replaces the handler."""
    name = level.upper()
    if name not in LEVELS:
        raise ConfigError(f"ui.log_level: '{level}' is not one of {', '.join(LEVELS)}")
    path = log_path()
    ensure_private_dir(path.parent)
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _PrivateRotatingFile)]:
        root.removeHandler(h)
        h.close()
    handler = _PrivateRotatingFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Withhold())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(_OURS).setLevel(name)
    logging.captureWarnings(True)
    return path
