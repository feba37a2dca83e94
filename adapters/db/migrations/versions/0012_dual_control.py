"""dual control: people own API keys; who changed a store's bank details, who may approve a transfer and why
it waits; adjustments held for a second person.

Keys made before this revision belong to no one known: each gets a person of its own,
``key-<id>@unassigned.invalid``, so that two old keys still count as two people. Reissue them with
``dispersa apikey create --owner EMAIL`` and revoke the old ones.

MariaDB commits each schema change on its own, so every step here is made only if it is not there yet,
and the upgrade can be run again after a failure.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00
"""
from typing import Any

from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime, case_sensitive

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, 'sqlite')

COLUMNS: list[tuple[str, str, Any]] = [
    ('api_keys', 'person_id', ID),
    ('audit_log', 'person_id', ID),
    ('stores', 'details_changed_by_id', ID),
    ('stores', 'new_details_by_id', ID),
    ('bank_transfers', 'approval_reason', sa.String(255)),
    ('bank_transfers', 'barred_approver_id', ID),
    ('bank_transfers', 'approved_by_id', ID),
    ('trigger_evaluations', 'requested_by_id', ID),
]


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _columns(table: str) -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    if 'people' not in _tables():
        op.create_table(
            'people',
            sa.Column('id', ID, primary_key=True, autoincrement=True),
            sa.Column('email', sa.String(254), nullable=False),
            sa.Column('created_at', UtcDateTime(), nullable=False),
            sa.PrimaryKeyConstraint('id', name='pk_people'),
            sa.UniqueConstraint('email', name='uq_people_email'),
        )
    if 'adjustment_requests' not in _tables():
        op.create_table(
            'adjustment_requests',
            sa.Column('id', ID, primary_key=True, autoincrement=True),
            sa.Column('store_id', ID, sa.ForeignKey('stores.id', name='fk_adjustment_requests_store_id_stores'),
                      nullable=False),
            sa.Column('amount', sa.BigInteger(), nullable=False),
            sa.Column('currency', sa.String(3), nullable=False),
            sa.Column('reason', sa.String(255), nullable=False),
            sa.Column('note', sa.String(255), nullable=True),
            sa.Column('idempotency_key', case_sensitive(80), nullable=True),
            sa.Column('status', sa.String(32), nullable=False),
            sa.Column('requested_by_id', ID, sa.ForeignKey(
                'people.id', name='fk_adjustment_requests_requested_by_id_people'), nullable=False),
            sa.Column('requested_key_id', ID, nullable=True),
            sa.Column('requested_at', UtcDateTime(), nullable=False),
            sa.Column('decided_by_id', ID, nullable=True),
            sa.Column('decided_at', UtcDateTime(), nullable=True),
            sa.Column('decision_note', sa.String(255), nullable=True),
            sa.Column('balance_update_id', ID, nullable=True),
            sa.PrimaryKeyConstraint('id', name='pk_adjustment_requests'),
            sa.UniqueConstraint('idempotency_key', name='uq_adjustment_requests_idempotency_key'),
            sa.Index('ix_adjustment_requests_status_store_id', 'status', 'store_id'),
        )
    for table, name, type_ in COLUMNS:
        if name not in _columns(table):
            with op.batch_alter_table(table) as batch_op:
                batch_op.add_column(sa.Column(name, type_, nullable=True))
    _owners_for_old_keys()
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.alter_column('person_id', existing_type=ID, nullable=False)


def _owners_for_old_keys() -> None:
    """Each key without an owner gets a person of its own."""
    bind = op.get_bind()
    keys = sa.table('api_keys', sa.column('id', ID), sa.column('person_id', ID), sa.column('created_at'))
    people = sa.table('people', sa.column('id', ID), sa.column('email', sa.String), sa.column('created_at'))
    for key_id, created_at in bind.execute(sa.select(keys.c.id, keys.c.created_at).where(
            keys.c.person_id.is_(None))).all():
        email = f'key-{key_id}@unassigned.invalid'
        person = bind.execute(sa.select(people.c.id).where(people.c.email == email)).scalar()
        if person is None:
            bind.execute(sa.insert(people).values(email=email, created_at=created_at))
            person = bind.execute(sa.select(people.c.id).where(people.c.email == email)).scalar()
        bind.execute(sa.update(keys).where(keys.c.id == key_id).values(person_id=person))


def downgrade() -> None:
    for table, name, _ in reversed(COLUMNS):
        if name in _columns(table):
            with op.batch_alter_table(table) as batch_op:
                batch_op.drop_column(name)
    for table in ('adjustment_requests', 'people'):
        if table in _tables():
            op.drop_table(table)
