"""The error vocabulary every layer raises and the CLI/TUI turn into one clear line.

A UqError's message is meant for the reviewer's eyes: short, specific, no PHI, no
traceback. Its exit_code is what the CLI exits with.
"""

from __future__ import annotations


class UqError(Exception):
    """Base class: str(err) is the one line shown to the user."""

    exit_code = 1


class ConfigError(UqError):
    """A config file, key or value is wrong. Names the file and the key."""

    exit_code = 2


class UsageError(UqError):
    exit_code = 2


class NotYetAvailable(UqError):
    exit_code = 2


class CredentialError(UqError):
    """A secret could not be found, or the server refused it."""

    exit_code = 3


class ConnectionFailed(UqError):
    """A server could not be reached or TLS failed. Transient from the UI's point of view."""

    exit_code = 4


class StoreError(UqError):
    exit_code = 5


class ConflictError(StoreError):
    """Another writer committed the same row first (a unique key): nothing of this
    transaction was saved, and running it again sees the other writer's row."""


class UnknownCase(UqError):
    exit_code = 6


class GuardrailError(UqError):
    """A decision breaks a rule (denial without rationale, ...): nothing was saved."""

    exit_code = 7


class GuardrailWarning(UqError):
    """A decision reads like treatment advice: must be confirmed (--force) to proceed."""

    exit_code = 7


class SendError(UqError):
    exit_code = 8
