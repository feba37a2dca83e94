"""loans: the customer's side of a credit (its customer, terms fixed at signature, days past due), its
schedule and installments, its status history, the loan requests that sign it, repayments with their
allocations and history, products' status history (interest stops while one is inactive), and the daily
servicing run's slices. Existing credits have no customer: they stay credits without a loan side.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 23:19:17
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

import adapters.db.types

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loan_servicing_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('slice', sa.Integer(), nullable=False),
    sa.Column('started_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('milliseconds', sa.Integer(), nullable=False),
    sa.Column('loans', sa.Integer(), nullable=False),
    sa.Column('fell_due', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_servicing_runs')),
    sa.UniqueConstraint('as_of', 'slice', name=op.f('uq_loan_servicing_runs_as_of_slice'))
    )
    op.create_table('product_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('active', 'inactive', name='productstatus', native_enum=False, length=32), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_status_history_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_status_history'))
    )
    with op.batch_alter_table('product_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_status_history_product_id'), ['product_id'], unique=False)

    op.create_table('loan_installments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('principal_paid', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('interest_paid', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('interest_state', sa.Enum('not_due', 'active', 'inactive', 'waived', 'void', name='intereststate', native_enum=False, length=16), nullable=False),
    sa.CheckConstraint('principal >= 0 AND interest >= 0 AND principal_paid >= 0 AND interest_paid >= 0 AND principal_paid <= principal AND interest_paid <= interest', name=op.f('ck_loan_installments_paid_within')),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_loan_installments_credit_id_credits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_installments')),
    sa.UniqueConstraint('credit_id', 'number', name=op.f('uq_loan_installments_credit_id_number'))
    )
    with op.batch_alter_table('loan_installments', schema=None) as batch_op:
        batch_op.create_index('ix_loan_installments_interest_state_due_on', ['interest_state', 'due_on'], unique=False)

    op.create_table('loan_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lender', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=64).with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=64), 'mariadb').with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=64), 'mysql'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('number_of_payments', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'rejected', 'completed', name='loanrequeststatus', native_enum=False, length=32), nullable=False),
    sa.Column('rejection', sa.String(length=255), nullable=True),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('decided_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_loan_requests_credit_id_credits')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loan_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_loan_requests_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_requests')),
    sa.UniqueConstraint('credit_id', name=op.f('uq_loan_requests_credit_id')),
    sa.UniqueConstraint('lender', 'external_id', name=op.f('uq_loan_requests_lender_external_id'))
    )
    with op.batch_alter_table('loan_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_requests_customer_id'), ['customer_id'], unique=False)

    op.create_table('loan_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.Enum('deliver', 'freeze', 'unfreeze', 'open_dispute', 'resolve_dispute', 'cancel', 'settle', 'reopen', name='loanevent', native_enum=False, length=32), nullable=False),
    sa.Column('from_status', sa.Enum('signed', 'active', 'frozen', 'in_dispute', 'paid', 'cancelled', name='creditstatus', native_enum=False, length=32), nullable=False),
    sa.Column('to_status', sa.Enum('signed', 'active', 'frozen', 'in_dispute', 'paid', 'cancelled', name='creditstatus', native_enum=False, length=32), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('reason', sa.Enum('rejected', 'returned', 'fraud', 'death', 'refinanced', name='cancellationreason', native_enum=False, length=32), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.Column('move_key', sa.String(length=64).with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=64), 'mariadb').with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=64), 'mysql'), nullable=True),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_loan_status_history_credit_id_credits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_status_history')),
    sa.UniqueConstraint('move_key', name=op.f('uq_loan_status_history_move_key'))
    )
    with op.batch_alter_table('loan_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_status_history_credit_id'), ['credit_id'], unique=False)

    op.create_table('repayments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lender', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=64).with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=64), 'mariadb').with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=64), 'mysql'), nullable=False),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.Enum('automatic', 'voluntary', name='paymentchannel', native_enum=False, length=16), nullable=False),
    sa.Column('recorded_by_operator', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'rejected', 'completed', name='prepaymentstatus', native_enum=False, length=16), nullable=False),
    sa.Column('payment_status', sa.Enum('accepted', 'reversed', name='paymentstatus', native_enum=False, length=16), nullable=True),
    sa.Column('rejection', sa.String(length=255), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.Column('reversal_reason', sa.Enum('fraud', 'dispute', 'refund', 'rejection', 'business_rule', name='reversalreason', native_enum=False, length=32), nullable=True),
    sa.Column('requested_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('decided_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('reversed_at', adapters.db.types.UtcDateTime(), nullable=True),
    sa.CheckConstraint('amount > 0 AND amount <= 9007199254740991', name=op.f('ck_repayments_amount_bound')),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_repayments_credit_id_credits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayments')),
    sa.UniqueConstraint('lender', 'external_id', name=op.f('uq_repayments_lender_external_id'))
    )
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayments_credit_id'), ['credit_id'], unique=False)

    op.create_table('repayment_allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('repayment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('installment', sa.Integer(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('interest >= 0 AND principal >= 0', name=op.f('ck_repayment_allocations_parts_not_negative')),
    sa.ForeignKeyConstraint(['credit_id'], ['credits.id'], name=op.f('fk_repayment_allocations_credit_id_credits')),
    sa.ForeignKeyConstraint(['repayment_id'], ['repayments.id'], name=op.f('fk_repayment_allocations_repayment_id_repayments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment_allocations')),
    sa.UniqueConstraint('repayment_id', 'installment', name=op.f('uq_repayment_allocations_repayment_id_installment'))
    )
    with op.batch_alter_table('repayment_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_allocations_credit_id'), ['credit_id'], unique=False)

    op.create_table('repayment_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('repayment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['repayment_id'], ['repayments.id'], name=op.f('fk_repayment_status_history_repayment_id_repayments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment_status_history'))
    )
    with op.batch_alter_table('repayment_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_status_history_repayment_id'), ['repayment_id'], unique=False)

    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('risk_profile', sa.Enum('A0', 'A1', 'A2', 'A3', 'B1', 'B2', 'B3', 'C1', 'C2', 'C3', name='riskprofile', native_enum=False, length=2), nullable=True))
        batch_op.add_column(sa.Column('annual_rate', adapters.db.types.DecimalText(length=24), nullable=True))
        batch_op.add_column(sa.Column('payment_frequency', sa.Enum('monthly', 'biweekly', 'weekly', name='paymentfrequency', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('grace_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('serviced_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('days_past_due', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_credits_customer_id_days_past_due', ['customer_id', 'days_past_due'], unique=False)
        batch_op.create_index('ix_credits_status_serviced_on', ['status', 'serviced_on'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_credits_product_id_products'), 'products', ['product_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_credits_customer_id_customers'), 'customers', ['customer_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_credits_customer_id_customers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_credits_product_id_products'), type_='foreignkey')
        batch_op.drop_index('ix_credits_status_serviced_on')
        batch_op.drop_index('ix_credits_customer_id_days_past_due')
        batch_op.drop_column('days_past_due')
        batch_op.drop_column('serviced_on')
        batch_op.drop_column('status_on')
        batch_op.drop_column('grace_months')
        batch_op.drop_column('payment_frequency')
        batch_op.drop_column('annual_rate')
        batch_op.drop_column('risk_profile')
        batch_op.drop_column('product_id')
        batch_op.drop_column('customer_id')

    op.drop_table('repayment_status_history')
    op.drop_table('repayment_allocations')
    op.drop_table('repayments')
    op.drop_table('loan_status_history')
    op.drop_table('loan_requests')
    op.drop_table('loan_installments')
    op.drop_table('product_status_history')
    op.drop_table('loan_servicing_runs')
