"""What one sandbox run is: keys, empresa, webhook, scenario, seed and the knobs tests turn."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from adapters.clock import utc_now

from .scenarios import ESTADO_STYLES, Scenario, scenario_named


@dataclass
class SandboxConfig:
    """Configuration of a sandbox. ``speed`` divides every scenario delay (4 = four times faster)."""

    public_key_pem: bytes | None = None         # public key or certificate; None accepts any firma
    empresa: str = "DISPERSA"                    # "" serves any empresa
    webhook_url: str | None = None
    webhook_secret: str | None = None             # STP's callbacks' X-Webhook-Secret
    gsma_callback_secret: str | None = None       # the GSMA callbacks' HMAC key (X-Callback-Signature)
    scenario: str | Scenario = "happy"
    seed: int | None = None
    page_size: int = 50
    port: int = 0                                # 0 picks a free port
    host: str = "127.0.0.1"
    speed: float = 1.0
    estado_style: str = "stp"                    # "stp" (LQ/CN/D) or "words" (Liquidacion/...)
    hang_seconds: float = 15.0                   # how long a timed-out registra waits before answering
    early_callback_wait_seconds: float = 5.0     # longest a registra answer waits for its first callback
    webhook_timeout_seconds: float = 2.0
    webhook_workers: int = 4
    missing_accounts: frozenset[str] = frozenset()                  # accounts answered with -7
    pld_blocklist: frozenset[str] = frozenset({"PLD RECHAZADO"})    # names or RFC/CURPs answered with -200
    clock: Callable[[], datetime] = field(default=utc_now)         # for fechaOperacion and ts* times
    # the GSMA and Mojaloop simulators (sandbox.mobile_money); plain seconds, not divided by speed
    connector_hang_seconds: float = 15.0             # how long a first call for a payee ending 2222 hangs
    connector_callback_delay_seconds: float = 0.2    # from a GSMA 202 to the transfer completing (and its callback)
    connector_callback_attempts: int = 5             # tries of a callback that gets no 2xx
    connector_callback_backoff_seconds: tuple[float, float] = (0.05, 1.0)   # first and longest wait between tries

    def __post_init__(self) -> None:
        if self.estado_style not in ESTADO_STYLES:
            raise ValueError(f"estado_style must be one of {ESTADO_STYLES}")
        if self.speed <= 0 or self.page_size <= 0:
            raise ValueError("speed and page_size must be positive")
        if self.connector_hang_seconds < 0 or self.connector_callback_delay_seconds < 0:
            raise ValueError("connector_hang_seconds and connector_callback_delay_seconds cannot be negative")
        if self.connector_callback_attempts < 1:
            raise ValueError("connector_callback_attempts must be at least 1")
        self.the_scenario()

    def the_scenario(self) -> Scenario:
        return self.scenario if isinstance(self.scenario, Scenario) else scenario_named(self.scenario)
