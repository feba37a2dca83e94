"""A dated bulk file on MariaDB, RabbitMQ and Redis: the date lookup gives each row its execution and
delivery dates by its rail's calendar, fails the rows whose date cannot be met, holds the others until
their execution date, and the scheduler's release pays them on that day."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from falcon import testing

from adapters.sealing import KEYRING
from scheduler import jobs
from tests.integration.bulk_support import process, summary, tenant
from tests.integration.helpers import count, rows

pytestmark = pytest.mark.integration
DATED = {"payment-modes": {"monedero": "closedloop"}, "partylookup.enable": False, "dates.enable": True}
FILE = ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency,date\n"
        "0,monedero,accountid,ana,100,MXN,2026-12-12\n"     # a Saturday and 12 December: sent Friday the 11th
        "1,monedero,accountid,luis,200,MXN,2026-12-01\n"    # today, before the cut-off
        "2,monedero,accountid,marta,300,MXN,2026-11-30\n"   # past
        "3,monedero,accountid,ines,400,MXN,\n"              # no date: as soon as possible
        "4,monedero,accountid,kofi,500,KES,2026-12-15\n"    # no calendar for KES
        "5,monedero,accountid,raul,600,MXN,2026-13-01\n")   # not a date


def submit(client: testing.TestClient, headers: dict[str, str], content: str, request_id: str,
           **extra: str) -> testing.Result:
    return client.simulate_post("/batchtransactions", params={"type": "csv"}, body=content.encode(), headers={
        **headers, "X-CorrelationID": request_id, "Content-Type": "text/csv", **extra})






def test_delivery_dates_are_met_or_refused_and_held_rows_go_out_on_their_day(bulk: Any, clock: Any) -> None:
    container, client = bulk
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)  # noon in Mexico City, a Tuesday
    headers = tenant(container, "nomina", DATED, "5000", currency="MXN")
    answer = submit(client, headers, FILE, "nomina-dic", **{"X-Date-Type": "delivery"})
    assert answer.status_code == 202, answer.text
    batch_id = answer.json["batch_id"]
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"], s["ongoing"]) == ("processing", 2, 3, 1), s
    assert s["date_type"] == "delivery"
    detail = {d["row"]: d for d in client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/detail",
                                                       headers=headers).json}
    assert (detail[0]["executionDate"], detail[0]["deliveryDate"], detail[0]["status"]) == (
        "2026-12-11", "2026-12-11", "PENDING")
    assert (detail[1]["executionDate"], detail[1]["status"]) == ("2026-12-01", "SUCCESS")
    assert detail[3]["executionDate"] == "2026-12-01" and detail[3]["status"] == "SUCCESS"
    assert detail[2]["errorCode"] == "DATE_NOT_MET" and "earliest delivery date is 2026-12-01" in detail[2]["statusDetail"]
    assert detail[4]["errorCode"] == "DATE_NOT_MET" and "no business calendar for KES" in detail[4]["statusDetail"]
    assert detail[5]["errorCode"] == "INVALID_DATE"

    clock.now = datetime(2026, 12, 10, 20, 0, tzinfo=timezone.utc)  # the days before: nothing is due yet
    assert jobs.release_scheduled_rows(container) == 0
    clock.now = datetime(2026, 12, 11, 6, 30, tzinfo=timezone.utc)  # 00:30 on the 11th in Mexico City
    assert jobs.release_scheduled_rows(container) == 1
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 3, 3), s
    [paid] = rows(container, "SELECT at FROM wallet_entries e JOIN wallets w ON w.id = e.credit_wallet_id "
                             "WHERE w.owner_digest = :d", d=KEYRING.digest("ana"))
    assert paid.at.date().isoformat() == "2026-12-11"
    result = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/result", headers=headers).text.splitlines()
    assert result[0].endswith("status,error_code,error_description,date,execution_date,delivery_date")
    assert result[1].endswith("2026-12-12,2026-12-11,2026-12-11")


def test_a_tenant_outside_the_dates_trial_cannot_declare_dates(bulk: Any) -> None:
    container, client = bulk
    headers = tenant(container, "plain", {"payment-modes": {"monedero": "closedloop"}})
    answer = submit(client, headers, FILE, "plain-1", **{"X-Date-Type": "delivery"})
    assert answer.status_code == 422 and "dates.enable is off" in answer.json["description"]
    dated = tenant(container, "dated", DATED)
    assert submit(client, dated, FILE, "dated-1", **{"X-Date-Type": "someday"}).status_code == 422


def test_a_dated_file_from_a_tenant_outside_the_dates_trial_is_refused_naming_the_column_and_the_setting(
        bulk: Any, tmp_path: Any) -> None:
    from urllib3 import encode_multipart_formdata

    container, client = bulk
    headers = tenant(container, "plain", {"payment-modes": {"monedero": "closedloop"}, "partylookup.enable": False},
                     "5000", currency="MXN")
    body, content_type = encode_multipart_formdata({"data": ("nomina.csv", FILE.encode(), "text/csv")})
    for answer in (submit(client, headers, FILE, "plain-dated"),
                   client.simulate_post("/batchtransactions", params={"type": "csv"}, body=body, headers={
                       **headers, "X-CorrelationID": "plain-form", "Content-Type": content_type})):
        assert answer.status_code == 400, answer.text
        assert "column date" in answer.json["description"] and "dates.enable" in answer.json["description"]
    assert count(container, "batches") == 0
    assert not [p for p in (tmp_path / "batches").rglob("*") if p.is_file()]  # nothing kept


def test_the_date_type_may_come_as_a_form_field(bulk: Any) -> None:
    from urllib3 import encode_multipart_formdata

    container, client = bulk
    headers = tenant(container, "dated", DATED, "100", currency="MXN")
    body, content_type = encode_multipart_formdata({"data": ("nomina.csv", FILE.encode(), "text/csv"),
                                                    "date_type": "execution"})
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, body=body, headers={
        **headers, "X-CorrelationID": "form-1", "Content-Type": content_type})
    assert answer.status_code == 202, answer.text
    assert summary(client, headers, answer.json["batch_id"])["date_type"] == "execution"
