"""Dead letters on RabbitMQ and MariaDB: a message that dies is recorded with its error, treasury requeues
it (once, however many ask at once) under its own message id with its retries reset, its copy leaves the
XQ, and one that dies again comes back to the list with its history. Over the CLI and the API too."""
from __future__ import annotations

import subprocess
import threading
from datetime import datetime, timezone
from typing import Any, Iterator

import dramatiq
from dramatiq import Message
import pika
import pytest
from falcon import testing

from actors import ops
from bootstrap import Container, web_app
from domain.ledger import MAX_BALANCE
from tests.integration.helpers import (
    REPO, VENV_BIN, Traffic, cli_env, count, delivered_credits, execute, new_store, originate, rows, running_worker, scalar, settle,
)
from usecases import access, dead_letters, ledger, queries
from usecases.errors import Conflict

pytestmark = pytest.mark.integration


class Seen(dramatiq.Middleware):
    """The message ids and retry counts the worker was handed, in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, int]] = []

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.messages.append((message.actor_name, message.message_id, message.options.get("retries", 0)))


@pytest.fixture
def seen(container: Container) -> Seen:
    middleware = Seen()
    container.broker.add_middleware(middleware)
    return middleware


@pytest.fixture(autouse=True)
def broker_time(clock: Any) -> None:
    """Our clock where RabbitMQ's is: a copy's time in the XQ is the broker's own."""
    clock.now = datetime.now(timezone.utc)


@pytest.fixture
def traffic(container: Container, seen: Seen) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def xq_depth(container: Container, queue: str = "ledger") -> int:
    connection = pika.BlockingConnection(pika.URLParameters(container.settings.rabbitmq_url))
    try:
        return int(connection.channel().queue_declare(f"{queue}.XQ", passive=True).method.message_count)
    finally:
        connection.close()


def drain(container: Container) -> None:
    ops.drain_dead_letters(container.uow, lambda: container.dead_letter_queues)()


def a_contribution_that_cannot_succeed(container: Container, traffic: Traffic, name: str = "c") -> tuple[int, int]:
    """A store at the balance bound and a delivered credit whose contribution would pass it: its contribute
    message dies at its first attempt. Returns (store, credit)."""
    store = new_store(container)
    [credit] = delivered_credits(container, store, [100_000], prefix=name)
    with container.uow() as uow:
        ledger.adjust(uow, store, MAX_BALANCE - 1, admin_id=1, note="to the bound")
        uow.commit()
    settle(container, traffic)
    return store, credit


def make_room(container: Container, store: int) -> None:
    with container.uow() as uow:
        ledger.adjust(uow, store, -(MAX_BALANCE - 1), admin_id=1, note="treasury fixed the cause")
        uow.commit()


def the_letter(container: Container) -> dict[str, Any]:
    with container.uow() as uow:
        [letter] = queries.dead_letters(uow, 1, 10).items
        return queries.dead_letter(uow, letter["id"])


def test_a_message_that_dies_is_recorded_with_its_error_and_its_copy_leaves_the_xq(
        container: Container, traffic: Traffic, seen: Seen) -> None:
    _, credit = a_contribution_that_cannot_succeed(container, traffic)
    letter = the_letter(container)
    [(_, message_id, _)] = [m for m in seen.messages if m[0] == "contribute"]
    assert (letter["actor_name"], letter["queue_name"], letter["args"], letter["message_id"]) == (
        "contribute", "ledger", [credit], message_id)
    assert (letter["status"], letter["attempts"], letter["deaths"]) == ("dead", 1, 1)
    assert "BalanceOutOfRange" in letter["error"] and "BalanceOutOfRange" in letter["traceback"]
    assert [e["kind"] for e in letter["history"]] == ["died"]
    [alert] = rows(container, "SELECT details FROM event_log WHERE kind = 'dead_letter' AND level = 'ALERT'")
    assert '"dead_letter_id": %d' % letter["id"] in str(alert.details).replace("'", '"')
    assert xq_depth(container) == 1
    drain(container)
    assert xq_depth(container) == 0
    assert count(container, "dead_letters") == 1  # recorded once: the copy was its own death's


