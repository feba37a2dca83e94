"""products group the stores' payment options (offers), and an offer has a status: draft, enabled, disabled.

Existing payment options go under their currency's default product (``Default MXN``, monthly, active, marked
``default_for_currency``), made here for each currency that has options; the product an offer made without
naming one goes under later too. An existing option treasury had validated was usable and becomes
``enabled``, so that nothing it issued or issues breaks; one not validated becomes ``draft`` (it needs an
account executive's enabling as well as treasury's validation, as any new offer). The downgrade drops the
products and the statuses, and leaves the keys' and the audit's role columns 32 characters wide (an
account_executive key or audit row would not fit the old 16). A step done already is skipped, so the upgrade
can be run again after a failure (MariaDB commits schema changes one by one).

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07 21:40:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PRODUCTS = sa.table('products', sa.column('id'), sa.column('name'), sa.column('currency'),
                    sa.column('payment_frequency'), sa.column('status'), sa.column('default_for_currency'),
                    sa.column('created_at', UtcDateTime()))
OPTIONS = sa.table('payment_options', sa.column('id'), sa.column('store_id'), sa.column('product_id'),
                   sa.column('status'), sa.column('validated'))
STORES = sa.table('stores', sa.column('id'), sa.column('currency'))


def _inspect() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def upgrade() -> None:
    for table in ('api_keys', 'audit_log'):  # room for the role account_executive
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('role', existing_type=sa.String(length=16), type_=sa.String(length=32),
                                  existing_nullable=False)
    if 'products' not in _inspect().get_table_names():
        _create_products()
    columns = {c['name'] for c in _inspect().get_columns('payment_options')}
    if not {'product_id', 'status'} <= columns:
        with op.batch_alter_table('payment_options', schema=None) as batch_op:
            if 'product_id' not in columns:
                batch_op.add_column(sa.Column('product_id', ID, nullable=True))
            if 'status' not in columns:
                batch_op.add_column(sa.Column('status', sa.String(length=32), nullable=True))
    _give_offers_a_product_and_a_status()
    if 'ix_payment_options_product_id' not in {i['name'] for i in _inspect().get_indexes('payment_options')}:
        with op.batch_alter_table('payment_options', schema=None) as batch_op:
            batch_op.alter_column('product_id', existing_type=ID, nullable=False)
            batch_op.alter_column('status', existing_type=sa.String(length=32), nullable=False)
            batch_op.create_index(batch_op.f('ix_payment_options_product_id'), ['product_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f('fk_payment_options_product_id_products'), 'products',
                                        ['product_id'], ['id'])


def _create_products() -> None:
    op.create_table(
        'products',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('payment_frequency', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('default_for_currency', sa.String(length=3), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
        sa.UniqueConstraint('default_for_currency', name=op.f('uq_products_default_for_currency')),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )


def _give_offers_a_product_and_a_status() -> None:
    """Each option without a product goes under its store currency's default product (made when missing);
    each without a status is enabled when treasury had validated it, a draft otherwise."""
    conn = op.get_bind()
    needed = set(conn.execute(sa.select(STORES.c.currency).distinct().select_from(
        STORES.join(OPTIONS, OPTIONS.c.store_id == STORES.c.id)).where(OPTIONS.c.product_id.is_(None))).scalars())
    present = set(conn.execute(sa.select(PRODUCTS.c.default_for_currency)).scalars())
    now = datetime.now(timezone.utc)
    for currency in sorted(needed - present):
        conn.execute(PRODUCTS.insert().values(name=f'Default {currency}', currency=currency,
                                              payment_frequency='monthly', status='active',
                                              default_for_currency=currency, created_at=now))
    default = (sa.select(PRODUCTS.c.id).select_from(PRODUCTS.join(STORES, STORES.c.currency ==
                                                                  PRODUCTS.c.default_for_currency))
               .where(STORES.c.id == OPTIONS.c.store_id).scalar_subquery())
    conn.execute(OPTIONS.update().where(OPTIONS.c.product_id.is_(None)).values(product_id=default))
    conn.execute(OPTIONS.update().where(OPTIONS.c.status.is_(None)).values(
        status=sa.case((OPTIONS.c.validated, 'enabled'), else_='draft')))


def downgrade() -> None:
    with op.batch_alter_table('payment_options', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_options_product_id_products'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payment_options_product_id'))
        batch_op.drop_column('status')
        batch_op.drop_column('product_id')
    op.drop_table('products')
