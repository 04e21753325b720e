"""TLS for IMAP and SMTP alike: always verified; `ca_file` adds a CA, never replaces trust checks."""

from __future__ import annotations

import ssl
from pathlib import Path

from uq.errors import ConfigError


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """System trust plus, when given, the configured CA (a private or corporate CA)."""
    ctx = ssl.create_default_context()
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=str(Path(ca_file).expanduser()))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"ca_file {ca_file}: cannot load it as a CA certificate ({exc})") from None
    return ctx
