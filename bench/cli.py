"""``dispersa bench``: performance on the real processes, beside this machine's raw limits."""
from __future__ import annotations

import typer

cli = typer.Typer(help="Measure dispersa on the real processes, beside this machine's raw limits.")


@cli.callback(invoke_without_command=True)
def bench() -> None:
    """Not built yet."""
    raise typer.Exit(2)
