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


_NAME_MISMATCH = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def cert_problem(exc: ssl.SSLCertVerificationError, host: str, section: str) -> str:
    """What is wrong with the server's certificate, in words that point at the fix: a
    certificate issued for another name is a host setting, not a missing CA."""
    if exc.verify_code in _NAME_MISMATCH:
        return (
            f"the server's certificate is not valid for the name {host!r}; "
            f"set {section}.host to a name the certificate lists"
        )
    if exc.verify_code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        return "the server's certificate has expired"
    return f"certificate not trusted (set {section}.ca_file?)"
