"""``python -m scheduler``: cron jobs in America/Mexico_City (DISPERSA_TIMEZONE)."""
from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import jobs
from bootstrap import configure_logging, process_container

log = logging.getLogger("dispersa.scheduler")


def build_scheduler() -> BlockingScheduler:
    container = process_container()
    configure_logging(container.settings)
    tz = container.settings.timezone
    tick = max(1, container.settings.scheduler_tick_seconds)
    sched = BlockingScheduler(timezone=tz, job_defaults={"coalesce": True, "max_instances": 1,
                                                         "misfire_grace_time": 3600})
    second = "*/%d" % tick if tick < 60 else "0"
    sched.add_job(jobs.enqueue_due_triggers, CronTrigger(second=second, timezone=tz), args=[container],
                  id="triggers")
    sched.add_job(jobs.sweep_stuck_work, IntervalTrigger(seconds=max(1, container.settings.sweep_interval_seconds),
                                                         timezone=tz), args=[container], id="sweeps")
    # Hourly over two days: a merchant's month ends at midnight in its own zone, up to a day from ours.
    day = container.settings.commission_job_day
    sched.add_job(jobs.monthly_commissions, CronTrigger(day=f"{day}-{day + 1}", minute=5, timezone=tz),
                  args=[container], id="commissions")
    sched.add_job(jobs.daily_reconciliation, CronTrigger(hour=container.settings.reconciliation_hour, minute=15,
                                                         timezone=tz), args=[container], id="reconciliation")
    sched.add_job(jobs.daily_ledger_check, CronTrigger(hour=container.settings.ledger_check_hour, minute=30,
                                                       timezone=tz), args=[container], id="ledger_check")
    sched.add_job(jobs.release_scheduled_rows, CronTrigger(minute=2, timezone=tz), args=[container], id="releases")
    sched.add_job(jobs.late_returns, CronTrigger(hour=container.settings.reconciliation_hour, minute=45,
                                                 timezone=tz), args=[container], id="late_returns")
    # Hourly from just after midnight: the first run sends the day's slices, later ones only what was missed.
    sched.add_job(jobs.daily_loan_servicing, CronTrigger(minute=7, timezone=tz), args=[container],
                  id="loan_servicing")
    return sched


def main() -> None:
    sched = build_scheduler()
    log.info("scheduler started: %s", [j.id for j in sched.get_jobs()])
    sched.start()


if __name__ == "__main__":
    main()
