"""``dispersa keys generate|status|rotate``: the data keys that seal payee accounts and names at rest.
The rotation procedure is in docs/keys.md."""
from __future__ import annotations

import typer
from rich.progress import Progress
from rich.table import Table

from workers.cli_support import console, database_url, fail

keys_app = typer.Typer(help="Data keys: payee accounts and names are sealed at rest under DISPERSA_DATA_KEYS.",
                       no_args_is_help=True)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new data key (put it first in DISPERSA_DATA_KEYS to rotate it in)."""
    from adapters.sealing import generate_key

    print(generate_key())


def _run(resealing: bool) -> None:
    from adapters.db.engine import build_engine
    from adapters.db.rekeying import rows_to_visit, survey_or_rotate
    from adapters.sealing import KEYRING, KeysMissing
    from adapters.settings import Settings

    url = database_url()
    try:
        KEYRING.load(Settings().data_keys)
    except (KeysMissing, ValueError) as e:
        fail(str(e))
    engine = build_engine(url)
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("re-sealing" if resealing else "reading", total=rows_to_visit(engine))
            tallies = survey_or_rotate(engine, resealing, lambda n: bar.advance(task, n))
    finally:
        engine.dispose()
    table = Table("table", "column", "values", "first key", "re-sealed", "no key reads", title=(
        "sealed values after the rotation" if resealing else "sealed values by key"))
    for t in tallies:
        table.add_row(t.table, t.column, str(t.values), str(t.current + t.resealed), str(t.resealed), str(t.unreadable))
    console.print(table)
    older = sum(t.values - t.current - t.resealed - t.unreadable for t in tallies)
    unreadable = sum(t.unreadable for t in tallies)
    if unreadable:
        fail(f"{unreadable} values are sealed under a key that is not in DISPERSA_DATA_KEYS", code=1)
    if older:
        print(f"{older} values are still under an older key: run `dispersa keys rotate` before dropping it")
    else:
        print("every value is sealed under the first key: older keys can be dropped from DISPERSA_DATA_KEYS")


@keys_app.command("status")
def keys_status() -> None:
    """How many sealed values each column holds under the first key, and under none of the keys."""
    _run(resealing=False)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-seal every value under the first key of DISPERSA_DATA_KEYS (in chunks, beside live traffic)."""
    _run(resealing=True)
