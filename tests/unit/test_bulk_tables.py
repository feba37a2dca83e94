"""The bulk tables' status and connector columns read and write their domain enums (as the ledger's do),
in the VARCHARs they had: a value outside the enum is refused before it reaches MariaDB."""
from __future__ import annotations

import enum

import pytest
from sqlalchemy import Column
from sqlalchemy.dialects import mysql

from adapters.db import tables as t
from domain.batches import BatchStatus, InstructionStatus
from domain.connectors import Connector
from domain.sub_batches import SubBatchStatus

COLUMNS = [(t.batches.c.status, BatchStatus, 32), (t.instructions.c.status, InstructionStatus, 16),
           (t.sub_batches.c.status, SubBatchStatus, 32), (t.instructions.c.connector, Connector, 16),
           (t.sub_batches.c.connector, Connector, 16)]


@pytest.mark.parametrize(("column", "kind", "length"), COLUMNS, ids=lambda c: getattr(c, "key", None))
def test_a_bulk_status_column_holds_its_enum_in_the_varchar_it_had(column: Column[object], kind: type[enum.Enum],
                                                                   length: int) -> None:
    dialect = mysql.dialect()
    assert column.type.compile(dialect=dialect) == f"VARCHAR({length})"
    member = next(iter(kind))
    read = column.type.result_processor(dialect, None)
    write = column.type.bind_processor(dialect)
    assert read is not None and write is not None
    assert read(member.value) is member
    assert write(member) == write(member.value) == member.value
    with pytest.raises(LookupError):
        write("not-a-" + column.key)
