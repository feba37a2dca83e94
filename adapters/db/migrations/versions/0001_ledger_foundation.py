"""ledger foundation

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:13:58.728020
"""
from alembic import op
import sqlalchemy as sa

import adapters.db.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('api_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('resource', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    op.create_table('event_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bank_transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reference', sa.String(length=80), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_log')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('event_log', schema=None) as batch_op:
        batch_op.create_index('ix_event_log_kind_at', ['kind', 'at'], unique=False)

    op.create_table('merchants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_rate', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('status', sa.Enum('enabled', 'disabled', name='merchantstatus', native_enum=False, length=32), nullable=False),
    sa.Column('validated', sa.Boolean(), nullable=False),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchants')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('queue_name', sa.String(length=64), nullable=False),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=True),
    sa.Column('delay_ms', sa.Integer(), nullable=True),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('published_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_published_at', ['published_at', 'id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('revoked_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_api_keys_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    op.create_table('commission_tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('min_origination', sa.BigInteger(), nullable=False),
    sa.Column('commission_rate', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_commission_tiers_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commission_tiers')),
    sa.UniqueConstraint('merchant_id', 'min_origination', name=op.f('uq_commission_tiers_merchant_id_min_origination')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    op.create_table('commission_updates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('origination', sa.BigInteger(), nullable=False),
    sa.Column('commission_rate', adapters.db.types.DecimalText(length=24), nullable=True),
    sa.Column('options_updated', sa.Integer(), nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_commission_updates_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commission_updates')),
    sa.UniqueConstraint('merchant_id', 'month', name=op.f('uq_commission_updates_merchant_id_month')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    op.create_table('stores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('clabe', sa.String(length=18), nullable=False),
    sa.Column('beneficiary_name', sa.String(length=120), nullable=False),
    sa.Column('rfc_curp', sa.String(length=18), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('disbursement_mode', sa.Enum('instant', 'hourly', 'daily', 'weekly', 'monthly', name='disbursementmode', native_enum=False, length=32), nullable=False),
    sa.Column('time_of_day', sa.Time(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('day_of_month', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('minimum_transfer', sa.BigInteger(), nullable=False),
    sa.Column('automation_enabled', sa.Boolean(), nullable=False),
    sa.Column('requires_confirmation', sa.Boolean(), nullable=False),
    sa.Column('validated', sa.Boolean(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_stores_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stores')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stores_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('bank_transfers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('waiting_confirmation', 'sending', 'in_transit', 'applied', 'cancelled', 'rejected', name='transferstatus', native_enum=False, length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('trigger_key', sa.String(length=64), nullable=False),
    sa.Column('requires_confirmation', sa.Boolean(), nullable=False),
    sa.Column('returned_after_applied', sa.Boolean(), nullable=False),
    sa.Column('status_reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_bank_transfers_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_transfers')),
    sa.UniqueConstraint('store_id', 'trigger_key', name=op.f('uq_bank_transfers_store_id_trigger_key')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('bank_transfers', schema=None) as batch_op:
        batch_op.create_index('ix_bank_transfers_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('payment_options',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number_of_payments', sa.Integer(), nullable=False),
    sa.Column('a0_interest_rate', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('c3_interest_rate', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('discount_percentage', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('merchant_commission', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('first_payment_month_shift', sa.Integer(), nullable=False),
    sa.Column('starting_time', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('ending_time', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('identifier_code', sa.String(length=64), nullable=False),
    sa.Column('min_amount', sa.BigInteger(), nullable=False),
    sa.Column('max_amount', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('is_promo', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('can_commission_be_auto_updated', sa.Boolean(), nullable=False),
    sa.Column('is_in_trial_period', sa.Boolean(), nullable=False),
    sa.Column('trial_commission', adapters.db.types.DecimalText(length=24), nullable=True),
    sa.Column('end_of_trial_period', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('validated', sa.Boolean(), nullable=False),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_payment_options_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_payment_options_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_options')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('payment_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_options_store_id'), ['store_id'], unique=False)

    op.create_table('trigger_evaluations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period_key', sa.String(length=64), nullable=False),
    sa.Column('due_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('evaluated_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('pending_total', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_trigger_evaluations_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trigger_evaluations')),
    sa.UniqueConstraint('store_id', 'period_key', name=op.f('uq_trigger_evaluations_store_id_period_key')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('trigger_evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_trigger_evaluations_store_due', ['store_id', 'due_at'], unique=False)

    op.create_table('bank_transfer_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bank_transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('previous_status', sa.Enum('waiting_confirmation', 'sending', 'in_transit', 'applied', 'cancelled', 'rejected', name='transferstatus', native_enum=False, length=32), nullable=True),
    sa.Column('status', sa.Enum('waiting_confirmation', 'sending', 'in_transit', 'applied', 'cancelled', 'rejected', name='transferstatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bank_transfer_id'], ['bank_transfers.id'], name=op.f('fk_bank_transfer_status_history_bank_transfer_id_bank_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_transfer_status_history')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('bank_transfer_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_transfer_status_history_bank_transfer_id'), ['bank_transfer_id'], unique=False)

    op.create_table('credits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_option_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('number_of_payments', sa.Integer(), nullable=False),
    sa.Column('commission_rate', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('tax_rate', adapters.db.types.DecimalText(length=24), nullable=False),
    sa.Column('commission', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('contribution', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('signed', 'active', 'frozen', 'in_dispute', 'paid', 'cancelled', name='creditstatus', native_enum=False, length=32), nullable=False),
    sa.Column('cancellation_reason', sa.Enum('rejected', 'returned', 'fraud', 'death', 'refinanced', name='cancellationreason', native_enum=False, length=32), nullable=True),
    sa.Column('signed_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('delivered_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('cancelled_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('disbursed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_credits_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['payment_option_id'], ['payment_options.id'], name=op.f('fk_credits_payment_option_id_payment_options')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_credits_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credits')),
    sa.UniqueConstraint('external_id', name=op.f('uq_credits_external_id')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.create_index('ix_credits_merchant_signed', ['merchant_id', 'signed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credits_store_id'), ['store_id'], unique=False)

    op.create_table('balance_updates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.Enum('contribution', 'disbursement', 'credit_cancellation', 'adjustment', 'disbursement_override', 'balance_compensation', 'balance_readjustment', name='balanceupdatetype', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'in_transit', 'applied', name='balanceupdatestatus', native_enum=False, length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('previous_balance', sa.BigInteger(), nullable=False),
    sa.Column('new_balance', sa.BigInteger(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bank_transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('admin_creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('overwritten', sa.Boolean(), nullable=False),
    sa.Column('overwritten_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=True),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bank_transfer_id'], ['bank_transfers.id'], name=op.f('fk_balance_updates_bank_transfer_id_bank_transfers')),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_balance_updates_credit_id_credits')),
    sa.ForeignKeyConstraint(['overwritten_by_id'], ['balance_updates.id'], name=op.f('fk_balance_updates_overwritten_by_id_balance_updates')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_balance_updates_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_updates')),
    sa.UniqueConstraint('bank_transfer_id', 'type', name=op.f('uq_balance_updates_bank_transfer_id_type')),
    sa.UniqueConstraint('credit_id', 'type', name=op.f('uq_balance_updates_credit_id_type')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_balance_updates_idempotency_key')),
    sa.UniqueConstraint('store_id', 'sequence', name=op.f('uq_balance_updates_store_id_sequence')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('balance_updates', schema=None) as batch_op:
        batch_op.create_index('ix_balance_updates_store_status', ['store_id', 'status'], unique=False)

    op.create_table('balance_update_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('balance_update_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('previous_status', sa.Enum('pending', 'in_transit', 'applied', name='balanceupdatestatus', native_enum=False, length=32), nullable=True),
    sa.Column('status', sa.Enum('pending', 'in_transit', 'applied', name='balanceupdatestatus', native_enum=False, length=32), nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['balance_update_id'], ['balance_updates.id'], name=op.f('fk_balance_update_status_history_balance_update_id_balance_updates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_update_status_history')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )
    with op.batch_alter_table('balance_update_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balance_update_status_history_balance_update_id'), ['balance_update_id'], unique=False)

    op.create_table('bank_transfer_items',
    sa.Column('bank_transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('balance_update_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['balance_update_id'], ['balance_updates.id'], name=op.f('fk_bank_transfer_items_balance_update_id_balance_updates')),
    sa.ForeignKeyConstraint(['bank_transfer_id'], ['bank_transfers.id'], name=op.f('fk_bank_transfer_items_bank_transfer_id_bank_transfers')),
    sa.PrimaryKeyConstraint('bank_transfer_id', 'balance_update_id', name=op.f('pk_bank_transfer_items')),
    mysql_engine='InnoDB',
    mysql_charset='utf8mb4',
    )


def downgrade() -> None:
    op.drop_table('bank_transfer_items')
    op.drop_table('balance_update_status_history')  # its indexes go with it
    op.drop_table('balance_updates')  # its indexes go with it
    op.drop_table('credits')  # its indexes go with it
    op.drop_table('bank_transfer_status_history')  # its indexes go with it
    op.drop_table('trigger_evaluations')  # its indexes go with it
    op.drop_table('payment_options')  # its indexes go with it
    op.drop_table('bank_transfers')  # its indexes go with it
    op.drop_table('stores')  # its indexes go with it
    op.drop_table('commission_updates')
    op.drop_table('commission_tiers')
    op.drop_table('api_keys')
    op.drop_table('outbox')  # its indexes go with it
    op.drop_table('merchants')
    op.drop_table('event_log')  # its indexes go with it
    op.drop_table('audit_log')
