"""``dispersa chaos``: reliability under injected faults, on the real processes."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer

cli = typer.Typer(help="Drive the real processes under injected faults, then prove the books.")

QUICK = {"credits": 400, "faults": 15, "settle_timeout": 300.0, "rate": 6.0, "bulk_rows": 100}
FULL = {"credits": 5000, "faults": 50, "settle_timeout": 600.0, "rate": 20.0, "bulk_rows": 400}


def _interrupted(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt(f"signal {signum}")


@cli.callback(invoke_without_command=True)
def chaos(credits: Optional[int] = typer.Option(None, help="credits to drive (default 5000; --quick 400)"),
          faults: Optional[int] = typer.Option(None, help="faults to inject over the drive (default 50; --quick 15)"),
          bulk_rows: Optional[int] = typer.Option(None, help="rows of the bulk file (SPEI and closed loop) a tenant "
                                                             "submits during the drive (default 400; --quick 100; "
                                                             "0: none)"),
          seed: int = typer.Option(7, help="random seed: the same seed draws the same plan of credits and faults"),
          quick: bool = typer.Option(False, "--quick", help="a short run (2-3 minutes), as `make test` runs it"),
          out: Optional[Path] = typer.Option(None, help="also write the report as JSON to this file"),
          keep: bool = typer.Option(False, "--keep", help="leave the database, vhost and logs for inspection"),
          name: str = typer.Option("chaos", help="testbed name: database and vhost dispersa_<name>"),
          redis_db: int = typer.Option(11, help="the Redis database the testbed uses (flushed)"),
          worker_processes: int = typer.Option(1, help="dramatiq worker processes"),
          worker_threads: int = typer.Option(4, help="dramatiq threads per worker process"),
          clients: int = typer.Option(2, help="API client threads driving the credits"),
          rate: Optional[float] = typer.Option(None, help="credits driven a second at most (default 20; --quick 6)"),
          kinds: str = typer.Option("", help="comma-separated fault kinds (default: all); see --list-kinds"),
          list_kinds: bool = typer.Option(False, "--list-kinds", help="print the fault kinds and exit"),
          scenario: str = typer.Option("chaos", help="the sandbox's scenario: its bank faults (timeouts, 5xx, "
                                                     "duplicate, out-of-order and late callbacks, returns)"),
          settle_timeout: Optional[float] = typer.Option(None, help="seconds to wait for the system to settle "
                                                                    "(default 600; --quick 300)"),
          workdir: Optional[Path] = typer.Option(None, help="where the processes' output goes (default: a "
                                                            "temporary directory, removed when the run passes)"),
          procfile: Optional[Path] = typer.Option(None, help="the Procfile whose processes run (default: the one "
                                                             "dispersa ships, the checkout's)")) -> None:
    """Start the Procfile's processes and the STP sandbox in a database and vhost of their own, drive
    thousands of credits through the API to stores of every mode, and a tenant's bulk file of SPEI and
    closed-loop rows, while killing processes and connections at random (seeded), let the system settle,
    then prove the books: reconciliation, `dispersa ledger verify`, the ledger against the bank's own
    books, order by order, and the batch against the wallet ledger and the bank (no row paid twice, its
    totals the money that moved). Exits 1 on any violation, mismatch, lost money, row paid twice or work
    left unsettled."""
    from chaos.plan import FAULT_KINDS
    from chaos.runner import ChaosOptions
    from testbed import PROCFILE, TestbedError, checked_name, checked_procfile

    if list_kinds:
        print("\n".join(FAULT_KINDS))
        raise typer.Exit(0)
    sizes = QUICK if quick else FULL
    try:
        name, procfile = checked_name(name), checked_procfile(procfile or PROCFILE)
    except TestbedError as e:
        _usage(str(e))
    options = ChaosOptions(
        credits=credits if credits is not None else int(sizes["credits"]),
        faults=faults if faults is not None else int(sizes["faults"]), seed=seed, quick=quick, out=out, keep=keep,
        bulk_rows=bulk_rows if bulk_rows is not None else int(sizes["bulk_rows"]),
        name=name, redis_db=redis_db, worker_processes=worker_processes,
        worker_threads=worker_threads, clients=max(1, clients), rate=rate if rate else float(sizes["rate"]),
        kinds=_checked_kinds(kinds, FAULT_KINDS), scenario=scenario,
        settle_timeout=settle_timeout if settle_timeout is not None else float(sizes["settle_timeout"]),
        workdir=workdir, procfile=procfile)
    if options.credits < 1 or options.faults < 0 or options.bulk_rows < 0:
        _usage("--credits must be at least 1, --faults and --bulk-rows at least 0")
    raise typer.Exit(_run(options))


def _checked_kinds(kinds: str, known: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip()) or known
    unknown = [k for k in chosen if k not in known]
    if unknown:
        _usage(f"unknown fault kinds {unknown}; known: {', '.join(known)}")
    return chosen


def _usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _run(options: Any) -> int:
    """The run, its report printed (and written), and its exit code."""
    from rich.console import Console

    from chaos.runner import ChaosRun

    console = Console()
    if not console.is_terminal:  # piped or captured: tables wide enough to read whole
        console = Console(width=max(console.width, 110))
    previous = signal.signal(signal.SIGTERM, _interrupted)
    run = ChaosRun(options, console)
    code = 1
    try:
        code = _execute(run, console)
    finally:
        # a second Ctrl-C must not leave the testbed's processes running
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            run.close(failed=code != 0)
        finally:
            signal.signal(signal.SIGINT, interrupt)
            signal.signal(signal.SIGTERM, previous)
    _finish(run, options, console)
    return code


def _execute(run: Any, console: Any) -> int:
    """Every phase of the run; 0 when it passed, 1 when it found something, 2 when it could not run."""
    from testbed import TestbedError

    try:
        report = run.run()
        report.judge()
        return 0 if report.ok else 1
    except KeyboardInterrupt:
        console.print("interrupted: stopping the processes", highlight=False)
        return 130
    except TestbedError as e:
        console.print(f"error: the testbed could not run: {e}", highlight=False, markup=False)
        return 2
    except Exception as e:  # the run broke: say how, keep the logs
        console.print(f"error: the run broke: {type(e).__name__}: {e}", highlight=False, markup=False)
        run.report.failures.append(f"the run broke: {type(e).__name__}: {e}")
        return 1


def _finish(run: Any, options: Any, console: Any) -> None:
    """The report on the console (when the run got that far) and in ``--out``."""
    if run.completed:
        run.report.print(console)
    elif run.report.workdir:
        console.print(f"the processes' output is in {run.report.workdir}", highlight=False)
    if options.keep and run.bed is not None:
        console.print(f"kept for inspection: DISPERSA_DATABASE_URL={run.bed.database_url} (vhost {run.bed.vhost}, "
                      f"processes' output in {run.workdir}); the next run of --name {options.name} drops them",
                      highlight=False, soft_wrap=True)
    if options.out is not None:
        run.report.write(options.out)
