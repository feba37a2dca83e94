"""Fixtures of the bank tests: the web app (with its webhook secret) over the test database."""
from __future__ import annotations

import pytest
from falcon import testing

from web.app import create_app
from workers.bootstrap import build_container

WEBHOOK_SECRET = "s3cr3t-del-webhook"
WEBHOOK_PATH = "/webhooks/stp/order-status"


@pytest.fixture
def stack(settings, clock):
    """A container (in-process broker: the tests run each step by hand) and a TestClient of the app."""
    container = build_container(settings.model_copy(update={"webhook_secret": WEBHOOK_SECRET, "broker": "stub"}),
                                clock=clock)
    yield container, testing.TestClient(create_app(container))
    container.engine.dispose()
