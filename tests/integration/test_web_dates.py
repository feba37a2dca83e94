"""GET /api/v1/dates/execution and /delivery on the real app: any key may ask; the web's clock decides
what has passed; bad input is a 422 naming what would work."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from falcon import testing

from bootstrap import Container, web_app
from usecases import access

pytestmark = pytest.mark.integration


@pytest.fixture
def client(container: Container, clock) -> tuple[testing.TestClient, dict[str, str]]:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)  # noon in Mexico City, a Tuesday
    with container.uow() as uow:
        key = access.create_api_key(uow, "operator", owner="operator@tests.example")
        uow.commit()
    return testing.TestClient(web_app(container)), {"Authorization": f"Bearer {key}"}


def test_the_execution_date_of_a_delivery_date(client: tuple[testing.TestClient, dict[str, str]]) -> None:
    app, headers = client
    got = app.simulate_get("/api/v1/dates/execution", headers=headers,
                           params={"rail": "SWIFT", "delivery_date": "2027-01-01", "country": "DE"})
    assert got.status_code == 200, got.text
    assert got.json == {"rail": "SWIFT", "country": "DE", "currency": "USD", "execution_date": "2026-12-29",
                        "delivery_date": "2026-12-31", "lag_days": 2, "cutoff": "17:00",
                        "cutoff_zone": "America/New_York", "requested_delivery_date": "2027-01-01"}


def test_the_delivery_date_of_an_execution_date(client: tuple[testing.TestClient, dict[str, str]]) -> None:
    app, headers = client
    got = app.simulate_get("/api/v1/dates/delivery", headers=headers,
                           params={"rail": "SPEI", "execution_date": "2026-12-12"})
    assert got.status_code == 200 and got.json["delivery_date"] == "2026-12-14"  # 12 December and a weekend


@pytest.mark.parametrize("path, params, words", [
    ("execution", {"rail": "SPEI", "delivery_date": "2026-11-30"}, "the earliest delivery date is 2026-12-01"),
    ("execution", {"rail": "ACH", "delivery_date": "2026-12-30"}, "rail is one of"),
    ("execution", {"rail": "SPEI", "delivery_date": "2026-02-30"}, "not a day of the calendar"),
    ("execution", {"rail": "SPEI", "delivery_date": "2040-01-02"}, "outside the calendars' years"),
    ("execution", {"rail": "SPEI"}, "delivery_date is required"),
    ("delivery", {"rail": "SEPA", "execution_date": "2026-12-30", "country": "ZZ"}, "no public holiday calendar"),
])
def test_bad_input_is_a_422_that_says_what_would_work(client: tuple[testing.TestClient, dict[str, str]], path: str,
                                                      params: dict[str, str], words: str) -> None:
    app, headers = client
    got = app.simulate_get(f"/api/v1/dates/{path}", headers=headers, params=params)
    assert got.status_code == 422 and words in got.json["description"], got.text


def test_a_key_is_needed(client: tuple[testing.TestClient, dict[str, str]]) -> None:
    app, _ = client
    assert app.simulate_get("/api/v1/dates/execution", params={"rail": "SPEI", "delivery_date": "2026-12-30"}
                            ).status_code == 401
