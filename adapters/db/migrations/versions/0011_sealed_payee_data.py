"""payee data sealed at rest: stores' and payment orders' accounts and names, bulk rows' parties and
closed-loop wallets' owners become AES-GCM tokens under DISPERSA_DATA_KEYS (wallets are found by the
owner's digest); rows already there are sealed in place, and unsealed again by the downgrade. Payment
events, audit rows and event-log rows written before keep payees masked from now on (that is not undone).

MariaDB commits each schema change on its own, so every step here can be run again after a failure:
a value already sealed is not sealed twice, nor a plain one unsealed, and each change of the wallets'
keys is made only if it is not there yet.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00
"""
from typing import Any, Callable

from alembic import op
import sqlalchemy as sa

from adapters.db.types import SEALED_FIELDS
from adapters.sealing import KEYRING, KeysMissing, Unreadable
from domain import masking

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# (table, column, its type before, nullable); wallets' owner is done on its own, around its keys
SEALED = [
    ('stores', 'clabe', sa.String(18), False),
    ('stores', 'beneficiary_name', sa.String(120), False),
    ('stores', 'validated_clabe', sa.String(18), True),
    ('stores', 'validated_beneficiary_name', sa.String(120), True),
    ('payment_orders', 'beneficiary_account', sa.String(18), False),
    ('payment_orders', 'beneficiary_name', sa.String(120), False),
    ('instructions', 'payee_identifier', sa.String(64), False),
]
OWNER = sa.String(64)
CHUNK = 1000


def _rewrite(table: str, columns: list[str], change: Callable[[Any], dict[str, Any]]) -> None:
    """Every row's ``columns`` set to what ``change(row)`` gives, a chunk of rows a statement."""
    conn = op.get_bind()
    t = sa.table(table, sa.column('id'), *(sa.column(c, sa.JSON() if c in ('fields', 'details') else sa.Text())
                                           for c in columns))
    last = 0
    while True:
        rows = conn.execute(sa.select(t).where(t.c.id > last).order_by(t.c.id).limit(CHUNK)).all()
        if not rows:
            return
        conn.execute(t.update().where(t.c.id == sa.bindparam('_id')).values(
            {c: sa.bindparam(f'_{c}') for c in columns}),
            [{'_id': r.id, **{f'_{k}': v for k, v in change(r).items()}} for r in rows])
        last = rows[-1].id


def _turned(row: Any, columns: list[str], turn: Callable[[str], str]) -> dict[str, Any]:
    """The row's ``columns`` sealed or unsealed (``turn``); of a bulk row's fields, only its parties."""
    out: dict[str, Any] = {}
    for c in columns:
        value = getattr(row, c)
        if value is None:
            out[c] = None
        elif c == 'fields':
            out[c] = {k: (turn(str(v)) if k in SEALED_FIELDS and v is not None else v) for k, v in value.items()} \
                if isinstance(value, dict) else value
        else:
            out[c] = turn(value)
    return out


def _is_token(value: str) -> bool:
    try:
        KEYRING.unseal_unbound(value)
    except Unreadable:
        return False
    return True


def _seal(value: str) -> str:  # tokens bound to no place then; revision 0015 binds them to their rows
    return value if _is_token(value) else KEYRING.seal_unbound(value)


def _unseal(value: str) -> str:
    return KEYRING.unseal_unbound(value) if _is_token(value) else value


def _has(table: str, column: str | None = None, unique: str | None = None) -> bool:
    found = sa.inspect(op.get_bind())
    if column is not None:
        return column in [c['name'] for c in found.get_columns(table)]
    return unique in [u['name'] for u in found.get_unique_constraints(table)]


def _mask_history() -> None:
    """Payees in what was written before: events' accounts, audit and event-log details and messages."""
    _rewrite('payment_events', ['details'], lambda r: {'details': masking.deep(r.details)})
    for table in ('audit_log', 'event_log'):
        _rewrite(table, ['details'], lambda r: {'details': masking.deep(r.details)})
    _rewrite('event_log', ['message'], lambda r: {'message': _masked_message(r.message)})


