"""Data key rotation: every sealed value re-sealed under the first of DISPERSA_DATA_KEYS, and every wallet
owner's digest made under it, a chunk of rows a transaction (so that it runs beside live traffic and can
be stopped and run again); and the survey that says how many values each column still holds under an
older key, before that key is dropped."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from sqlalchemy import JSON, Column, Engine, MetaData, Table, Text, func, select, update
from sqlalchemy.exc import DBAPIError

from adapters.db import tables
from adapters.db.errors import is_lock_wait
from adapters.db.types import SEALED_FIELDS, Sealed, SealedFields
from adapters.sealing import KEYRING, Unreadable, place

CHUNK = 500
# the digests a table keeps beside sealed values, to find rows by them: (digest column, the sealed column)
DIGESTS = {"customers": (("national_id_digest", "national_id"), ("email_digest", "email"))}
LOCK_RETRIES = 20  # deadlocks or lock waits with live traffic, in a whole run, before it gives up (run it again)


@dataclass
class ColumnTally:
    """One sealed column: its values, those under the first key, those re-sealed now, those no key reads."""

    table: str
    column: str
    values: int = 0
    current: int = 0
    resealed: int = 0
    unreadable: int = 0


def sealed_columns() -> dict[str, list[str]]:
    """The sealed columns of each table, as the mapping declares them."""
    found: dict[str, list[str]] = {}
    for table in tables.metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, (Sealed, SealedFields))]
        if names:
            found[table.name] = names
    return found


def _row_keys(table: str, columns: list[str]) -> set[str]:
    kinds = {c.name: c.type for c in tables.metadata.tables[table].columns}
    return {k.row_key for k in (kinds[c] for c in columns) if isinstance(k, Sealed)} - {"id"}


def _raw(table: str, columns: list[str]) -> Table:
    """The table as stored: tokens, not what they seal, and the row keys they are bound to."""
    kinds = {c.name: c.type for c in tables.metadata.tables[table].columns}
    return Table(table, MetaData(), Column("id", tables.metadata.tables[table].c.id.type, primary_key=True),
                 *(Column(c, JSON if isinstance(kinds[c], SealedFields) else Text) for c in columns),
                 *(Column(k, Text) for k in sorted(_row_keys(table, columns))),
                 *(Column(d, Text) for d, _ in DIGESTS.get(table, ())))


def _places(table: str, column: str, row: Any, value: Any) -> list[tuple[str, str]]:
    """(token, its place) for each token a stored value holds."""
    if value is None:
        return []
    kind = tables.metadata.tables[table].c[column].type
    if isinstance(value, dict):
        return [(v, place(table, f"{column}.{k}")) for k, v in value.items() if k in SEALED_FIELDS and isinstance(v, str)]
    assert isinstance(kind, Sealed)
    return [(value, place(table, column, getattr(row, kind.row_key)))]


def _resealed_token(token: str, at: str) -> str:
    """Under the first key; left as it is when it is already, or when no key of ours reads it here."""
    if KEYRING.is_current(token):
        return token
    try:
        return KEYRING.reseal(token, at)
    except Unreadable:
        return token


def _resealed(table: str, column: str, row: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_resealed_token(v, place(table, f"{column}.{k}")) if k in SEALED_FIELDS and isinstance(v, str)
                    else v) for k, v in value.items()}
    return _resealed_token(value, _places(table, column, row, value)[0][1])


def _count(table: str, tally: dict[str, ColumnTally], row: Any, columns: list[str],
           resealing: bool) -> dict[str, Any]:
    """Tally a row's tokens; the columns to write back when ``resealing``."""
    changes: dict[str, Any] = {}
    for c in columns:
        value, t = getattr(row, c), tally[c]
        for token, at in _places(table, c, row, value):
            t.values += 1
            if KEYRING.is_current(token):
                t.current += 1
                continue
            try:
                KEYRING.unseal(token, at)
            except Unreadable:
                t.unreadable += 1
                continue
            if resealing:
                t.resealed += 1
                changes[c] = value
    if resealing:
        changes = {c: _resealed(table, c, row, v) for c, v in changes.items()}
    return changes


