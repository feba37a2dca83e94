"""Tenants: the institutions that send bulk batches, each with its own configuration, its own keys and
its own float (the closed-loop wallet its closedloop rows are paid from)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.bulk_config import BulkConfig, parse_config
from domain.errors import DomainError
from domain.wallets import FLOAT, OUTSIDE, SPEI_PAYOUTS

__all__ = ["FLOAT", "OUTSIDE", "SPEI_PAYOUTS", "RESERVED_OWNERS", "Tenant", "TenantError", "check_name"]

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # the whole name (fullmatch: no newline after it)
RESERVED_OWNERS = frozenset({FLOAT, SPEI_PAYOUTS, OUTSIDE})  # never a payee's wallet


class TenantError(DomainError, ValueError):
    """A tenant name or configuration that cannot be."""


def check_name(name: str) -> str:
    """A tenant's name as ``Platform-TenantId`` carries it: 1 to 64 lower-case letters, digits, ``.``, ``_``,
    ``-``, starting with a letter or digit."""
    if not NAME.fullmatch(name):
        raise TenantError(f"tenant name {name!r} is 1 to 64 lower-case letters, digits, '.', '_' or '-', "
                          "starting with a letter or digit")
    return name


@dataclass(eq=False)
class Tenant:
    """A paying institution, its bulk configuration (the seed's keys) and the secret its callbacks are
    signed with."""

    name: str
    config: dict[str, Any]
    secret: str
    created_at: datetime
    updated_at: datetime
    id: int | None = None

    @property
    def bulk(self) -> BulkConfig:
        """The configuration, read."""
        return parse_config(self.config)

    def configure(self, raw: dict[str, Any], at: datetime) -> None:
        """Change what ``raw`` names, over the configuration it has; ConfigError when a key or value is wrong."""
        self.config = parse_config(raw, self.bulk).as_keys()
        self.updated_at = at
