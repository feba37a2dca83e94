"""GET /health: is each thing the web process depends on answering?"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

import falcon
from sqlalchemy import text

log = logging.getLogger("dispersa.web")

Check = Callable[[], str]  # returns a short detail when up, raises when down


def database_check(engine: Any) -> Check:
    def check() -> str:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return str(engine.dialect.name)

    return check


def broker_check(kind: str, rabbitmq_url: str) -> Check:
    def check() -> str:
        if kind != "rabbitmq":
            return f"{kind} (in process)"
        import pika

        params = pika.URLParameters(rabbitmq_url)
        params.connection_attempts = 1
        params.socket_timeout = 3
        params.blocked_connection_timeout = 3
        pika.BlockingConnection(params).close()
        return "rabbitmq"

    return check


def redis_check(redis: Callable[[], Any]) -> Check:
    def check() -> str:
        redis().ping()
        return "redis"

    return check


class HealthResource:
    """200 with every component up; 503, naming what is down, otherwise. No key needed."""

    def __init__(self, checks: Mapping[str, Check]):
        self._checks = checks

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        components: dict[str, dict[str, str]] = {}
        for name, check in self._checks.items():
            try:
                components[name] = {"status": "up", "detail": check()}
            except Exception as e:  # whatever the failure, the answer is "down"
                # The reason goes to the log only: this endpoint is public and errors can name hosts and users.
                log.warning("health: %s is down: %r", name, e)
                components[name] = {"status": "down", "detail": type(e).__name__}
        up = all(c["status"] == "up" for c in components.values())
        resp.status = falcon.HTTP_200 if up else falcon.HTTP_503
        resp.media = {"status": "up" if up else "down", "components": components}
