"""``dispersa customers`` as an operator runs it: moves and deletions audited via the terminal, a refused move
one line and exit 2 with nothing changed, personal data masked."""
from __future__ import annotations

import subprocess

import pytest

from bootstrap import Container
from domain.customers import PII_FIELDS, with_check_digit
from tests.integration.helpers import REPO, VENV_BIN, cli_env, rows
from usecases import customers

pytestmark = pytest.mark.integration


def dispersa(container: Container, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), "customers", *args], cwd=REPO,
                          env=cli_env(container.settings.database_url), capture_output=True, text=True, timeout=120)


def test_an_operator_blocks_then_deletes_a_customer_from_the_terminal(container: Container) -> None:
    with container.uow() as uow:
        customer = customers.create_customer(uow, {
            "external_id": "cli-rojo", "first_name": "Marisol", "last_name": "Ochoa", "phone": "5511223344",
            "email": "marisol@correo.example", "address": "Calle 3", "national_id": with_check_digit("OOCM900101MDFCRR0")})
        customers.score_customer(uow, customer.id or 0, "A2")
        uow.commit()
    cid = str(customer.id)

    blocked = dispersa(container, "move", cid, "block", "--reason", "documentos falsos")
    assert blocked.returncode == 0, blocked.stderr
    assert "blocked" in blocked.stdout and "pay_recorded_by_operator" in blocked.stdout
    assert "(cli-rojo)" in blocked.stdout and "held: documentos falsos" in blocked.stdout
    refused = dispersa(container, "move", cid, "disable", "--reason", "otra")
    assert refused.returncode == 2 and "blocked" in refused.stderr and refused.stdout == ""

    listed = dispersa(container, "list", "--status", "blocked")
    assert listed.returncode == 0 and "M*** O***" in listed.stdout and "Marisol" not in listed.stdout

    deleted = dispersa(container, "delete", cid, "--reason", "derecho de cancelacion")
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted; may nothing" in deleted.stdout
    assert rows(container, f"SELECT {', '.join(PII_FIELDS)} FROM customers WHERE id = :c", c=customer.id) == [
        (None,) * len(PII_FIELDS)]
    audit = rows(container, "SELECT action, role, details FROM audit_log WHERE resource = 'customer' "
                            "AND resource_id = :c ORDER BY id", c=cid)
    assert [(a, r) for a, r, _ in audit] == [("move_customer", "system"), ("delete_customer", "system")]
    assert '"via": "cli ' in audit[1][2] and '"force": false' in audit[1][2] and "Marisol" not in audit[1][2]
    assert dispersa(container, "delete", cid, "--reason", "otra vez").returncode == 2
