"""MySQL/SQLite persistence: schema, engine, unit of work, outbox."""
