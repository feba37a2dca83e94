"""payment orders and bank events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:22:29.532530
"""
from alembic import op
import sqlalchemy as sa

import adapters.db.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('operation_date', sa.String(length=8), nullable=False),
    sa.Column('started_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('bank_orders', sa.Integer(), nullable=False),
    sa.Column('ledger_orders', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('mismatches', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_runs_operation_date'), ['operation_date'], unique=False)

    op.create_table('reconciliation_mismatches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tracking_key', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ours', sa.JSON(), nullable=True),
    sa.Column('bank', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'], name=op.f('fk_reconciliation_mismatches_run_id_reconciliation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_mismatches')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('reconciliation_mismatches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_mismatches_run_id'), ['run_id'], unique=False)

    op.create_table('payment_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uetr', sa.String(length=36), nullable=False),
    sa.Column('tracking_key', sa.String(length=30), nullable=False),
    sa.Column('source', sa.Enum('bank_transfer', 'bulk_row', name='paymentsource', native_enum=False, length=32), nullable=False),
    sa.Column('bank_transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.Enum('created', 'sending', 'sent', 'liquidated', 'cancelled', 'returned', name='paymentorderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('beneficiary_account', sa.String(length=18), nullable=False),
    sa.Column('beneficiary_name', sa.String(length=120), nullable=False),
    sa.Column('beneficiary_rfc_curp', sa.String(length=18), nullable=False),
    sa.Column('beneficiary_institution', sa.String(length=5), nullable=False),
    sa.Column('concept', sa.String(length=40), nullable=False),
    sa.Column('numeric_reference', sa.Integer(), nullable=False),
    sa.Column('operation_date', sa.String(length=8), nullable=False),
    sa.Column('bank_order_id', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('return_cause', sa.String(length=255), nullable=True),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('sent_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('liquidated_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('returned_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('updated_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['bank_transfer_id'], ['bank_transfers.id'], name=op.f('fk_payment_orders_bank_transfer_id_bank_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_orders')),
    sa.UniqueConstraint('bank_order_id', name=op.f('uq_payment_orders_bank_order_id')),
    sa.UniqueConstraint('bank_transfer_id', name=op.f('uq_payment_orders_bank_transfer_id')),
    sa.UniqueConstraint('tracking_key', name=op.f('uq_payment_orders_tracking_key')),
    sa.UniqueConstraint('uetr', name=op.f('uq_payment_orders_uetr')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.create_index('ix_payment_orders_operation_date', ['operation_date'], unique=False)
        batch_op.create_index('ix_payment_orders_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('bank_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('estado', sa.String(length=32), nullable=False),
    sa.Column('bank_order_id', sa.BigInteger(), nullable=True),
    sa.Column('folio_origen', sa.String(length=64), nullable=True),
    sa.Column('received_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payment_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('processed_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['payment_order_id'], ['payment_orders.id'], name=op.f('fk_bank_events_payment_order_id_payment_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_events')),
    sa.UniqueConstraint('body_hash', name=op.f('uq_bank_events_body_hash')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('bank_events', schema=None) as batch_op:
        batch_op.create_index('ix_bank_events_status_received', ['status', 'received_at'], unique=False)

    op.create_table('payment_order_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('payment_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('previous_status', sa.Enum('created', 'sending', 'sent', 'liquidated', 'cancelled', 'returned', name='paymentorderstatus', native_enum=False, length=32), nullable=True),
    sa.Column('status', sa.Enum('created', 'sending', 'sent', 'liquidated', 'cancelled', 'returned', name='paymentorderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['payment_order_id'], ['payment_orders.id'], name=op.f('fk_payment_order_status_history_payment_order_id_payment_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_order_status_history')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('payment_order_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_order_status_history_payment_order_id'), ['payment_order_id'], unique=False)



def downgrade() -> None:
    op.drop_table('payment_order_status_history')  # its indexes go with it
    op.drop_table('bank_events')  # its indexes go with it
    op.drop_table('payment_orders')  # its indexes go with it
    op.drop_table('reconciliation_mismatches')  # its indexes go with it
    op.drop_table('reconciliation_runs')  # its indexes go with it
