"""What every ``dispersa`` command shares: its consoles, one-line failures, the database it uses (said
on stderr and checked to be migrated) and the composition root on it."""
from __future__ import annotations

import json
import re
from typing import Any, Callable, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from adapters.settings import Settings

console = Console()
if not console.is_terminal and console.width < 100:  # piped or captured: tables wide enough to read whole
    console = Console(width=100)
err = Console(stderr=True)


# What a terminal must not be sent from client text: control characters (C0, DEL, C1, which move the cursor,
# clear the screen or set the title) and the Unicode ones that reorder text or break lines.
UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """Client text (a name, a label, a file name) as any CLI output shows it: each control character as a
    visible escape (ESC as ``\\x1b``), on the one line it was given on."""
    return UNSHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def shown(value: object) -> str:
    """Client text inside Rich output (tables, captions, ``console.print``): ``plain``, its markup inert."""
    return escape(plain(value))


def json_text(value: Any, default: Callable[[Any], Any]) -> str:
    """JSON for a terminal: what ``json`` leaves raw (C1, the Unicode controls) written as ``\\u`` escapes."""
    return UNSHOWN.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, default=default, ensure_ascii=False))


def shown_url(url: str) -> str:
    """A database URL as the CLI prints it: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, and an exit code; never a traceback for a known condition."""
    err.print(f"error: {shown(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def database_url(migrated: bool = True) -> str:
    """DISPERSA_DATABASE_URL, said on stderr; with ``migrated``, checked to be reachable and at the
    newest migration, or one line saying what to do."""
    from adapters.db.migrate import current, head

    url = Settings().database_url
    if not url:
        fail("DISPERSA_DATABASE_URL is not set (nor in ./.env): `make up` writes a .env with the dev "
             "database, or export DISPERSA_DATABASE_URL=mysql+pymysql://user:pass@host:3306/db")
    err.print(f"database: {shown_url(url)}", highlight=False, soft_wrap=True)
    if not migrated:
        return url
    try:
        at = current(url)
    except Exception as e:  # whatever the driver says, one line of it
        fail(f"cannot reach the database {shown_url(url)}: {str(getattr(e, 'orig', e)).splitlines()[0]}")
    if at != head():
        fail(f"the database {shown_url(url)} is at migration {at or 'none (no dispersa schema)'}, not {head()}: "
             "run `dispersa db upgrade`")
    return url


def container_for(url: str) -> Any:
    """The composition root on this database (the rest of the settings from the environment)."""
    from adapters.sealing import KeysMissing
    from bootstrap import build_container

    try:
        return build_container(Settings().model_copy(update={"database_url": url}))
    except (KeysMissing, ValueError) as e:
        fail(str(e))


def committed(act: Callable[[Any], Any]) -> Any:
    """``act(uow)`` in one transaction on DISPERSA_DATABASE_URL, committed; a refused request (a use case's
    error, a missing thing) as one line and exit 2."""
    from usecases.errors import NotFound, UseCaseError

    try:
        with container_for(database_url()).uow() as uow:
            done = act(uow)
            uow.commit()
            return done
    except (UseCaseError, NotFound) as e:
        fail(str(e))


def operator_name() -> str:
    """How a dead letter's history and the audit name whoever ran the CLI."""
    import getpass

    try:
        return f"cli {getpass.getuser()}"
    except Exception:
        return "cli"