CREDIT_NOT_YET = 424_242


def a_contribution_of_a_credit_not_there_yet(container: Container, traffic: Traffic, retried: int = 0) -> int:
    """A contribute message for a credit that does not exist (yet), ``retried`` times before: a rule's
    refusal (NotFound), so it dies at this attempt, never retried. Returns the store its credit will
    belong to."""
    store = new_store(container)
    container.broker.enqueue(Message(queue_name="ledger", actor_name="contribute", args=(CREDIT_NOT_YET,),
                                     kwargs={}, options={"retries": retried}))
    settle(container, traffic)
    return store


def test_a_rule_s_refusal_is_not_retried(container: Container, traffic: Traffic, seen: Seen) -> None:
    a_contribution_of_a_credit_not_there_yet(container, traffic)
    letter = the_letter(container)
    assert (letter["status"], letter["attempts"]) == ("dead", 1) and "NotFound" in letter["error"]
    assert [retries for actor, _, retries in seen.messages if actor == "contribute"] == [0]  # one attempt


def the_credit_arrives(container: Container, store: int) -> None:
    """The cause is fixed: the credit the message names exists now, delivered (its own message aside)."""
    credit_id = originate(container, store, "late-credit", 100_000)
    execute(container, "UPDATE credits SET id = :new WHERE id = :old", new=CREDIT_NOT_YET, old=credit_id)
    with container.uow() as uow:
        uow.credits.get(CREDIT_NOT_YET).deliver(container.clock())
        uow.commit()


def test_a_requeue_keeps_the_message_id_resets_its_retries_and_publishes_once(
        container: Container, traffic: Traffic, seen: Seen, clock: Any) -> None:
    retries = container.settings.max_retries
    store = a_contribution_of_a_credit_not_there_yet(container, traffic, retried=retries)
    letter = the_letter(container)
    assert (letter["status"], letter["attempts"], letter["args"]) == ("dead", retries + 1, [CREDIT_NOT_YET])
    assert "NotFound" in letter["error"]
    the_credit_arrives(container, store)
    clock.now = datetime.now(timezone.utc)  # treasury requeues after the death, by the broker's clock too
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def requeue() -> None:
        start.wait()
        try:
            with container.uow() as uow:
                dead_letters.requeue(uow, letter["id"], "treasury key 1")
                uow.commit()
            outcomes.append("requeued")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=requeue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "requeued"]
    settle(container, traffic)
    handed = [(message_id, retries_) for actor, message_id, retries_ in seen.messages if actor == "contribute"]
    # its last attempt, then once more, requeued: the same message id, its retries from zero
    assert handed == [(letter["message_id"], retries), (letter["message_id"], 0)]
    assert count(container, "balance_updates", "credit_id = :c AND type = 'contribution'", c=CREDIT_NOT_YET) == 1
    assert xq_depth(container) == 1
    drain(container)  # the drain the requeue asked for (its own queue is not consumed here)
    assert xq_depth(container) == 0
    after = the_letter(container)
    assert (after["status"], after["resolved_by"]) == ("requeued", "treasury key 1")
    assert [e["kind"] for e in after["history"]] == ["died", "requeued"]
    assert count(container, "outbox", "actor_name = 'drain_dead_letters'") == 1


def test_a_requeued_message_that_dies_again_returns_to_the_list_with_its_history(
        container: Container, traffic: Traffic) -> None:
    a_contribution_that_cannot_succeed(container, traffic)
    letter = the_letter(container)
    with container.uow() as uow:  # requeued before the cause was fixed
        dead_letters.requeue(uow, letter["id"], "treasury key 1")
        uow.commit()
    settle(container, traffic)
    again = the_letter(container)
    assert (again["id"], again["status"], again["deaths"]) == (letter["id"], "dead", 2)
    assert [e["kind"] for e in again["history"]] == ["died", "requeued", "died"]
    drain(container)
    assert xq_depth(container) == 0 and count(container, "dead_letters") == 1


