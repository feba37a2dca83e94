"""a transfer's reason holds the bank's or treasury's words whole; external ids and idempotency keys
compare case-sensitively

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

REASONS = (('bank_transfers', 'status_reason'), ('bank_transfer_status_history', 'reason'))
KEYS = (('credits', 'external_id', 64, False), ('balance_updates', 'idempotency_key', 80, True))


def _mysql() -> bool:
    return op.get_bind().dialect.name in ('mysql', 'mariadb')


def _reasons(old: int, new: int) -> None:
    for table, column in REASONS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new),
                                  existing_nullable=True)


def _keys(collation: str) -> None:
    if not _mysql():  # SQLite compares text byte for byte already
        return
    for table, column, length, nullable in KEYS:
        op.execute(f"ALTER TABLE {table} MODIFY {column} VARCHAR({length}) CHARACTER SET utf8mb4 "
                   f"COLLATE {collation} {'NULL' if nullable else 'NOT NULL'}")


def upgrade() -> None:
    _reasons(255, 512)
    _keys('utf8mb4_bin')


def downgrade() -> None:
    _keys('utf8mb4_unicode_ci')
    _reasons(512, 255)
