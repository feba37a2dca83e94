"""seals bound to their rows: every sealed value becomes a token whose associated data is its table, column
and row key (``stores.clabe#14``; payment orders and bulk rows by UETR, wallets by their owner's digest, a
bulk row's sealed fields by field), so that a token copied to another row, column or table is refused.
The downgrade unbinds them again.

A token already bound (or already unbound, going down) is left as it is, so the revision can be run again
after a failure. It needs DISPERSA_DATA_KEYS whenever there are rows to rewrite.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:00:00
"""
from typing import Any, Callable

from alembic import op
import sqlalchemy as sa

from adapters.sealing import KEYRING, UNBOUND, VERSION, KeysMissing, place

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

CHUNK = 1000
SEALED_FIELDS = ('payer_identifier', 'payee_identifier', 'note')  # a bulk row's sealed fields, as 0011 sealed them
# table -> (its row key, its sealed columns)
BOUND = {
    'stores': ('id', ['clabe', 'beneficiary_name', 'validated_clabe', 'validated_beneficiary_name']),
    'payment_orders': ('uetr', ['beneficiary_account', 'beneficiary_name']),
    'instructions': ('uetr', ['payee_identifier', 'fields']),
    'wallets': ('owner_digest', ['owner']),
}
Turn = Callable[[str, str], str]  # (token, its place) -> token


def _bind(token: str, at: str) -> str:
    return KEYRING.seal(KEYRING.unseal_unbound(token), at) if token.startswith(UNBOUND) else token


def _unbind(token: str, at: str) -> str:
    return KEYRING.seal_unbound(KEYRING.unseal(token, at)) if token.startswith(VERSION) else token


def _turned(table: str, column: str, row_key: Any, value: Any, turn: Turn) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: (turn(v, place(table, f'{column}.{k}')) if k in SEALED_FIELDS and isinstance(v, str) else v)
                for k, v in value.items()}
    return turn(value, place(table, column, row_key))


def _rewrite(table: str, turn: Turn) -> None:
    """Every sealed value of ``table`` turned, a chunk of rows a statement."""
    key, columns = BOUND[table]
    conn = op.get_bind()
    t = sa.table(table, sa.column('id'), *([sa.column(key)] if key != 'id' else []),
                 *(sa.column(c, sa.JSON() if c == 'fields' else sa.Text()) for c in columns))
    last = 0
    while True:
        rows = conn.execute(sa.select(t).where(t.c.id > last).order_by(t.c.id).limit(CHUNK)).all()
        if not rows:
            return
        conn.execute(t.update().where(t.c.id == sa.bindparam('_id')).values(
            {c: sa.bindparam(f'_{c}') for c in columns}),
            [{'_id': r.id, **{f'_{c}': _turned(table, c, getattr(r, key), getattr(r, c), turn) for c in columns}}
             for r in rows])
        last = rows[-1].id


def _require_keys() -> None:
    if KEYRING.loaded:
        return
    conn = op.get_bind()
    for table in BOUND:
        if conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar():
            raise KeysMissing(f"the database holds sealed {table}: set DISPERSA_DATA_KEYS to bind them to their rows")


def upgrade() -> None:
    _require_keys()
    for table in BOUND:
        _rewrite(table, _bind)


def downgrade() -> None:
    _require_keys()
    for table in BOUND:
        _rewrite(table, _unbind)
