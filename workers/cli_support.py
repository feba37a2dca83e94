"""What every ``dispersa`` command shares: its consoles, one-line failures, the database it uses (said
on stderr and checked to be migrated) and the composition root on it."""
from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.console import Console

from adapters.settings import Settings

console = Console()
if not console.is_terminal and console.width < 100:  # piped or captured: tables wide enough to read whole
    console = Console(width=100)
err = Console(stderr=True)


def shown_url(url: str) -> str:
    """A database URL as the CLI prints it: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, and an exit code; never a traceback for a known condition."""
    err.print(f"error: {message}", highlight=False, soft_wrap=True)
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


def operator_name() -> str:
    """How a dead letter's history and the audit name whoever ran the CLI."""
    import getpass

    try:
        return f"cli {getpass.getuser()}"
    except Exception:
        return "cli"
