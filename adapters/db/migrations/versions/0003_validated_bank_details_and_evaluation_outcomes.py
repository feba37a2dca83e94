"""validated bank details, merchant time zones, evaluations that name their transfer

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=False,
                                      server_default='America/Mexico_City'))
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validated_clabe', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('validated_beneficiary_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('validated_rfc_curp', sa.String(length=18), nullable=True))
    with op.batch_alter_table('trigger_evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_transfer_id', ID, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_trigger_evaluations_bank_transfer_id_bank_transfers'),
                                    'bank_transfers', ['bank_transfer_id'], ['id'])
    with op.batch_alter_table('event_log', schema=None) as batch_op:
        batch_op.create_index('ix_event_log_level_at', ['level', 'at'], unique=False)
        batch_op.create_index('ix_event_log_store_id', ['store_id', 'id'], unique=False)

    # A validated store was validated with the details it has now (any edit un-validates it).
    op.execute("UPDATE stores SET validated_clabe = clabe, validated_beneficiary_name = beneficiary_name, "
               "validated_rfc_curp = rfc_curp WHERE validated = 1")
    # Each evaluation names the transfer it opened; one that recorded "transfer" but opened none (two
    # instant evaluations raced for the same pending balance) did not pay, and says so.
    op.execute("UPDATE trigger_evaluations SET bank_transfer_id = (SELECT bank_transfers.id FROM bank_transfers "
               "WHERE bank_transfers.store_id = trigger_evaluations.store_id "
               "AND bank_transfers.trigger_key = trigger_evaluations.period_key)")
    op.execute("UPDATE trigger_evaluations SET outcome = 'skipped', reason = 'no transfer was opened: another "
               "evaluation had already taken the pending balance' "
               "WHERE outcome = 'transfer' AND bank_transfer_id IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('event_log', schema=None) as batch_op:
        batch_op.drop_index('ix_event_log_store_id')
        batch_op.drop_index('ix_event_log_level_at')
    with op.batch_alter_table('trigger_evaluations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_trigger_evaluations_bank_transfer_id_bank_transfers'),
                                 type_='foreignkey')
        batch_op.drop_column('bank_transfer_id')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('validated_rfc_curp')
        batch_op.drop_column('validated_beneficiary_name')
        batch_op.drop_column('validated_clabe')
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('timezone')
