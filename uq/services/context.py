"""What every use case needs: the config, the store and the clock, built once per process.

Built on demand (never at import time) so `uq --help` and the TUI's first paint do not pay
for SQLAlchemy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from uq.config import Config
from uq.queue.clock import Clock, system_clock
from uq.store.audit_chain import KeySource
from uq.store.repo import Store


@dataclass
class Context:
    config: Config
    store: Store
    clock: Clock = field(default=system_clock)
    sent_copy_retry_at: datetime | None = None  # outbox: back-off for saving Sent copies
    smtp_retry_at: datetime | None = None  # outbox: the SMTP server was unreachable; next try
    scratch: list[Path] = field(default_factory=list)  # private temp dirs (attachments): removed on close

    @classmethod
    def open(
        cls, config: Config, *, clock: Clock = system_clock, url: str | None = None, audit_key: KeySource | None = None
    ) -> Context:
        """`audit_key` defaults to UQ_AUDIT_KEY / the keyring (uq.secrets.audit_key)."""
        return cls(config=config, store=Store.open(url or config.database_url, audit_key=audit_key), clock=clock)

    @property
    def tz(self) -> ZoneInfo:
        return self.config.tz

    @property
    def user(self) -> str:
        return self.config.user

    def close(self) -> None:
        """Also removes the attachment copies handed to viewers: PHI must not linger in /tmp."""
        for folder in self.scratch:
            shutil.rmtree(folder, ignore_errors=True)
        self.scratch.clear()
        self.store.close()
