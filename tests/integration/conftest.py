"""Fixtures of the bank tests: the web app (with its webhook secret) over the test database."""
from __future__ import annotations

from pathlib import Path

import pytest
from falcon import testing

from adapters.bank.signer import generate_key_pair
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from bootstrap import build_container, web_app

WEBHOOK_SECRET = "s3cr3t-del-webhook"
WEBHOOK_PATH = "/webhooks/stp/order-status"


@pytest.fixture
def stack(settings, clock):
    """A container (in-process broker: the tests run each step by hand) and a TestClient of the app."""
    container = build_container(settings.model_copy(update={"webhook_secret": WEBHOOK_SECRET, "broker": "stub"}),
                                clock=clock)
    container.redis.flushdb()  # per-minute counters of another test must not carry over
    yield container, testing.TestClient(web_app(container))
    container.engine.dispose()


PASSPHRASE = "clave-de-prueba"


@pytest.fixture(scope="module")
def key_files(tmp_path_factory) -> tuple[Path, bytes]:
    private, public = generate_key_pair(PASSPHRASE)
    path = tmp_path_factory.mktemp("keys") / "stp.pem"
    path.write_bytes(private)
    return path, public


def _sandbox(public: bytes, clock, **config) -> SandboxServer:
    return SandboxServer(SandboxConfig(public_key_pem=public, empresa="DISPERSA", clock=clock, **config)).start()


@pytest.fixture
def bank(settings, clock, key_files, request):
    """A container whose STP client talks to a fresh sandbox (scenario from the test's ``sandbox`` mark)."""
    path, public = key_files
    mark = request.node.get_closest_marker("sandbox")
    config = dict(mark.kwargs) if mark else {}
    config.setdefault("speed", 20)
    sandbox = _sandbox(public, clock, **config)
    s = settings.model_copy(update={"stp_private_key_path": str(path), "stp_passphrase": PASSPHRASE,
                                    "stp_base_url": sandbox.url, "stp_efws_url": sandbox.url,
                                    "stp_timeout_seconds": 1.0, "broker": "stub"})
    container = build_container(s, clock=clock)
    container.redis.flushdb()
    yield container, sandbox
    sandbox.stop()
    container.engine.dispose()


@pytest.fixture
def bulk(settings, clock, tmp_path):
    """The bulk API over MariaDB, RabbitMQ and Redis (uploads kept under tmp_path), and its TestClient."""
    from tests.integration.bulk_support import close, make_bulk

    container = make_bulk(settings, clock, tmp_path)
    yield container, testing.TestClient(web_app(container))
    close(container)
