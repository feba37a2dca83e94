"""Turning a file's rows into sub-batches: duplicates fail, modes never mix, sizes are kept, and the
batch's counts and amounts add up."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, strategies as st

from domain.batches import (
    InstructionStatus as S, duplicates, instruction_id, meets_threshold, ordered, split, tally,
)
from domain.bulk_files import COLUMNS, read_header, read_row
from tests.unit.test_bulk_files import drafts, SEED_CSV

HEADER = read_header(list(COLUMNS))


def draft(row: int, mode: str = "spei", payee: str = "p", amount: str = "10", payer: str = "a"):
    values = {"id": str(row), "payment_mode": mode, "payee_identifier_type": "msisdn", "payee_identifier": payee,
              "payer_identifier_type": "accountNumber", "payer_identifier": payer, "amount": amount,
              "currency": "USD"}
    return read_row(HEADER, [values.get(c, "") for c in COLUMNS], row)


def test_a_later_row_with_the_same_payer_payee_amount_and_currency_is_a_duplicate() -> None:
    found = drafts(SEED_CSV)
    assert duplicates(found) == {2, 3, 6, 7, 10, 11}  # the seed's file repeats rows 0, 1, 4, 5, 8 and 9
    assert duplicates([draft(0), draft(1, amount="10.00"), draft(2, payee="q"), draft(3, amount="x")]) == {1}


def test_sub_batches_never_mix_modes_and_keep_the_files_order() -> None:
    rows = [draft(0, "gsma"), draft(1, "spei"), draft(2, "gsma"), draft(3, "bad", amount="x"), draft(4, "GSMA")]
    plans = split(rows, size=2)
    assert [(p.payment_mode, p.rows) for p in plans] == [("gsma", (0, 2)), ("gsma", (4,)), ("spei", (1,))]
    assert [p.index for p in plans] == [0, 1, 2]
    assert [(p.payment_mode, p.rows) for p in split(rows, size=2, by_size=False)] == [
        ("gsma", (0, 2, 4)), ("spei", (1,))]


@given(st.lists(st.sampled_from(["spei", "gsma", "mojaloop", "slcb"]), max_size=60), st.integers(1, 7))
def test_every_payable_row_is_in_exactly_one_sub_batch_of_one_mode_within_the_size(modes: list[str],
                                                                                  size: int) -> None:
    rows = [draft(i, mode) for i, mode in enumerate(modes)]
    plans = split(rows, size)
    assert sorted(r for p in plans for r in p.rows) == list(range(len(modes)))
    assert all(len(p.rows) <= size and {modes[r] for r in p.rows} == {p.payment_mode} for p in plans)


def test_ordering_by_amount_is_by_value_and_by_text_otherwise() -> None:
    rows = [draft(0, amount="100"), draft(1, amount="9.5", payee="b"), draft(2, amount="20", payee="a")]
    assert [d.row for d in ordered(rows, "amount")] == [1, 2, 0]
    assert [d.row for d in ordered(rows, "payee_identifier")] == [2, 1, 0]


def test_the_threshold_counts_payable_rows_as_a_percentage_of_all() -> None:
    assert meets_threshold(9, 10, Decimal("90")) and not meets_threshold(8, 10, Decimal("90"))
    assert not meets_threshold(0, 0, Decimal("0"))


def test_a_tally_adds_up_and_gives_percentages() -> None:
    t = tally([(S.SUCCESS, 850), (S.SUCCESS, 222), (S.FAILURE, 850), (S.IN_PROGRESS, 222), (S.PENDING, 0)])
    assert (t.total, t.successful, t.failed, t.ongoing) == (5, 2, 1, 2)
    assert (t.total_amount, t.successful_amount, t.failed_amount, t.pending_amount) == (2144, 1072, 850, 222)
    assert (t.success_percentage, t.fail_percentage, t.finished) == (Decimal("40.00"), Decimal("20.00"), False)
    assert [s.result for s in S] == ["PENDING", "PENDING", "SUCCESS", "FAILURE"]


def test_an_instructions_id_is_its_batch_and_row() -> None:
    assert instruction_id("6bdd4e23", 11) == "6bdd4e23:11"


def test_a_batch_moves_only_forward_and_a_failure_keeps_its_reason() -> None:
    from datetime import datetime, timezone

    import pytest

    from domain.batches import Batch, BatchError, BatchStatus as B

    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    batch = Batch("b-1", 1, "r-1", "0" * 64, "csv", "1/x.csv", at)
    batch.move_to(B.AWAITING_APPROVAL, at)
    batch.move_to(B.PROCESSING, at)
    with pytest.raises(BatchError):
        batch.move_to(B.QUEUED, at)
    batch.move_to(B.FAILED, at, "only 40.00 % of the rows are valid; the threshold is 90 %")
    assert (batch.status, batch.reason, batch.completed_at) == (B.FAILED, batch.reason, at)
    with pytest.raises(BatchError):
        batch.move_to(B.COMPLETED, at)