def test_a_death_the_worker_could_not_record_is_recorded_from_its_xq_copy(
        container: Container, traffic: Traffic, clock: Any) -> None:
    a_contribution_that_cannot_succeed(container, traffic)
    message_id = the_letter(container)["message_id"]
    with container.uow() as uow:  # as if the database had been down when the message died
        uow.session.execute(dead_letter_tables()[1].delete())
        uow.session.execute(dead_letter_tables()[0].delete())
        uow.commit()
    drain(container)  # too young: its record may still be on its way
    assert xq_depth(container) == 1 and count(container, "dead_letters") == 0
    clock.now += dead_letters.RECORDING_GRACE * 2
    drain(container)
    assert xq_depth(container) == 0
    recorded = the_letter(container)
    assert (recorded["message_id"], recorded["actor_name"], recorded["status"]) == (message_id, "contribute", "dead")


def dead_letter_tables() -> tuple[Any, Any]:
    from adapters.db.tables import dead_letter_history, dead_letters as letters
    return letters, dead_letter_history


def test_over_the_api_treasury_lists_requeues_and_drops_and_each_is_audited(
        container: Container, traffic: Traffic) -> None:
    store, _ = a_contribution_that_cannot_succeed(container, traffic)
    client = testing.TestClient(web_app(container))
    keys = {}
    with container.uow() as uow:
        for role in ("treasury", "operator"):
            token = access.create_api_key(uow, role, owner=f"{role}@tests.example")
            keys[role] = {"Authorization": f"Bearer {token}"}
        uow.commit()
    assert client.simulate_get("/api/v1/dead-letters", headers=keys["operator"]).status_code == 403
    listed = client.simulate_get("/api/v1/dead-letters", params={"status": "dead"}, headers=keys["treasury"]).json
    [letter] = listed["items"]
    assert (listed["total"], letter["actor_name"], letter["status"]) == (1, "contribute", "dead")
    path = f"/api/v1/dead-letters/{letter['id']}"
    assert client.simulate_post(f"{path}/requeue", headers=keys["operator"]).status_code == 403
    make_room(container, store)
    answer = client.simulate_post(f"{path}/requeue", headers=keys["treasury"])
    assert answer.status_code == 202 and answer.json["status"] == "requeued"
    assert client.simulate_post(f"{path}/requeue", headers=keys["treasury"]).status_code == 409
    assert client.simulate_post(f"{path}/drop", json={"reason": "too late"}, headers=keys["treasury"]).status_code == 409
    detail = client.simulate_get(path, headers=keys["treasury"]).json
    assert [e["kind"] for e in detail["history"]] == ["died", "requeued"]
    listing = {status: client.simulate_get("/api/v1/dead-letters", params=status and {"status": status},
                                           headers=keys["treasury"]).json["total"] for status in (None, "all", "dead")}
    assert listing == {None: 0, "all": 1, "dead": 0}  # as the CLI's --status: dead by default, all for every one
    assert [line for line in dlq(container, "list", "--status", "all").stdout.splitlines() if "contribute" in line]
    assert "contribute" not in dlq(container, "list").stdout
    [audited] = rows(container, "SELECT action, resource, resource_id, details FROM audit_log "
                                "WHERE action = 'requeue_dead_letter'")
    assert (audited.resource, audited.resource_id) == ("dead_letter", str(letter["id"]))
    assert '"new": "requeued"' in str(audited.details).replace("'", '"')
    assert int(scalar(container, "SELECT COUNT(*) FROM outbox WHERE message_id = :m", m=letter["message_id"])) == 1


