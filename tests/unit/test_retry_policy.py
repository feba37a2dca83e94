"""The worker's retry policy: a rule's refusal (every error the domain raises) is never retried; other
failures are, up to DISPERSA_MAX_RETRIES; lock waits always."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import domain
from adapters.broker import retry_policy
from domain.errors import DomainError
from usecases.errors import Conflict, Forbidden, Invalid


def domain_errors() -> list[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for module in pkgutil.iter_modules(domain.__path__):
        loaded = importlib.import_module(f"domain.{module.name}")
        found |= {c for _, c in inspect.getmembers(loaded, inspect.isclass)
                  if issubclass(c, BaseException) and c.__module__.startswith("domain.")}
    return sorted(found, key=lambda c: c.__qualname__)


def test_the_domain_raises_errors_of_one_base_class() -> None:
    errors = domain_errors()
    assert {"BatchError", "WalletError", "NotFound", "LedgerError", "MoneyError"} <= {e.__name__ for e in errors}
    assert [e for e in errors if not issubclass(e, DomainError)] == []


@pytest.mark.parametrize("error", domain_errors(), ids=lambda e: e.__name__)
def test_a_rule_s_refusal_is_never_retried(error: type[BaseException]) -> None:
    assert retry_policy(5)(0, error("refused")) is False


@pytest.mark.parametrize("error", [Conflict, Forbidden, Invalid], ids=lambda e: e.__name__)
def test_a_use_cases_refusal_is_never_retried_either(error: type[BaseException]) -> None:
    assert retry_policy(5)(0, error("refused")) is False


def test_other_failures_are_retried_up_to_the_limit() -> None:
    retry = retry_policy(2)
    assert (retry(0, ConnectionError()), retry(1, ConnectionError()), retry(2, ConnectionError())) == (True, True, False)
