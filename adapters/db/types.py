"""Column types that keep money exact and times in UTC on MySQL and SQLite alike."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, cast, literal, type_coerce
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

from adapters.sealing import KEYRING, Bound, Misplaced, place
from domain.bulk_files import UNSPLIT
from domain.sealed import RefusedValue

ROW_MARK = "#"  # between the row key and the token, as a sealed column is selected (row keys have none)


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
    """Text stored sealed (a payee's account or name): an AES-GCM token under the first data key, bound to
    its table, column and row key (the column ``row_key`` of its row), read back as the text. Tokens differ
    each time, so a sealed column is never compared in SQL.

    A value written must be ``Bound`` to its row's key (the mapping's events bind the domain's objects, the
    repositories the rows they write in Core); reading selects the row key beside the token, so a token
    copied from another row, column or table reads as ``RefusedValue`` (empty), never as another row's text."""

    impl = Text
    cache_ok = True

    def __init__(self, table: str, column: str, row_key: str = "id"):
        super().__init__()
        self.table, self.column, self.row_key = table, column, row_key

    def column_expression(self, col: Any) -> Any:
        # typed as this column again, so that its result is unsealed here
        return type_coerce(cast(col.table.c[self.row_key], String) + literal(ROW_MARK) + type_coerce(col, Text), self)

    def process_bind_param(self, value: str | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if isinstance(value, RefusedValue):
            raise Misplaced(f"{self.table}.{self.column}: a refused value ({value.why}) is not written again")
        if not isinstance(value, Bound):
            raise ValueError(f"{self.table}.{self.column} is sealed to its row: write it Bound to its "
                             f"{self.row_key}")
        return KEYRING.seal(str(value), place(self.table, self.column, value.row_key))

    def process_result_value(self, value: str | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        row_key, _, token = value.partition(ROW_MARK)
        if not token:  # the token alone (a row key that is NULL): no place to check it against
            return RefusedValue(f"{self.table}.{self.column} has no row key")
        try:
            return KEYRING.unseal(token, place(self.table, self.column, row_key))
        except Misplaced as e:
            return RefusedValue(f"{self.table}.{self.column} of row {row_key}: {e}")


# a bulk row's parties, the payee's name, and a row that did not split into the columns (it may hold either)
SEALED_FIELDS = ("payer_identifier", "payee_identifier", "note", UNSPLIT)


class SealedFields(TypeDecorator[dict[str, Any]]):
    """A bulk row's fields as JSON, its parties' identifiers and its note (the payee's name on SPEI) sealed,
    each bound to its table, column and field, the rest plain so that SQL can still order rows by them."""

    impl = JSON
    cache_ok = True

    def __init__(self, table: str, column: str):
        super().__init__()
        self.table, self.column = table, column

    def place_of(self, field: str) -> str:
        return place(self.table, f"{self.column}.{field}")

    def process_bind_param(self, value: dict[str, Any] | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return {k: (KEYRING.seal(str(v), self.place_of(k)) if k in SEALED_FIELDS and v is not None else v)
                for k, v in value.items()}

    def process_result_value(self, value: dict[str, Any] | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return {k: (self._open(k, v) if k in SEALED_FIELDS and isinstance(v, str) else v) for k, v in value.items()}

    def _open(self, field: str, token: str) -> str:
        try:
            return KEYRING.unseal(token, self.place_of(field))
        except Misplaced as e:
            return RefusedValue(f"{self.table}.{self.column}.{field}: {e}")
