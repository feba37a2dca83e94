"""A tenant's bulk configuration: the seed's stage keys nested or dotted, each with a default, and the
payment modes each paid through a known connector."""
from __future__ import annotations

from decimal import Decimal

import pytest

from domain.bulk_config import KEYS, BulkConfig, ConfigError, parse_config


def test_saying_nothing_gives_every_stages_default() -> None:
    config = parse_config({})
    assert config == BulkConfig()
    assert set(config.as_keys()) == set(KEYS) | {"payment-modes"}


def test_nested_and_dotted_keys_say_the_same() -> None:
    nested = parse_config({"splitting": {"enable": True, "sub-batch-size": 5},
                           "success-threshold-check": {"enable": "true", "success-rate": "92.5"}})
    dotted = parse_config({"splitting.enable": True, "splitting.sub-batch-size": "5",
                           "success-threshold-check.enable": True, "success-threshold-check.success-rate": 92.5})
    assert nested == dotted
    assert (nested.splitting_sub_batch_size, nested.success_threshold_check_success_rate) == (5, Decimal("92.5"))


def test_payment_modes_map_to_connectors_case_insensitively() -> None:
    config = parse_config({"payment-modes": {"SLCB": "closedloop", "mojaloop": "mojaloop", "gsma": "GSMA",
                                             "spei": "spei"}})
    assert config.connector_of("slcb") == "closedloop" and config.connector_of("GSMA") == "gsma"
    assert config.connector_of("afrimoney") is None


def test_a_configuration_over_another_changes_only_what_it_names() -> None:
    base = parse_config({"approval.enable": True, "payment-modes": {"spei": "spei"}})
    changed = parse_config({"splitting.sub-batch-size": 50}, base)
    assert (changed.approval_enable, changed.connector_of("spei"), changed.splitting_sub_batch_size) == (True, "spei", 50)


@pytest.mark.parametrize("raw, words", [
    ({"splitting.enabled": True}, "unknown configuration key 'splitting.enabled'"),
    ({"approval": {"enable": "yes"}}, "approval.enable is true or false"),
    ({"splitting.sub-batch-size": 0}, "from 1 to"),
    ({"splitting.sub-batch-size": "5.5"}, "whole number"),
    ({"splitting.sub-batch-size": True}, "whole number"),
    ({"success-threshold-check.success-rate": 101}, "percentage from 0 to 100"),
    ({"success-threshold-check.success-rate": "NaN"}, "percentage from 0 to 100"),
    ({"formatting.standard": "ISO20022"}, "DEFAULT, GSMA"),
    ({"ordering.field": "salary"}, "ordering.field is one of"),
    ({"payment-modes": {"slcb": "fineract"}}, "the connectors are spei, closedloop, gsma, mojaloop"),
    ({"payment-modes": ["spei"]}, "maps each payment mode"),
])
def test_a_key_or_value_the_stages_do_not_know_is_refused_naming_it(raw: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_config(raw)


@pytest.mark.parametrize("key, value", [("splitting.sub-batch-size", "\u0661\u0662"),
                                        ("splitting.sub-batch-size", "\u00b2"),
                                        ("success-threshold-check.success-rate", "\u0665\u0660")])
def test_numbers_in_a_configuration_are_ascii_digits_only(key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        parse_config({key: value})
