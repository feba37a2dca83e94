"""The WSGI entry point: ``gunicorn workers.wsgi:app`` (settings from DISPERSA_* and .env)."""
from __future__ import annotations

import logging

from bootstrap import configure_logging, process_container, web_app

container = process_container()
configure_logging(container.settings)
# GET /health opens a RabbitMQ connection each time; pika narrates every one of them at INFO.
logging.getLogger("pika").setLevel(max(logging.WARNING, logging.getLogger().level))
app = web_app(container)
