"""What a database error means for a step: wait and try again, or never try again."""
from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

# MySQL/MariaDB: lock wait timeout, deadlock. SQLite: "database is locked".
LOCK_WAIT_CODES = frozenset({1205, 1213})


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
