"""Gunicorn's settings for the web process: ``gunicorn -c python:workers.serving workers.wsgi:app``.

Slow or hostile clients must not hold the API or the bank webhook. Each worker is a gevent worker: a
connection costs a greenlet, not a thread, so hundreds of half-open connections take nothing from
the others; on every route, a request's line and headers must arrive within the keep-alive time, its
body within DISPERSA_BODY_READ_SECONDS (408; web.limits.RequestLimits), and bodies have a size limit
(413). In production a buffering
reverse proxy (nginx, an ALB) stands in front as well; docs/deployment.md shows one.
"""
from adapters.settings import Settings

_settings = Settings()

bind = _settings.web_bind
workers = _settings.web_workers
worker_class = "gevent"
worker_connections = _settings.web_connections  # per worker
# an idle connection, or one still sending its line and headers, closes after this; at least 1 s, since with
# 0 gunicorn would keep no keep-alive and give a request's headers no deadline at all
keepalive = max(1, _settings.web_keepalive_seconds)
timeout = 30  # a worker that stops answering its arbiter is restarted
graceful_timeout = 30
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
# no control socket (gunicornc): its default path, ~/.gunicorn/gunicorn.ctl, would be one for every web process
# of the host, each new one taking it from the last (gunicorn before 25.1 has none and ignores this)
control_socket_disable = True
