"""A worker command's Prometheus counters: dramatiq's own (messages processed, failed, retried and dead
per actor, how long each took), shared by its processes through a directory and served on
DISPERSA_WORKER_METRICS_PORT by a process the dramatiq CLI forks for it."""
from __future__ import annotations

import os
import tempfile
import threading
from typing import Any, Callable

from adapters.settings import Settings


def metrics_dir(settings: Settings) -> str:
    """Where the command's processes keep their counts: one directory per port unless set."""
    return settings.worker_metrics_dir or os.path.join(tempfile.gettempdir(),
                                                      f"dispersa-worker-metrics-{settings.worker_metrics_port}")


def share_counts(settings: Settings) -> str:
    """Make this process keep its counts in the shared directory (before prometheus_client is imported)."""
    directory = metrics_dir(settings)
    os.makedirs(directory, exist_ok=True)
    # read by prometheus_client and dramatiq's middleware when they are imported
    for name in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir", "dramatiq_prom_db"):
        os.environ[name] = directory
    return directory


def worker_metrics(settings: Settings) -> Any | None:
    """Dramatiq's Prometheus middleware, its exposition served by ``serve``; None when the port is 0."""
    if not settings.worker_metrics_port:
        return None
    share_counts(settings)
    from dramatiq.middleware.prometheus import Prometheus

    class WorkerMetrics(Prometheus):
        """Dramatiq's counters, served on the port our settings name."""

        @property
        def forks(self) -> list[Callable[[], int]]:
            return [serve]

    return WorkerMetrics()


def serve() -> int:
    """The forked process: every worker process's counts, on DISPERSA_WORKER_METRICS_HOST:PORT."""
    settings = Settings()
    share_counts(settings)
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(settings.worker_metrics_port, settings.worker_metrics_host, registry)
    threading.Event().wait()  # the server's thread serves until the CLI stops this process
    return 0