def test_treasury_drops_a_dead_letter_with_a_reason(container: Container, traffic: Traffic) -> None:
    a_contribution_that_cannot_succeed(container, traffic)
    client = testing.TestClient(web_app(container))
    with container.uow() as uow:
        treasury = {"Authorization": f"Bearer {access.create_api_key(uow, 'treasury', owner='treasury@tests.example')}"}
        uow.commit()
    letter_id = the_letter(container)["id"]
    path = f"/api/v1/dead-letters/{letter_id}/drop"
    assert client.simulate_post(path, json={}, headers=treasury).status_code == 422
    dropped = client.simulate_post(path, json={"reason": "the credit was void"}, headers=treasury)
    assert dropped.status_code == 200 and (dropped.json["status"], dropped.json["resolution"]) == (
        "dropped", "the credit was void")
    assert [e["kind"] for e in the_letter(container)["history"]] == ["died", "dropped"]
    assert count(container, "audit_log", "action = 'drop_dead_letter'") == 1


def dlq(container: Container, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(container.settings.database_url), "DISPERSA_BROKER": "rabbitmq",
           "DISPERSA_RABBITMQ_URL": container.settings.rabbitmq_url, "COLUMNS": "200"}
    return subprocess.run([str(VENV_BIN / "dispersa"), "dlq", *argv], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_cli_lists_requeues_and_drops_dead_letters(container: Container, traffic: Traffic) -> None:
    store, credit = a_contribution_that_cannot_succeed(container, traffic)
    a_contribution_that_cannot_succeed(container, traffic, "second")  # a second store, a second death
    listed = dlq(container, "list", "--queue", "ledger")
    assert listed.returncode == 0, listed.stderr
    assert "dead letters (2, dead)" in listed.stdout and "contribute" in listed.stdout
    first, second = (d["id"] for d in sorted(queries_items(container), key=lambda d: d["id"]))
    make_room(container, store)
    requeued = dlq(container, "requeue", str(first))
    assert requeued.returncode == 0, requeued.stderr + requeued.stdout
    assert "requeued" in requeued.stdout
    again = dlq(container, "requeue", str(first))
    assert again.returncode == 1 and "not requeued" in again.stdout and "not dead" in again.stdout
    assert dlq(container, "drop", str(second)).returncode == 2  # --reason is required
    dropped = dlq(container, "drop", str(second), "--reason", "a duplicate of a void credit")
    assert dropped.returncode == 0, dropped.stderr + dropped.stdout
    assert "dropped" in dropped.stdout and "dropd" not in dropped.stdout
    twice = dlq(container, "drop", str(second), "--reason", "again")
    assert twice.returncode == 1 and "not dropped" in twice.stdout, twice.stdout
    assert dlq(container, "list").stdout.count("contribute") == 0  # none dead any more
    assert "dropped" in dlq(container, "list", "--status", "all").stdout
    assert dlq(container, "requeue").returncode == 2  # ids or --all
    settle(container, traffic)
    assert count(container, "balance_updates", "credit_id = :c AND type = 'contribution'", c=credit) == 1
    assert count(container, "audit_log", "action IN ('requeue_dead_letter', 'drop_dead_letter')") == 2


def test_requeue_all_takes_every_dead_letter_of_a_queue(container: Container, traffic: Traffic) -> None:
    for name in ("one", "two"):
        store, _ = a_contribution_that_cannot_succeed(container, traffic, name)
        make_room(container, store)
    done = dlq(container, "requeue", "--all", "--queue", "ledger")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "requeue 2 dead letter(s)" in done.stdout
    settle(container, traffic)
    assert count(container, "dead_letters", "status = 'requeued'") == 2
    assert count(container, "balance_updates", "type = 'contribution'") == 2


def queries_items(container: Container) -> list[dict[str, Any]]:
    with container.uow() as uow:
        return list(queries.dead_letters(uow, 1, 100).items)
