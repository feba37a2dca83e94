"""The module the dramatiq CLI loads: ``dramatiq workers.main [--queues ledger bank ops]``.

With DISPERSA_WORKER_METRICS_PORT set (9191 by default; 0 turns it off), the command's processes export
Prometheus counters on that port (see workers/worker_metrics.py). Give each worker command on a host a
port of its own."""
from adapters.settings import Settings
from workers.worker_metrics import share_counts, worker_metrics

# prometheus_client chooses in-process or shared counts when it is first imported: before the root.
settings = Settings()
if settings.worker_metrics_port:
    share_counts(settings)

import dramatiq  # noqa: E402

from bootstrap import configure_logging, process_container  # noqa: E402

container = process_container(settings)
configure_logging(container.settings)
metrics = worker_metrics(container.settings)
if metrics is not None:
    container.broker.add_middleware(metrics)
dramatiq.set_broker(container.broker)
broker = container.broker
