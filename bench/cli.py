"""``dispersa bench``: performance on the real processes, beside this machine's raw limits.

Heavy imports stay inside the command, so that ``dispersa --help`` stays fast."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

cli = typer.Typer(help="Measure dispersa on the real processes, beside this machine's raw limits.")

SCENARIO_HELP = ("raw, contributions, payouts, webhook, verify, bulk, dates or loans (repeatable); the raw limits "
                 "always run")


@cli.callback(invoke_without_command=True)
def bench(
    quick: bool = typer.Option(False, "--quick", help="small sizes: the whole run in a few minutes (bulk: 20k and "
                                                      "100k rows)"),
    processes: int = typer.Option(2, help="the worker's processes (and the bare actors')"),
    threads: int = typer.Option(8, help="the worker's threads per process (and the bare actors')"),
    web_workers: int = typer.Option(2, help="gunicorn's gevent workers"),
    credits: Optional[int] = typer.Option(None, help="delivered credits of the contributions scenario"),
    stores: Optional[int] = typer.Option(None, help="stores of each scenario (daily, instant, ledger)"),
    payouts: Optional[int] = typer.Option(None, help="credits delivered to instant stores, one API call each"),
    payout_rate: Optional[float] = typer.Option(None, help="deliveries per second offered to the instant stores"),
    webhook_requests: Optional[int] = typer.Option(None, help="webhook requests to measure (0: as many as the "
                                                             "duration allows)"),
    webhook_duration: Optional[float] = typer.Option(None, help="seconds of webhook load, after a warm-up second"),
    webhook_connections: Optional[int] = typer.Option(None, help="the load generator's concurrent connections"),
    ledger_updates: Optional[int] = typer.Option(None, help="balance updates written for `ledger verify`"),
    raw_messages: Optional[int] = typer.Option(None, help="messages through each bare actor"),
    bulk_rows: Optional[List[int]] = typer.Option(None, "--bulk-rows", help="rows of a bulk batch, one batch per "
                                                                           "size (repeatable; 100k and 1M, quick "
                                                                           "20k and 100k)"),
    bulk_wallets: Optional[int] = typer.Option(None, help="payee wallets the bulk rows are spread over"),
    bulk_sub_batch: Optional[int] = typer.Option(None, help="the bulk tenant's splitting.sub-batch-size"),
    bulk_deadline: Optional[float] = typer.Option(None, help="seconds a bulk batch may take from its 202"),
    dates_lookups: Optional[int] = typer.Option(None, help="in-process calendar lookups timed per kind (200k)"),
    dates_rows: Optional[int] = typer.Option(None, help="rows of the dated bulk file (12k)"),
    loans: Optional[int] = typer.Option(None, help="loans of the servicing run's book (1M; quick 100k)"),
    loans_slice: Optional[int] = typer.Option(None, help="credit ids per slice of the servicing run (50k)"),
    only: Optional[List[str]] = typer.Option(None, "--only", help=SCENARIO_HELP),
    out: Path = typer.Option(Path("bench-results.json"), help="where the JSON goes"),
    keep: bool = typer.Option(False, "--keep", help="keep the database dispersa_<name>, its vhost and the logs"),
    name: str = typer.Option("bench", help="testbed name: database and vhost dispersa_<name> (two runs on one host "
                                           "take two names)"),
    redis_db: int = typer.Option(10, help="the Redis database the testbed uses (flushed)"),
    procfile: Optional[Path] = typer.Option(None, help="the Procfile whose processes run (default: the one dispersa "
                                                       "ships, the checkout's)"),
    profile: bool = typer.Option(False, "--profile", help="py-spy the worker and web under load (pip install "
                                                          "py-spy into the venv); stacks kept with the logs"),
    setting: Optional[List[str]] = typer.Option(None, "--setting", help="NAME=VALUE: an extra DISPERSA_* setting "
                                                                        "for every process (repeatable)"),
) -> None:
    """Run the raw limits and the scenarios on a testbed of their own; print the table, write the JSON.
    Exit 1 when a scenario failed (its row says why), 2 when the testbed could not run."""
    from rich.console import Console

    from bench.config import FULL, QUICK, SCENARIOS, BenchConfig, parse_settings, sizes_with
    from bench.report import FAILED
    from bench.run import run_bench
    from testbed import PROCFILE, TestbedError, checked_name, checked_procfile

    unknown = sorted(set(only or ()) - set(SCENARIOS))
    if unknown:
        raise typer.BadParameter(f"{', '.join(unknown)}: the scenarios are {', '.join(SCENARIOS)}", param_hint="--only")
    try:
        settings = parse_settings(setting or [])
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--setting") from None
    try:
        checked_name(name)
        checked_procfile(procfile or PROCFILE)
    except TestbedError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    sizes = sizes_with(QUICK if quick else FULL, credits=credits, stores=stores, payouts=payouts,
                       payout_rate=payout_rate, webhook_requests=webhook_requests, webhook_duration=webhook_duration,
                       webhook_connections=webhook_connections, ledger_updates=ledger_updates,
                       raw_messages=raw_messages, bulk_rows=tuple(bulk_rows) if bulk_rows else None,
                       bulk_wallets=bulk_wallets, bulk_sub_batch=bulk_sub_batch, bulk_deadline=bulk_deadline,
                       dates_lookups=dates_lookups, dates_rows=dates_rows, loans=loans, loans_slice=loans_slice)
    if webhook_requests and webhook_duration is None:
        sizes = sizes_with(sizes, webhook_duration=0.0)  # the requests alone end the load
    config = BenchConfig(sizes=sizes, processes=processes, threads=threads, web_workers=web_workers,
                         only=tuple(only or ()), out=out, keep=keep, quick=quick, profile=profile, settings=settings,
                         name=name, redis_db=redis_db, procfile=procfile)
    console = Console()
    if not console.is_terminal and console.width < 120:  # piped: the table wide enough to read whole
        console = Console(width=120)
    try:
        document = run_bench(config, console)
    except TestbedError as e:
        typer.echo(f"error: the testbed could not run: {e}", err=True)
        raise typer.Exit(2) from None
    failed = [row["key"] for row in document["results"] if row["status"] == FAILED]
    if failed:
        typer.echo(f"error: {len(failed)} scenario(s) failed: {', '.join(failed)} (see their rows)", err=True)
        raise typer.Exit(1)
