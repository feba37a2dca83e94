"""``dispersa chaos``: reliability under injected faults, on the real processes."""
from __future__ import annotations

import typer

cli = typer.Typer(help="Drive the real processes under injected faults, then prove the books.")


@cli.callback(invoke_without_command=True)
def chaos() -> None:
    """Not built yet."""
    raise typer.Exit(2)
