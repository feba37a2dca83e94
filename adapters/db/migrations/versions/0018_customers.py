"""customers, the lender's borrowers: personal data sealed at rest (NULL once deleted), digests of the CURP
and the e-mail to find them by, the risk profile scoring gives them, their status and its history.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:40:00
"""
from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime, case_sensitive

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STATUSES = ('unregistered', 'enabled', 'disabled', 'blocked', 'deleted')
EVENTS = ('registration_completed', 'fell_past_due', 'cured', 'fraud_cancellation', 'enable', 'disable', 'block',
          'delete')
PROFILES = ('A0', 'A1', 'A2', 'A3', 'B1', 'B2', 'B3', 'C1', 'C2', 'C3')
SEALED = ('first_name', 'last_name', 'second_last_name', 'phone', 'email', 'address', 'national_id')


def _enum(values: tuple[str, ...], name: str, length: int = 32) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, create_constraint=False)


def upgrade() -> None:
    op.create_table(
        'customers',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('lender', sa.String(32), nullable=False),
        sa.Column('external_id', case_sensitive(64), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=True) for name in SEALED),
        sa.Column('national_id_digest', sa.String(64), nullable=True),
        sa.Column('email_digest', sa.String(64), nullable=True),
        sa.Column('risk_profile', _enum(PROFILES, 'riskprofile', 2), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('scored_at', UtcDateTime(), nullable=True),
        sa.Column('status', _enum(STATUSES, 'customerstatus'), nullable=False),
        sa.Column('held', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('status_reason', sa.String(255), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=True),
        sa.Column('deleted_at', UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
        sa.UniqueConstraint('lender', 'external_id', name=op.f('uq_customers_lender_external_id')),
        sa.UniqueConstraint('lender', 'national_id_digest', name=op.f('uq_customers_lender_national_id_digest')),
    )
    op.create_index(op.f('ix_customers_email_digest'), 'customers', ['email_digest'])
    op.create_table(
        'customer_status_history',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('customer_id', ID, nullable=False),
        sa.Column('event', _enum(EVENTS, 'customerevent'), nullable=False),
        sa.Column('previous', _enum(STATUSES, 'customerstatus'), nullable=False),
        sa.Column('status', _enum(STATUSES, 'customerstatus'), nullable=False),
        sa.Column('reason', sa.String(255), nullable=True),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_customer_status_history_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_status_history')),
    )
    op.create_index(op.f('ix_customer_status_history_customer_id'), 'customer_status_history', ['customer_id'])


def downgrade() -> None:
    op.drop_table('customer_status_history')
    op.drop_table('customers')
