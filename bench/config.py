"""What one ``dispersa bench`` run measures and how big it is: the scenarios, their sizes (a quick and a
full preset, each size overridable), the worker's shape and the targets."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

TESTBED_NAME = "bench"  # database dispersa_bench, RabbitMQ vhost dispersa_bench
REDIS_DB = 10
RAW_INSERT_QUEUE = "bench_raw_insert"  # the bare actors' queues, in the bench's vhost
RAW_NOOP_QUEUE = "bench_raw_noop"
RAW_TABLE = "bench_raw_inserts"

RAW = "raw"
CONTRIBUTIONS = "contributions"
PAYOUTS = "payouts"
WEBHOOK = "webhook"
VERIFY = "verify"
BULK = "bulk"
DATES = "dates"
LOANS = "loans"
SCENARIOS = (RAW, CONTRIBUTIONS, PAYOUTS, WEBHOOK, VERIFY, BULK, DATES, LOANS)

# The targets.
CONTRIBUTIONS_MIN_RATIO = 0.5          # of the bare insert actor (a)
PAYOUTS_MIN_PER_SECOND = 200.0
PAYOUTS_MAX_P99_SENT_MS = 500.0        # credit delivered -> payment order sent
WEBHOOK_MIN_PER_SECOND = 1000.0
WEBHOOK_MAX_P99_MS = 50.0
BULK_ACCEPT_ROWS = 100_000             # the upload the accept target is for
BULK_ACCEPT_MAX_SECONDS = 3.0
BULK_MIN_ROWS_PER_SECOND = 1000.0      # end to end through closedloop
BULK_MAX_RSS_GROWTH_PCT = 25.0         # "flat": the largest size's peaks within this of the smallest's
DATES_MAX_WARM_LOOKUP_US = 20.0        # a warm calendar lookup, in process
DATES_RFC_SERVICE_MS = 10.0            # what the RFC's date service takes per lookup (for comparison)


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does."""

    raw_messages: int          # messages through each bare actor (a) and (b)
    credits: int               # delivered credits of the contributions scenario
    stores: int                # stores of each scenario (daily, instant, ledger)
    payouts: int               # credits delivered, one by one through the API, to instant stores
    payout_rate: float         # deliveries per second offered to the instant stores
    payout_deadline: float     # seconds the payouts may take before the row says incomplete
    webhook_requests: int      # 0: as many as fit in webhook_duration
    webhook_duration: float    # seconds of webhook load (after a warm-up second)
    webhook_connections: int   # concurrent keep-alive connections of the load generator
    ledger_updates: int        # balance updates written for ``ledger verify``
    bulk_rows: tuple[int, ...] = (100_000, 1_000_000)  # rows of each bulk batch, one batch per size
    bulk_wallets: int = 2000   # payees the rows are spread over (their wallets made by the first rows)
    bulk_sub_batch: int = 500  # the tenant's splitting.sub-batch-size
    bulk_deadline: float = 1200.0  # seconds from a batch's 202 before its row says incomplete
    dates_lookups: int = 200_000  # in-process calendar lookups timed per kind (execution, delivery)
    dates_rows: int = 12_000      # rows of the dated bulk file (delivery dates over the next 30 days)
    loans: int = 1_000_000        # loans of the servicing run's book
    loans_slice: int = 50_000     # credit ids per slice of the servicing run
    loans_deadline: float = 900.0  # seconds the day's slices may take before the row says incomplete


QUICK = Sizes(raw_messages=3000, credits=1500, stores=40, payouts=400, payout_rate=PAYOUTS_MIN_PER_SECOND,
              payout_deadline=45.0, webhook_requests=0, webhook_duration=5.0, webhook_connections=16,
              ledger_updates=20_000, bulk_rows=(20_000, 100_000), bulk_deadline=600.0, loans=100_000)
FULL = Sizes(raw_messages=20_000, credits=10_000, stores=200, payouts=3000, payout_rate=PAYOUTS_MIN_PER_SECOND,
             payout_deadline=900.0, webhook_requests=0, webhook_duration=20.0, webhook_connections=16,
             ledger_updates=100_000, bulk_rows=(100_000, 1_000_000), bulk_deadline=1200.0)


@dataclass(frozen=True)
class BenchConfig:
    """One run: which scenarios, on what worker, how big, where the JSON goes, what is kept."""

    sizes: Sizes = FULL
    processes: int = 2
    threads: int = 8
    web_workers: int = 2
    only: tuple[str, ...] = ()          # empty: every scenario
    out: Path = Path("bench-results.json")
    keep: bool = False
    quick: bool = False
    profile: bool = False               # py-spy the processes under load (needs py-spy in the venv)
    settings: dict[str, str] = field(default_factory=dict)  # extra DISPERSA_* values for every process
    name: str = TESTBED_NAME            # database and vhost dispersa_<name>: two runs on one host differ
    redis_db: int = REDIS_DB
    procfile: Path | None = None        # None: the Procfile dispersa ships

    def wants(self, scenario: str) -> bool:
        """Whether this run measures ``scenario``; the raw limits are measured in every run."""
        return scenario == RAW or not self.only or scenario in self.only

    def testbed_settings(self) -> dict[str, Any]:
        """The DISPERSA_* values (by lower-case name) every process of the bench's testbed gets."""
        values: dict[str, Any] = {
            "worker_processes": self.processes, "worker_threads": self.threads, "web_workers": self.web_workers,
            "stp_rate_limit_per_second": 100_000,  # the bench measures dispersa, not STP's quota
        }
        values.update(self.settings)
        return values


def sizes_with(base: Sizes, **overrides: Any) -> Sizes:
    """``base`` with the sizes given (None leaves a size as it is)."""
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """``name=value`` pairs (a DISPERSA_ prefix and upper case allowed) as lower-case setting names."""
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--setting {pair!r} is not name=value")
        name = name.strip().lower()
        settings[name.removeprefix("dispersa_")] = value
    return settings


def pymysql_arguments(url: str) -> dict[str, Any]:
    """PyMySQL's connect() arguments for a ``mysql+pymysql://user:pass@host:port/db`` URL (the bare actor's)."""
    parts = urlsplit(url)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 3306,
            "user": unquote(parts.username or "root"), "password": unquote(parts.password or ""),
            "database": parts.path.lstrip("/"), "charset": "utf8mb4", "autocommit": False}
