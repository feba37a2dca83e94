"""payment tracking: each payment's events by UETR, appended with the change they record, and the read
model the tracking actor projects them into

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00
"""
from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'payment_events',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('uetr', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(24), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('projected', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events')),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('ix_payment_events_uetr_id', 'payment_events', ['uetr', 'id'])
    op.create_index('ix_payment_events_projected_id', 'payment_events', ['projected', 'id'])
    op.create_table(
        'payment_tracking',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('uetr', sa.String(36), nullable=False),
        sa.Column('view', sa.JSON(), nullable=False),
        sa.Column('merchant_id', ID, nullable=True),
        sa.Column('tenant_id', ID, nullable=True),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('last_event_id', ID, nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_tracking')),
        sa.UniqueConstraint('uetr', name=op.f('uq_payment_tracking_uetr')),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')


def downgrade() -> None:
    op.drop_table('payment_tracking')
    op.drop_index('ix_payment_events_projected_id', table_name='payment_events')
    op.drop_index('ix_payment_events_uetr_id', table_name='payment_events')
    op.drop_table('payment_events')
