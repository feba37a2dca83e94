"""Column types that keep money exact and times in UTC on MySQL and SQLite alike."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

from adapters.sealing import KEYRING


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (DATETIME(6)), returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):  # type: ignore[no-untyped-def]
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        return None if value is None else value.replace(tzinfo=timezone.utc)


class DecimalText(TypeDecorator[Decimal]):
    """A rate kept as its exact decimal text, never as a binary float."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        return None if value is None else format(Decimal(value), "f")

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        return None if value is None else Decimal(value)


def case_sensitive(length: int) -> String:
    """Text compared byte for byte: an external id or an idempotency key that differs from another only
    in case names another thing (MySQL's default collation would take them for one)."""
    return String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


class Sealed(TypeDecorator[str]):
    """Text stored sealed (a payee's account or name): an AES-GCM token under the first data key, read back
    as the text. Tokens differ each time, so a sealed column is never compared in SQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):  # type: ignore[no-untyped-def]
        return None if value is None else KEYRING.seal(str(value))

    def process_result_value(self, value: str | None, dialect):  # type: ignore[no-untyped-def]
        return None if value is None else KEYRING.unseal(value)


SEALED_FIELDS = ("payer_identifier", "payee_identifier", "note")  # a bulk row's parties and the payee's name


class SealedFields(TypeDecorator[dict[str, Any]]):
    """A bulk row's fields as JSON, its parties' identifiers and its note (the payee's name on SPEI) sealed,
    the rest plain so that SQL can still order rows by them."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return {k: (KEYRING.seal(str(v)) if k in SEALED_FIELDS and v is not None else v) for k, v in value.items()}

    def process_result_value(self, value: dict[str, Any] | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return {k: (KEYRING.unseal(v) if k in SEALED_FIELDS and isinstance(v, str) else v) for k, v in value.items()}
