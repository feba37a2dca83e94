"""Writes on MariaDB refuse what does not fit rather than storing it changed: every session runs in strict
mode (checked when a process starts), and no data row is written with INSERT IGNORE. What is written twice
(a page split again, a message sent again, a callback stored again) is kept once by its unique key,
explicitly, and any other error is raised."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DataError, IntegrityError

import bootstrap
from adapters.db.engine import NotStrict, build_engine, require_strict
from domain.bank_events import BankEvent
from tests.integration.bulk_support import Bulk, process, tenant
from tests.integration.helpers import count, rows
from tests.integration.test_bulk_inputs import csv_file, line, upload
from usecases import steps

pytestmark = pytest.mark.integration

LAX = "init_command=SET SESSION sql_mode=''"  # a server whose sessions are not strict unless told


def lax(url: str) -> str:
    return url + ("&" if "?" in url else "?") + LAX


def session_mode(engine: Any) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar())


def test_every_session_runs_strict_even_on_a_server_that_is_not(db_url: str) -> None:
    assert session_mode(create_engine(lax(db_url))) == ""  # the server as a lax one would be
    engine = build_engine(lax(db_url), lock_wait_seconds=3)
    try:
        assert "STRICT_TRANS_TABLES" in session_mode(engine).split(",")
        require_strict(engine)
    finally:
        engine.dispose()


def test_a_process_refuses_to_start_on_a_session_that_is_not_strict(settings: Any, monkeypatch) -> None:
    engine = create_engine(lax(settings.database_url))
    with pytest.raises(NotStrict, match="STRICT_TRANS_TABLES"):
        require_strict(engine)
    monkeypatch.setattr(bootstrap, "build_engine", lambda url, *_: create_engine(lax(url)))
    with pytest.raises(SystemExit, match="refuses to start.*sql_mode ''"):
        bootstrap.process_container(settings)
    engine.dispose()


def first_page(container: Any) -> list[Any]:
    with container.uow() as uow:
        batch_pk = int(rows(container, "SELECT id FROM batches")[0].id)
        return uow.instructions.page(batch_pk, -1, 100)


def test_a_page_written_again_keeps_its_rows_once_and_an_amount_beyond_the_column_is_refused(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"partylookup.enable": False, "payment-modes": {"slcb": "closedloop"}})
    upload(client, headers, csv_file(line(0, "a", "10"), line(1, "b", "20")))
    process(container)
    written = first_page(container)
    at = container.clock()
    with container.uow() as uow:
        assert uow.instructions.add_many(written, [None, None], at) == 0  # the page split again
        third = dataclasses.replace(written[1], row=2, instruction_id="third",
                                    uetr="00000000-0000-4000-8000-000000000003")
        assert uow.instructions.add_many(written + [third], [None] * 3, at) == 1  # in part: the rest is written
        uow.commit()
    assert count(container, "instructions") == 3
    clamped = dataclasses.replace(written[1], row=3, instruction_id="fourth",
                                  uetr="00000000-0000-4000-8000-000000000004", amount=2**64)
    with container.uow() as uow, pytest.raises(DataError):
        uow.instructions.add_many([clamped], [None], at)  # INSERT IGNORE stored 2^63-1 here
    other = dataclasses.replace(written[1], row=4, instruction_id=written[0].instruction_id)
    with container.uow() as uow, pytest.raises(IntegrityError):
        uow.instructions.add_many([other], [None], at)  # a duplicate that is not this page's row is an error
    assert count(container, "instructions") == 3


def test_a_message_or_callback_stored_twice_is_kept_once(container: Any) -> None:
    with container.uow() as uow:
        assert uow.outbox.send(steps.RECONCILE_DAY, "20261123") is True
        assert uow.outbox.send(steps.RECONCILE_DAY, "20261123") is False
        assert uow.outbox.send(steps.RECONCILE_DAY, "20261123", again="later") is True
        event = BankEvent(body_hash="h" * 64, body={"id": 1}, estado="LQ", received_at=container.clock())
        first = uow.bank_events.record(event)
        assert uow.bank_events.record(dataclasses.replace(event, body={"id": 2})) == (first[0], False)
        uow.commit()
    assert count(container, "outbox") == 2 and count(container, "bank_events") == 1
