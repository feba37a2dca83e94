"""What a database error means for a step: wait and try again, or never try again."""
from __future__ import annotations

from typing import Any, Callable, Sequence, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

# MySQL/MariaDB: lock wait timeout, deadlock. SQLite: "database is locked".
LOCK_WAIT_CODES = frozenset({1205, 1213})
DUPLICATE_KEY = 1062


def is_lock_wait(error: BaseException) -> bool:
    """Another transaction held the rows we needed: the step succeeds once it lets go."""
    if not isinstance(error, DBAPIError) or error.orig is None:
        return False
    args = getattr(error.orig, "args", ())
    if args and args[0] in LOCK_WAIT_CODES:
        return True
    return "database is locked" in str(error.orig)


def is_bad_value(error: BaseException) -> bool:
    """A value that does not fit its column (MySQL 1406, 1264, ...): the same write fails every time."""
    return isinstance(error, DataError)


def is_duplicate(error: BaseException, column: str) -> bool:
    """A unique key on ``column`` refused a second row: a concurrent writer got there first."""
    return isinstance(error, IntegrityError) and column in str(error.orig)


def is_duplicate_key(error: BaseException) -> bool:
    """A unique key refused the row (MySQL/MariaDB 1062; SQLite's UNIQUE constraint)."""
    if not isinstance(error, IntegrityError) or error.orig is None:
        return False
    args = error.orig.args
    return (bool(args) and args[0] == DUPLICATE_KEY) or "UNIQUE constraint failed" in str(error.orig)


def insert_unless_present(session: Session, stmt: Executable, present: Callable[[], bool],
                          rows: Sequence[dict[str, Any]] | None = None) -> CursorResult[Any] | None:
    """Run an INSERT that a unique key keeps from happening twice: its result, or None when the key refused
    it because the row is there already (``present`` finds it). Only the refused statement is undone
    (MariaDB and SQLite keep the transaction). Any other error is raised, and so is a duplicate that
    ``present`` does not explain: nothing is ignored wholesale, as INSERT IGNORE would (clamping amounts)."""
    try:
        return cast(CursorResult[Any], session.execute(stmt, rows) if rows is not None else session.execute(stmt))
    except IntegrityError as e:
        if is_duplicate_key(e) and present():
            return None
        raise
