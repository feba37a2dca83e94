"""bank callbacks kept masked: the STP callbacks stored before (``bank_events.body``) and their copies in
the event log (``event_log.details`` of kind ``bank_event``) keep the payee's account, name and RFC/CURP
masked and lose the fields we do not know, as new callbacks are stored (domain.stp.callback_as_stored).

Masking a masked body changes nothing, so the upgrade can be run again after a failure. What was masked
or dropped cannot come back: the downgrade leaves the rows as they are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:00:00
"""
from typing import Any, Callable

from alembic import op
import sqlalchemy as sa

from domain.stp import callback_as_stored

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CHUNK = 1000


def _mask(table: str, column: str, where: Callable[[Any], tuple[Any, ...]]) -> None:
    """Every row's JSON ``column`` (an object) as a callback is stored now, a chunk of rows a statement."""
    conn = op.get_bind()
    t = sa.table(table, sa.column('id'), sa.column(column, sa.JSON()), sa.column('kind', sa.String()))
    last = 0
    while True:
        rows = conn.execute(sa.select(t.c.id, t.c[column]).where(t.c.id > last, *where(t))
                            .order_by(t.c.id).limit(CHUNK)).all()
        if not rows:
            return
        changed = [{'_id': r.id, '_value': callback_as_stored(r[1])} for r in rows
                   if isinstance(r[1], dict) and callback_as_stored(r[1]) != r[1]]
        if changed:
            conn.execute(t.update().where(t.c.id == sa.bindparam('_id')).values({column: sa.bindparam('_value')}),
                         changed)
        last = rows[-1].id


def upgrade() -> None:
    _mask('bank_events', 'body', lambda t: ())
    _mask('event_log', 'details', lambda t: (t.c.kind == 'bank_event',))


def downgrade() -> None:
    pass  # masked data stays masked
