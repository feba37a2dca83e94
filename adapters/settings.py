"""One typed settings object, read from DISPERSA_* environment variables and a .env file."""
from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.schedules import DEFAULT_TIMEZONE


class Settings(BaseSettings):
    """Every knob of dispersa; the README lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="DISPERSA_", env_file=".env", extra="ignore")

    database_url: str = ""  # required: `make up` writes it to .env for development
    db_lock_wait_seconds: int = 0  # 0: the server's innodb_lock_wait_timeout
    db_pool_size: int = 10  # connections each process keeps open
    db_max_overflow: int = 20  # more it may open under load
    broker: Literal["stub", "rabbitmq"] = "stub"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    redis_url: str = "redis://127.0.0.1:6379/0"  # empty: no Redis (the embedded demo)
    timezone: str = DEFAULT_TIMEZONE
    max_retries: int = 5
    min_backoff_ms: int = 500
    max_backoff_ms: int = 60_000
    worker_threads: int = 4
    worker_metrics_port: int = 9191  # Prometheus counters of a worker command's processes; 0: none
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_dir: str = ""  # where its processes share their counts; a temporary directory per port
    relay_batch_size: int = 200
    relay_idle_seconds: float = 0.2
    scheduler_tick_seconds: int = 60
    scheduler_catch_up_limit: int = 48
    stuck_after_minutes: int = 15
    sweep_interval_seconds: int = 300  # how often the sweeps look for stuck work
    commission_job_day: int = 1
    # STP (SPEI) gateway
    stp_base_url: str = "http://127.0.0.1:7024"
    stp_efws_url: str = "http://127.0.0.1:7024"
    stp_empresa: str = "DISPERSA"
    stp_private_key_path: str = ""
    stp_passphrase: str = ""
    stp_ordering_account: str = "646180500000000004"
    stp_ordering_name: str = "DISPERSA SA DE CV"
    stp_ordering_rfc: str = "DIS200101AB1"
    stp_tracking_prefix: str = "DSP"
    stp_timeout_seconds: float = 10.0
    stp_rate_limit_per_second: int = 20
    stp_send_rounds: int = 3
    stp_estados: dict[str, str] = {}
    webhook_secret: str = ""
    gsma_callback_secret: str = ""  # the GSMA provider's callbacks' HMAC key: never STP's webhook secret
    web_bind: str = "127.0.0.1:8000"
    web_workers: int = 2
    web_connections: int = 1000  # open connections per web worker
    web_keepalive_seconds: int = 5  # also how long a request's line and headers may take to arrive
    max_body_bytes: int = 1024 * 1024  # a request body beyond this is a 413 (the webhook's limit is 64 KiB)
    body_read_seconds: float = 10.0  # a body that takes longer to arrive is a 408 (gevent worker)
    unmatched_event_deadline_minutes: int = 24 * 60
    callback_after_minutes: int = 30
    reconciliation_hour: int = 6
    ledger_check_hour: int = 4  # the daily ledger check (Mexico City time)
    reconciliation_days: int = 35
    return_window_days: int = 180  # how long after liquidation the bank may still report a return
    max_adjustment: int = 1_000_000_000  # minor units: the largest single adjustment either way
    # dual control, in minor units: a person's adjustment above this (or a store's day of them adding up above
    # it) waits for a second person; a transfer above the other waits for treasury's approval
    adjustment_approval_above: int = 10_000_000
    transfer_approval_above: int = 100_000_000
    customer_default_dpd: int = 30  # a customer with a loan more days past due than this is disabled
    servicing_slice_size: int = 50_000  # credit ids per slice of the daily servicing run
    # bulk payouts
    bulk_storage_dir: str = "var/batches"  # where uploaded batch files are kept
    bulk_max_bytes: int = 512 * 1024 * 1024  # an upload beyond this is a 413
    bulk_max_json_bytes: int = 16 * 1024 * 1024  # a raw (JSON) batch is parsed whole: it has its own limit
    bulk_parallel_sub_batches: int = 2  # sub-batches of one batch executing at once
    bulk_rate_spei: int = 10  # rows per second made into payment orders, leaving STP room for store payouts
    bulk_rate_closedloop: int = 5000
    bulk_rate_gsma: int = 50
    bulk_rate_mojaloop: int = 50
    gsma_base_url: str = "http://127.0.0.1:7024"
    mojaloop_base_url: str = "http://127.0.0.1:7024"
    connector_timeout_seconds: float = 10.0
    public_url: str = "http://127.0.0.1:8000"  # where connectors call back (/callbacks/<connector>/<uetr>)
    acknowledgement_timeout_seconds: float = 5.0
    # the exceptions to "a tenant's X-CallbackURL is a public address": addresses, CIDRs and host names
    callback_allow: str = ""
    data_keys: str = ""  # required: the keys sealing payee accounts and names, newest first (docs/keys.md)
    log_level: str = "INFO"
    log_json: bool = False
