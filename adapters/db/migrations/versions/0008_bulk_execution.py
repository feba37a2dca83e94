"""bulk execution: where a batch's split has reached in its file, how many of its rows are settled and
which progress was acknowledged; each instruction's UETR, duplicate key, attempts and times; the
ordering account of a payment order paid from a tenant's own funding account

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('batches') as batch_op:
        batch_op.add_column(sa.Column('size_bytes', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('split_page', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('split_offset', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('settled', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('sub_batch_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('acknowledged', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('instructions') as batch_op:
        batch_op.add_column(sa.Column('uetr', sa.String(36), nullable=False))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(64), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('started_at', UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('completed_at', UtcDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_instructions_uetr'), ['uetr'])
        batch_op.create_index('ix_instructions_batch_pk_dedupe_key', ['batch_pk', 'dedupe_key'])
        # a sub-batch's own rows by status and position: its locks never reach another sub-batch's rows
        batch_op.create_index('ix_instructions_sub_batch_status', ['batch_pk', 'sub_batch', 'status', 'position'])
    with op.batch_alter_table('sub_batches') as batch_op:
        batch_op.add_column(sa.Column('started_at', UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('completed_at', UtcDateTime(), nullable=True))
    with op.batch_alter_table('payment_orders') as batch_op:
        batch_op.add_column(sa.Column('ordering_account', sa.String(18), nullable=True))
        batch_op.add_column(sa.Column('ordering_name', sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_orders') as batch_op:
        batch_op.drop_column('ordering_name')
        batch_op.drop_column('ordering_account')
    with op.batch_alter_table('sub_batches') as batch_op:
        batch_op.drop_column('completed_at')
        batch_op.drop_column('started_at')
    with op.batch_alter_table('instructions') as batch_op:
        batch_op.drop_index('ix_instructions_sub_batch_status')
        batch_op.drop_index('ix_instructions_batch_pk_dedupe_key')
        batch_op.drop_constraint(batch_op.f('uq_instructions_uetr'), type_='unique')
        for name in ('completed_at', 'started_at', 'position', 'attempts', 'dedupe_key', 'uetr'):
            batch_op.drop_column(name)
    with op.batch_alter_table('batches') as batch_op:
        for name in ('acknowledged', 'sub_batch_count', 'settled', 'split_offset', 'split_page', 'size_bytes'):
            batch_op.drop_column(name)
