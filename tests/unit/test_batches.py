"""The rules a batch's rows follow: duplicates fail (within a page and against earlier pages), sub-batches
keep their size, and the batch's counts and amounts add up."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, strategies as st

from domain.batches import (
    InstructionStatus as S, duplicate_digest, duplicates, first_payments, instruction_id, meets_threshold,
    sub_batch_sizes, tally_of,
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


def test_a_row_repeating_one_of_an_earlier_page_is_a_duplicate_too() -> None:
    earlier = {duplicate_digest(draft(0))}
    keys = first_payments([draft(7), draft(8, payee="q"), draft(9, payee="q")], earlier)
    assert keys[7] is None and keys[8] == duplicate_digest(draft(8, payee="q")) and keys[9] is None
    assert duplicate_digest(draft(8, payee="q")) in earlier  # the page's rows count for the next page


@given(st.integers(0, 2000), st.integers(1, 700))
def test_sub_batches_hold_every_row_once_within_the_size(rows: int, size: int) -> None:
    sizes = sub_batch_sizes(rows, size)
    assert sum(sizes) == rows and all(0 < n <= size for n in sizes)
    assert len(sizes) == -(-rows // size) and sizes[:-1] == [size] * (len(sizes) - 1)


def test_the_threshold_counts_payable_rows_as_a_percentage_of_all() -> None:
    assert meets_threshold(9, 10, Decimal("90")) and not meets_threshold(8, 10, Decimal("90"))
    assert not meets_threshold(0, 0, Decimal("0"))


def test_a_tally_adds_up_and_gives_percentages() -> None:
    t = tally_of([(S.SUCCESS, 2, 1072), (S.FAILURE, 1, 850), (S.IN_PROGRESS, 1, 222), (S.PENDING, 1, 0)])
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
