"""bulk payouts: tenants (and keys bound to one), batches, their sub-batches and instructions, and the
closed loop's wallets and entries

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00
"""
from typing import Any

from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TABLE: dict[str, Any] = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _pk(name: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}'))


def upgrade() -> None:
    op.create_table(
        'tenants',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('config', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(64), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        _pk('tenants'), sa.UniqueConstraint('name', name=op.f('uq_tenants_name')), **TABLE)
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.add_column(sa.Column('tenant_id', ID, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_api_keys_tenant_id_tenants'), 'tenants', ['tenant_id'], ['id'])
    op.create_table(
        'batches',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('batch_id', sa.String(36), nullable=False),
        sa.Column('tenant_id', ID, sa.ForeignKey('tenants.id', name=op.f('fk_batches_tenant_id_tenants')),
                  nullable=False),
        sa.Column('request_id', sa.String(64), nullable=False),
        sa.Column('content_sha256', sa.String(64), nullable=False),
        sa.Column('filename', sa.String(255), nullable=False),
        sa.Column('purpose', sa.String(64), nullable=False),
        sa.Column('callback_url', sa.String(1024), nullable=True),
        sa.Column('source', sa.String(8), nullable=False),
        sa.Column('stored_at', sa.String(255), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('reason', sa.String(512), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('submitted_by_key_id', ID, nullable=True),
        sa.Column('approved_by_key_id', ID, nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.Column('completed_at', UtcDateTime(), nullable=True),
        _pk('batches'), sa.UniqueConstraint('batch_id', name=op.f('uq_batches_batch_id')),
        sa.UniqueConstraint('tenant_id', 'request_id', name=op.f('uq_batches_tenant_id_request_id')), **TABLE)
    op.create_index('ix_batches_tenant_created', 'batches', ['tenant_id', 'created_at'])
    op.create_table(
        'sub_batches',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('batch_pk', ID, sa.ForeignKey('batches.id', name=op.f('fk_sub_batches_batch_pk_batches')),
                  nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('payment_mode', sa.String(32), nullable=False),
        sa.Column('connector', sa.String(16), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        _pk('sub_batches'),
        sa.UniqueConstraint('batch_pk', 'number', name=op.f('uq_sub_batches_batch_pk_number')), **TABLE)
    op.create_table(
        'instructions',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('batch_pk', ID, sa.ForeignKey('batches.id', name=op.f('fk_instructions_batch_pk_batches')),
                  nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('sub_batch', sa.Integer(), nullable=True),
        sa.Column('instruction_id', sa.String(48), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('payment_mode', sa.String(32), nullable=False),
        sa.Column('connector', sa.String(16), nullable=True),
        sa.Column('payee_identifier', sa.String(64), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('error_code', sa.String(32), nullable=True),
        sa.Column('error_description', sa.String(512), nullable=True),
        sa.Column('connector_reference', sa.String(64), nullable=True),
        sa.Column('payment_order_id', ID, sa.ForeignKey(
            'payment_orders.id', name=op.f('fk_instructions_payment_order_id_payment_orders')), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        _pk('instructions'),
        sa.UniqueConstraint('instruction_id', name=op.f('uq_instructions_instruction_id')),
        sa.UniqueConstraint('batch_pk', 'row', name=op.f('uq_instructions_batch_pk_row')), **TABLE)
    op.create_index('ix_instructions_batch_sub_batch', 'instructions', ['batch_pk', 'sub_batch'])
    op.create_index('ix_instructions_batch_status', 'instructions', ['batch_pk', 'status'])
    op.create_table(
        'wallets',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('tenant_id', ID, sa.ForeignKey('tenants.id', name=op.f('fk_wallets_tenant_id_tenants')),
                  nullable=False),
        sa.Column('owner', sa.String(64), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('balance', sa.BigInteger(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _pk('wallets'),
        sa.UniqueConstraint('tenant_id', 'owner', 'currency', name=op.f('uq_wallets_tenant_id_owner_currency')),
        **TABLE)
    op.create_table(
        'wallet_entries',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('debit_wallet_id', ID, sa.ForeignKey(
            'wallets.id', name=op.f('fk_wallet_entries_debit_wallet_id_wallets')), nullable=True),
        sa.Column('credit_wallet_id', ID, sa.ForeignKey(
            'wallets.id', name=op.f('fk_wallet_entries_credit_wallet_id_wallets')), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('reference', sa.String(128), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        _pk('wallet_entries'),
        sa.UniqueConstraint('reference', name=op.f('uq_wallet_entries_reference')), **TABLE)


def downgrade() -> None:
    op.drop_table('wallet_entries')
    op.drop_table('wallets')
    op.drop_index('ix_instructions_batch_status', table_name='instructions')
    op.drop_index('ix_instructions_batch_sub_batch', table_name='instructions')
    op.drop_table('instructions')
    op.drop_table('sub_batches')
    op.drop_index('ix_batches_tenant_created', table_name='batches')
    op.drop_table('batches')
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_keys_tenant_id_tenants'), type_='foreignkey')
        batch_op.drop_column('tenant_id')
    op.drop_table('tenants')
