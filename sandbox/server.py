"""Serving the sandbox: in process (`SandboxServer`) or as the ``dispersa sandbox`` process (`run_sandbox`)."""
from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from adapters.loopback import LoopbackServer

from .app import create_app
from .bank import SandboxBank
from .books import Books
from .config import SandboxConfig
from .mobile_money import MobileMoney

log = logging.getLogger(__name__)


class SandboxServer:
    """The sandbox on a loopback port, in this process: ``start()``, ``url``, ``books``, ``stop()``; STP's
    paths and the mobile-money rails' (``mobile_money``) on the one port."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.bank = SandboxBank(config)
        self.mobile_money = MobileMoney(config)
        self._server: LoopbackServer | None = None

    @property
    def books(self) -> Books:
        return self.bank.books

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._server = LoopbackServer(create_app(self.bank, self.mobile_money), self.config.host, self.config.port,
                                      "stp-sandbox-http")
        self.bank.notifier.start()
        self.mobile_money.start()
        self._server.start()
        log.info("STP sandbox on %s (scenario %s, seed %s)", self.url, self.bank.scenario.name, self.config.seed)
        return self

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every planned outcome happened and every callback finished; False on timeout."""
        started = time.monotonic()
        return (self.bank.notifier.wait_idle(timeout)
                and self.mobile_money.wait_idle(max(0.0, timeout - (time.monotonic() - started))))

    def stop(self) -> None:
        """Stop serving, drop outcomes still scheduled, and wait for every sandbox thread to end."""
        self.bank.stopping.set()
        if self._server is not None:
            self._server.shutdown()
        self.bank.notifier.stop()  # releases answers that wait for a callback, so that close() can end
        self.mobile_money.stop()   # and answers that hang or wait for another call's booking
        if self._server is not None:
            self._server.close()
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def run_sandbox(port: int, public_key_path: str | None, empresa: str, webhook_url: str | None,
                webhook_secret: str | None, scenario: str, seed: int | None, *, speed: float = 1.0,
                estado_style: str = "stp", gsma_callback_secret: str | None = None) -> None:
    """Serve the sandbox on 127.0.0.1:port until SIGTERM or SIGINT (``dispersa sandbox``)."""
    public_key = Path(public_key_path).read_bytes() if public_key_path else None
    config = SandboxConfig(public_key_pem=public_key, empresa=empresa, webhook_url=webhook_url,
                           webhook_secret=webhook_secret, gsma_callback_secret=gsma_callback_secret,
                           scenario=scenario, seed=seed, port=port,
                           speed=speed, estado_style=estado_style)
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = SandboxServer(config).start()
    print(f"STP sandbox serving {server.url} (scenario {scenario}, empresa {empresa})", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
