"""dead letters: messages that exhausted their retries, and what treasury did with them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'dead_letters',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('message_id', sa.String(length=36), nullable=False),
        sa.Column('queue_name', sa.String(length=64), nullable=False),
        sa.Column('actor_name', sa.String(length=64), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('error', sa.String(length=1000), nullable=False),
        sa.Column('traceback', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('deaths', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('died_at', UtcDateTime(), nullable=False),
        sa.Column('resolved_at', UtcDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=120), nullable=True),
        sa.Column('resolution', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters')),
        sa.UniqueConstraint('message_id', name=op.f('uq_dead_letters_message_id')),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )
    op.create_index('ix_dead_letters_status_died_at', 'dead_letters', ['status', 'died_at'], unique=False)
    op.create_table(
        'dead_letter_history',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('dead_letter_id', ID, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('detail', sa.String(length=1400), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['dead_letter_id'], ['dead_letters.id'],
                                name=op.f('fk_dead_letter_history_dead_letter_id_dead_letters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letter_history')),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )
    op.create_index(op.f('ix_dead_letter_history_dead_letter_id'), 'dead_letter_history', ['dead_letter_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_table('dead_letter_history')  # its index goes with it (MySQL will not drop an index a foreign key uses)
    op.drop_index('ix_dead_letters_status_died_at', table_name='dead_letters')
    op.drop_table('dead_letters')
