"""bulk rows that did not split into the columns, sealed: before this revision such a row (WRONG_COLUMN_COUNT)
kept its texts in the columns they fell in, unsealed wherever that was not a party or the note (a ``;`` row's
whole line in ``id``). Each is rewritten as the code now keeps one: its texts, in the file's order, under the
one sealed field ``unsplit``, and nothing in a column.

The downgrade leaves them sealed: what fell in which column is not worth writing in the clear again (the
older code shows none of ``unsplit``). It needs DISPERSA_DATA_KEYS whenever there are rows to rewrite; a row
already rewritten is left as it is, so the revision can be run again after a failure.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 21:00:00
"""
from typing import Any

from alembic import op
import sqlalchemy as sa

from adapters.sealing import KEYRING, KeysMissing, place

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

CHUNK = 1000
SEALED_THEN = ('payer_identifier', 'payee_identifier', 'note')  # the fields sealed before this revision


def _unsplit(fields: dict[str, Any]) -> str:
    """The row's texts in the order its header gave them (the object's order), opened where sealed; the
    empty texts its missing values were given are dropped from its end."""
    texts = [KEYRING.unseal(v, place('instructions', f'fields.{k}')) if k in SEALED_THEN and isinstance(v, str)
             else str(v or '') for k, v in fields.items()]
    return ','.join(texts).rstrip(',')


def upgrade() -> None:
    conn = op.get_bind()
    t = sa.table('instructions', sa.column('id'), sa.column('error_code'), sa.column('fields', sa.JSON()))
    last = 0
    while True:
        rows = conn.execute(sa.select(t.c.id, t.c.fields).where(
            t.c.error_code == 'WRONG_COLUMN_COUNT', t.c.id > last).order_by(t.c.id).limit(CHUNK)).all()
        if not rows:
            return
        if not KEYRING.loaded:
            raise KeysMissing('the database holds bulk rows to seal: set DISPERSA_DATA_KEYS')
        rewritten = [{'_id': r.id, '_fields': {'unsplit': KEYRING.seal(_unsplit(r.fields),
                                                                       place('instructions', 'fields.unsplit'))}}
                     for r in rows if set(r.fields) != {'unsplit'}]
        if rewritten:
            conn.execute(t.update().where(t.c.id == sa.bindparam('_id')).values(fields=sa.bindparam('_fields')),
                         rewritten)
        last = rows[-1].id


def downgrade() -> None:
    pass
