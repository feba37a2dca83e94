"""a batch keeps how many of its sub-batches run at once (fixed when it is planned), and when its
acknowledgements were given up (its X-CallbackURL refused or kept failing: one event, no more calls)

Batches planned before keep 2, the number every step used then. MariaDB commits each schema change on
its own, so each column is added only if it is not there yet: the upgrade can be run again after a
failure.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa

from adapters.db.types import UtcDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns('batches')}


def upgrade() -> None:
    if 'parallel_sub_batches' not in _columns():
        op.add_column('batches', sa.Column('parallel_sub_batches', sa.Integer(), nullable=False, server_default='2'))
    if 'acknowledgements_given_up_at' not in _columns():
        op.add_column('batches', sa.Column('acknowledgements_given_up_at', UtcDateTime(), nullable=True))


def downgrade() -> None:
    if 'acknowledgements_given_up_at' in _columns():
        op.drop_column('batches', 'acknowledgements_given_up_at')
    if 'parallel_sub_batches' in _columns():
        op.drop_column('batches', 'parallel_sub_batches')
