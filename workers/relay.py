"""``python -m workers.relay``: the outbox relay process (see adapters/relay.py)."""
from __future__ import annotations

from bootstrap import configure_logging, process_container, relay


def main() -> None:
    container = process_container()
    configure_logging(container.settings)
    relay(container).run_forever()


if __name__ == "__main__":
    main()
