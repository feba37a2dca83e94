"""The module the dramatiq CLI loads: ``dramatiq workers.main [--queues ledger bank ...]``."""
import dramatiq

from bootstrap import build_container, configure_logging

container = build_container()
configure_logging(container.settings)
dramatiq.set_broker(container.broker)
broker = container.broker
