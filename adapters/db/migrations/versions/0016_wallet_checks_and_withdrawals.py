"""the closed loop's books checked: fundings come out of an explicit outside account (a wallet per tenant and
currency, owner ``outside``, the one allowed below zero) instead of out of no wallet at all; CHECK
constraints on balances and entries; and withdrawals, a wallet's money paid out over SPEI at most once per
reference.

Existing fundings (entries with no debit wallet) are moved onto their tenant's outside account in their
currency, made for the purpose with the balance minus what they funded. That needs DISPERSA_DATA_KEYS
when there are fundings (the account's owner is sealed, as every wallet's). Each step is skipped when it
is done already, so the upgrade can be run again after a failure (MariaDB commits schema changes one by
one).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 20:30:00
"""
from datetime import datetime, timezone
from typing import Any

from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime
from adapters.sealing import KEYRING, KeysMissing, place

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OUTSIDE = 'outside'
MAX_MINOR = 2**53 - 1
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
W = sa.table('wallets', sa.column('id'), sa.column('tenant_id'), sa.column('owner'), sa.column('owner_digest'),
             sa.column('currency'), sa.column('balance'), sa.column('created_at', UtcDateTime()),
             sa.column('outside'))
E = sa.table('wallet_entries', sa.column('id'), sa.column('debit_wallet_id'), sa.column('credit_wallet_id'),
             sa.column('amount'))
CHECKS = {
    'wallets': {'balance_not_below_zero': 'balance >= 0 OR outside',
                'balance_within_bound': f'balance BETWEEN -{MAX_MINOR} AND {MAX_MINOR}'},
    'wallet_entries': {'amount_positive': f'amount BETWEEN 1 AND {MAX_MINOR}',
                       'two_wallets': 'debit_wallet_id <> credit_wallet_id'},
}


def _inspect() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def _columns(table: str) -> set[str]:
    return {c['name'] for c in _inspect().get_columns(table)}


def _checks(table: str) -> set[str]:
    return {str(c['name']) for c in _inspect().get_check_constraints(table)}


def _fundings() -> list[Any]:
    """Per tenant and currency, what the entries with no debit wallet funded."""
    return list(op.get_bind().execute(
        sa.select(W.c.tenant_id, W.c.currency, sa.func.sum(E.c.amount)).select_from(
            E.join(W, W.c.id == E.c.credit_wallet_id)).where(E.c.debit_wallet_id.is_(None))
        .group_by(W.c.tenant_id, W.c.currency)))


def _outside_account(tenant_id: int, currency: str) -> int:
    conn = op.get_bind()
    found = conn.execute(sa.select(W.c.id).where(W.c.tenant_id == tenant_id, W.c.currency == currency,
                                                 W.c.outside.is_(True))).scalar()
    if found is not None:
        return int(found)
    digest = KEYRING.digest(OUTSIDE)
    conn.execute(W.insert().values(tenant_id=tenant_id, owner=KEYRING.seal(OUTSIDE, place('wallets', 'owner', digest)),
                                   owner_digest=digest, currency=currency, balance=0, outside=True,
                                   created_at=datetime.now(timezone.utc)))
    return int(conn.execute(sa.select(W.c.id).where(W.c.tenant_id == tenant_id, W.c.currency == currency,
                                                    W.c.owner_digest == digest)).scalar_one())


def _move_fundings_onto_outside_accounts() -> None:
    conn = op.get_bind()
    fundings = _fundings()
    if fundings and not KEYRING.loaded:
        raise KeysMissing('the wallets were funded: set DISPERSA_DATA_KEYS to seal their outside accounts')
    for tenant_id, currency, funded in fundings:
        outside = _outside_account(tenant_id, currency)
        credited = sa.select(W.c.id).where(W.c.tenant_id == tenant_id, W.c.currency == currency).scalar_subquery()
        conn.execute(E.update().where(E.c.debit_wallet_id.is_(None), E.c.credit_wallet_id.in_(credited))
                     .values(debit_wallet_id=outside))
        conn.execute(W.update().where(W.c.id == outside).values(balance=W.c.balance - int(funded)))


def upgrade() -> None:
    if 'outside' not in _columns('wallets'):
        op.add_column('wallets', sa.Column('outside', sa.Boolean(), nullable=False, server_default=sa.false()))
    _move_fundings_onto_outside_accounts()
    with op.batch_alter_table('wallet_entries') as batch:
        batch.alter_column('debit_wallet_id', existing_type=ID, nullable=False)
    for table, checks in CHECKS.items():
        missing = {name: rule for name, rule in checks.items() if f'ck_{table}_{name}' not in _checks(table)}
        if missing:
            with op.batch_alter_table(table) as batch:
                for name, rule in missing.items():
                    batch.create_check_constraint(op.f(f'ck_{table}_{name}'), sa.text(rule))
    if 'wallet_withdrawals' not in _inspect().get_table_names():
        op.create_table(
            'wallet_withdrawals',
            sa.Column('id', ID, autoincrement=True, nullable=False),
            sa.Column('tenant_id', ID, nullable=False),
            sa.Column('wallet_id', ID, nullable=False),
            sa.Column('reference', sa.String(64), nullable=False),
            sa.Column('request_sha256', sa.String(64), nullable=False),
            sa.Column('amount', sa.BigInteger(), nullable=False),
            sa.Column('currency', sa.String(3), nullable=False),
            sa.Column('uetr', sa.String(36), nullable=False),
            sa.Column('payment_order_id', ID, nullable=True),
            sa.Column('requested_by_key_id', ID, nullable=True),
            sa.Column('created_at', UtcDateTime(), nullable=False),
            sa.Column('status', sa.Enum('awaiting_approval', 'approved', 'rejected', name='withdrawalstatus',
                                        native_enum=False, length=32, create_constraint=False), nullable=False),
            sa.Column('decided_by_key_id', ID, nullable=True),
            sa.CheckConstraint(f'amount BETWEEN 1 AND {MAX_MINOR}', name=op.f('ck_wallet_withdrawals_amount_positive')),
            sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_wallet_withdrawals_tenant_id_tenants')),
            sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_wallet_withdrawals_wallet_id_wallets')),
            sa.ForeignKeyConstraint(['payment_order_id'], ['payment_orders.id'],
                                    name=op.f('fk_wallet_withdrawals_payment_order_id_payment_orders')),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_withdrawals')),
            sa.UniqueConstraint('tenant_id', 'reference', name=op.f('uq_wallet_withdrawals_tenant_id_reference')),
            sa.UniqueConstraint('uetr', name=op.f('uq_wallet_withdrawals_uetr')),
            sa.UniqueConstraint('payment_order_id', name=op.f('uq_wallet_withdrawals_payment_order_id')),
        )


def downgrade() -> None:
    if 'wallet_withdrawals' in _inspect().get_table_names():
        op.drop_table('wallet_withdrawals')
    for table, checks in CHECKS.items():
        present = [name for name in checks if f'ck_{table}_{name}' in _checks(table)]
        if present:
            with op.batch_alter_table(table) as batch:
                for name in present:
                    batch.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
    if 'outside' in _columns('wallets'):
        conn = op.get_bind()
        outside = sa.select(W.c.id).where(W.c.outside.is_(True)).scalar_subquery()
        with op.batch_alter_table('wallet_entries') as batch:
            batch.alter_column('debit_wallet_id', existing_type=ID, nullable=True)
        conn.execute(E.update().where(E.c.debit_wallet_id.in_(outside)).values(debit_wallet_id=None))
        conn.execute(W.delete().where(W.c.outside.is_(True)))
        op.drop_column('wallets', 'outside')
