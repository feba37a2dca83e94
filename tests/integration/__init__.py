"""Integration tests against the real MariaDB, RabbitMQ and Redis."""
