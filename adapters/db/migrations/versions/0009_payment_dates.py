"""payment dates: whether a batch's dates are delivery or execution dates and how far their lookup has
gone; each row's rail, the date its file asked for, and its execution and delivery dates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('batches') as batch_op:
        batch_op.add_column(sa.Column('date_type', sa.String(16), nullable=True))
        batch_op.add_column(sa.Column('dated_rows', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('instructions') as batch_op:
        batch_op.add_column(sa.Column('rail', sa.String(8), nullable=True))
        batch_op.add_column(sa.Column('requested_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('execution_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('delivery_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('instructions') as batch_op:
        for name in ('delivery_date', 'execution_date', 'requested_date', 'rail'):
            batch_op.drop_column(name)
    with op.batch_alter_table('batches') as batch_op:
        batch_op.drop_column('dated_rows')
        batch_op.drop_column('date_type')