def _masked_message(message: str | None) -> str | None:
    if not message:
        return message
    text = masking.in_text(message)
    if ' validated: payouts go to ' in text and text.endswith(')'):  # "… (the payee's name)"
        head, _, name = text[:-1].rpartition(' (')
        text = f"{head} ({masking.name(name)})"
    return text


def _columns(table: str) -> list[str]:
    return [c for t, c, _, _ in SEALED if t == table] + (['fields'] if table == 'instructions' else [])


def _turn_all(turn: Callable[[str], str]) -> None:
    """Seal (or unseal) the payee columns of stores, payment orders and bulk rows."""
    for table in ('stores', 'payment_orders', 'instructions'):
        columns = _columns(table)
        _rewrite(table, columns, lambda r: _turned(r, columns, turn))  # noqa: B023 (used at once)


def _require_keys() -> None:
    """Stop before any change when there are rows to seal or unseal and no key to do it with."""
    if KEYRING.loaded:
        return
    conn = op.get_bind()
    for table in ('stores', 'payment_orders', 'instructions', 'wallets'):
        if conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar():
            raise KeysMissing(f"the database holds {table} to seal or unseal: set DISPERSA_DATA_KEYS "
                              "(`dispersa keys generate` prints a new key)")


def _wallets_unique_by(column: str, instead_of: str) -> None:
    """One wallet per tenant, ``column`` and currency: the new key made before the old one goes (the foreign
    key on tenant_id always has an index); each step only if it is not done yet."""
    new, old = (f'uq_wallets_tenant_id_{c}_currency' for c in (column, instead_of))
    if not _has('wallets', unique=new):
        with op.batch_alter_table('wallets') as batch:
            batch.create_unique_constraint(op.f(new), ['tenant_id', column, 'currency'])
    if _has('wallets', unique=old):
        with op.batch_alter_table('wallets') as batch:
            batch.drop_constraint(op.f(old), type_='unique')


def upgrade() -> None:
    _require_keys()
    for table, column, before, nullable in SEALED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Text(), existing_type=before, existing_nullable=nullable)
    _turn_all(_seal)
    # wallets: the digest first (from the owner as it is), then the old key can go and the owner be sealed
    if not _has('wallets', column='owner_digest'):
        with op.batch_alter_table('wallets') as batch:
            batch.add_column(sa.Column('owner_digest', sa.String(64), nullable=True))
    _rewrite('wallets', ['owner', 'owner_digest'],
             lambda r: {'owner': r.owner, 'owner_digest': KEYRING.digest(_unseal(r.owner))})
    with op.batch_alter_table('wallets') as batch:
        batch.alter_column('owner_digest', existing_type=sa.String(64), nullable=False)
    _wallets_unique_by('owner_digest', instead_of='owner')
    with op.batch_alter_table('wallets') as batch:
        batch.alter_column('owner', type_=sa.Text(), existing_type=OWNER, existing_nullable=False)
    _rewrite('wallets', ['owner'], lambda r: {'owner': _seal(r.owner)})
    _mask_history()


def downgrade() -> None:
    _require_keys()
    _rewrite('wallets', ['owner'], lambda r: {'owner': _unseal(r.owner)})
    with op.batch_alter_table('wallets') as batch:
        batch.alter_column('owner', type_=OWNER, existing_type=sa.Text(), existing_nullable=False)
    _wallets_unique_by('owner', instead_of='owner_digest')
    if _has('wallets', column='owner_digest'):
        with op.batch_alter_table('wallets') as batch:
            batch.drop_column('owner_digest')
    _turn_all(_unseal)
    for table, column, before, nullable in SEALED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=before, existing_type=sa.Text(), existing_nullable=nullable)
