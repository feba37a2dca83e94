"""``dispersa ledger verify`` as an operator runs it, against books written by the real actors:
a summary line and exit 0 on good books; a line per violation and exit 1 once a balance is corrupted."""
from __future__ import annotations

import re
import subprocess
from typing import Iterator

import pytest

from adapters.settings import Settings
from tests.integration.helpers import (
    REPO, VENV_BIN, Traffic, cancel, cli_env, count, delivered_credits, execute, new_store, rows,
    running_worker, settle,
)
from usecases import ledger
from workers.bootstrap import Container

pytestmark = pytest.mark.integration
SUMMARY = re.compile(r"^(\d+) stores, (\d+) balance updates, (\d+) transfers, (\d+) violations$")


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), "ledger", "verify"], cwd=REPO, env=cli_env(database_url),
                          capture_output=True, text=True, timeout=120)


def books(container: Container, traffic: Traffic) -> int:
    """Two stores: a daily one with a cancellation and a transfer treasury asked for, an instant one
    paid on each contribution. Returns the daily store's id."""
    daily = new_store(container)
    credits = delivered_credits(container, daily, [100_000, 200_000, 300_000], prefix="daily")
    settle(container, traffic)
    cancel(container, credits[1])
    with container.uow() as uow:
        ledger.request_transfer(uow, daily)
        uow.commit()
    instant = new_store(container, disbursement_mode="instant")
    for i, amount in enumerate((50_000, 70_000)):  # one at a time: one transfer each
        delivered_credits(container, instant, [amount], prefix=f"instant{i}")
        settle(container, traffic)
    return daily


def test_ledger_verify_on_good_and_corrupted_books(container: Container, traffic: Traffic,
                                                   settings: Settings) -> None:
    store = books(container, traffic)
    expected = (count(container, "stores"), count(container, "balance_updates"), count(container, "bank_transfers"))
    assert expected == (2, 6, 3)

    good = verify(settings.database_url)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.strip().splitlines() == [f"{expected[0]} stores, {expected[1]} balance updates, "
                                                f"{expected[2]} transfers, 0 violations"]

    [first] = rows(container, "SELECT id, new_balance FROM balance_updates WHERE store_id = :s AND sequence = 1",
                   s=store)
    execute(container, "UPDATE balance_updates SET new_balance = new_balance + 1 WHERE id = :b", b=first.id)

    bad = verify(settings.database_url)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    *violations, summary = bad.stdout.strip().splitlines()
    found = SUMMARY.match(summary)
    assert found, summary
    assert tuple(int(g) for g in found.groups()[:3]) == expected
    assert int(found.group(4)) == len(violations) >= 2
    assert f"store {store}: BU {first.id} new_balance {first.new_balance + 1} != previous 0 + amount " \
           f"{first.new_balance}" in violations
    assert all(line.startswith(f"store {store}: ") for line in violations), violations
