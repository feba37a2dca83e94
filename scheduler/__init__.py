"""The scheduler process: APScheduler cron jobs that enqueue periodic work through the outbox."""