def _wallet_digest(row: Any, tally: ColumnTally, resealing: bool) -> dict[str, str]:
    """Tally a wallet's digest; when its row holds another key's and ``resealing``, the first key's, with the
    owner sealed again for it (the digest is the owner's row key)."""
    tally.values += 1
    try:
        owner = KEYRING.unseal(row.owner, place("wallets", "owner", row.owner_digest))
    except Unreadable:
        tally.unreadable += 1
        return {}
    digest = KEYRING.digest(owner)
    if digest == row.owner_digest:
        tally.current += 1
        return {}
    if resealing:
        tally.resealed += 1
        return {"owner_digest": digest, "owner": KEYRING.seal(owner, place("wallets", "owner", digest))}
    return {}


def _digest(table: str, row: Any, columns: tuple[str, str], tally: ColumnTally, resealing: bool) -> dict[str, str]:
    """Tally a row's digest of a sealed value; when it is another key's and ``resealing``, the first key's."""
    digest_column, sealed_column = columns
    if getattr(row, digest_column) is None:
        return {}
    tally.values += 1
    try:
        value = KEYRING.unseal(getattr(row, sealed_column), place(table, sealed_column, row.id))
    except Unreadable:
        tally.unreadable += 1
        return {}
    digest = KEYRING.digest(value)
    if digest == getattr(row, digest_column):
        tally.current += 1
        return {}
    if resealing:
        tally.resealed += 1
        return {digest_column: digest}
    return {}


def survey_or_rotate(engine: Engine, resealing: bool, progress: Callable[[int], None] = lambda n: None,
                     chunk: int = CHUNK) -> list[ColumnTally]:
    """Count each sealed column's values by key; with ``resealing``, re-seal those under an older key and
    give wallets and customers their first-key digests. ``progress(rows)`` after each chunk."""
    out: list[ColumnTally] = []
    for name, columns in sealed_columns().items():
        raw = _raw(name, columns)
        tally = {c: ColumnTally(name, c) for c in columns + (["owner_digest"] if name == "wallets" else [])
                 + [d for d, _ in DIGESTS.get(name, ())]}
        last, waits = 0, 0
        while True:
            counted = {c: replace(t) for c, t in tally.items()}
            try:
                rows = _chunk(engine, raw, name, columns, last, chunk, counted, resealing)
            except DBAPIError as e:  # a deadlock with live traffic: the chunk again, from its start
                waits += 1
                if not is_lock_wait(e) or waits > LOCK_RETRIES:
                    raise
                continue
            tally = counted
            if not rows:
                break
            last = rows[-1].id
            progress(len(rows))
        out.extend(tally.values())
    return out


def _chunk(engine: Engine, raw: Table, name: str, columns: list[str], after: int, size: int,
           tally: dict[str, ColumnTally], resealing: bool) -> list[Any]:
    """One transaction: the rows after ``after``, tallied and (``resealing``) re-sealed, locked meanwhile."""
    with engine.begin() as conn:
        stmt = select(raw).where(raw.c.id > after).order_by(raw.c.id).limit(size)
        rows = conn.execute(stmt.with_for_update() if resealing else stmt).all()
        for row in rows:
            changes = _count(name, tally, row, columns, resealing)
            if name == "wallets":
                changes.update(_wallet_digest(row, tally["owner_digest"], resealing))
            for pair in DIGESTS.get(name, ()):
                changes.update(_digest(name, row, pair, tally[pair[0]], resealing))
            if changes:
                conn.execute(update(raw).where(raw.c.id == row.id).values(**changes))
    return list(rows)


def rows_to_visit(engine: Engine) -> int:
    """How many rows a survey or a rotation reads."""
    with engine.connect() as conn:
        return sum(int(conn.execute(select(func.count()).select_from(tables.metadata.tables[name])).scalar() or 0)
                   for name in sealed_columns())
