"""ledger checks: each run of the ledger invariants, so that operations see the last one's violations

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:00:00
"""
from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'ledger_checks',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('seconds', sa.Integer(), nullable=False),
        sa.Column('stores', sa.Integer(), nullable=False),
        sa.Column('balance_updates', sa.BigInteger(), nullable=False),
        sa.Column('transfers', sa.BigInteger(), nullable=False),
        sa.Column('violations', sa.Integer(), nullable=False),
        sa.Column('first_violations', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_checks')),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )


def downgrade() -> None:
    op.drop_table('ledger_checks')
