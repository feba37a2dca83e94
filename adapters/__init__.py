"""The outside world: database, broker, Redis, settings."""
