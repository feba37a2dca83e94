"""domain.invariants.verify accepts sound books and reports each kind of broken book."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from domain import ledger
from domain.credits import Credit
from domain.invariants import StoreBooks, verify
from domain.ledger import BalanceUpdate, BalanceUpdateStatus as S, BalanceUpdateType as T, BankTransfer, TransferStatus as TS
from tests.fakes import StoreHead

AT = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def credit(credit_id: int, contribution: int, delivered: bool = True) -> Credit:
    return Credit(merchant_id=1, store_id=1, amount=contribution + 100, currency="MXN", number_of_payments=3,
                  payment_option_id=1, commission_rate=Decimal("0.05"), tax_rate=Decimal("0.16"), commission=86,
                  tax=14, contribution=contribution, signed_at=AT, external_id=f"e{credit_id}", id=credit_id,
                  delivered_at=AT if delivered else None)


class Books:
    """Sound books built through domain.ledger, with ids as the database would give them."""

    def __init__(self) -> None:
        self.head = StoreHead()
        self.updates: list[BalanceUpdate] = []
        self.transfers: list[BankTransfer] = []
        self.credits: list[Credit] = []

    def keep(self, bu: BalanceUpdate) -> BalanceUpdate:
        bu.id = len(self.updates) + 1
        self.updates.append(bu)
        return bu

    def deliver(self, credit_id: int, contribution: int) -> BalanceUpdate:
        self.credits.append(credit(credit_id, contribution))
        return self.keep(ledger.contribute(self.head, credit_id, contribution, AT))

    def open(self, updates: list[BalanceUpdate], requires_confirmation: bool = False) -> BankTransfer:
        transfer = ledger.open_transfer(self.head, updates, f"k{len(self.transfers)}", requires_confirmation, AT)
        transfer.id = len(self.transfers) + 1
        self.transfers.append(transfer)
        return transfer

    def liquidated(self, transfer: BankTransfer) -> BalanceUpdate:
        transfer.move_to(TS.IN_TRANSIT, AT)
        return self.keep(ledger.liquidate(self.head, transfer, AT))

    def store_books(self, **overrides: object) -> StoreBooks:
        fields = dict(store_id=1, balance=self.head.balance, updates=self.updates, transfers=self.transfers,
                      credits=self.credits)
        fields.update(overrides)
        return StoreBooks(**fields)  # type: ignore[arg-type]


def sound_books() -> Books:
    """Two liquidated credits (one returned and cancelled), an adjustment, and a transfer in flight."""
    books = Books()
    c1, c2 = books.deliver(1, 1000), books.deliver(2, 500)
    first = books.open([c1, c2])
    disbursement = books.liquidated(first)
    books.keep(ledger.return_transfer(books.head, first, disbursement, AT))
    books.credits[1].cancelled_at = AT
    books.keep(ledger.cancel_contribution(books.head, c2, AT))
    books.keep(ledger.adjust(books.head, -100, admin_id=1, at=AT))
    books.open([bu for bu in books.updates if bu.status == S.PENDING], requires_confirmation=True)
    books.deliver(3, 250)
    return books


def violations(books: Books, **overrides: object) -> list[str]:
    return verify(books.store_books(**overrides))


def test_sound_books_have_no_violations() -> None:
    books = sound_books()
    assert violations(books) == []
    assert books.head.balance == 1000 + 500 - 500 - 100 + 250
    assert violations(Books()) == []


def test_broken_chain_previous_balance() -> None:
    books = sound_books()
    books.updates[2].previous_balance += 1
    books.updates[2].new_balance += 1
    assert any("previous_balance" in v for v in violations(books))


def test_broken_chain_new_balance() -> None:
    books = sound_books()
    books.updates[0].new_balance += 7
    found = violations(books)
    assert any("new_balance" in v and "BU 1" in v for v in found)


def test_broken_chain_sequence_gap() -> None:
    books = sound_books()
    books.updates[-1].sequence += 1
    assert any("sequence" in v for v in violations(books))


def test_balance_is_not_the_last_new_balance() -> None:
    books = sound_books()
    assert any("last new_balance" in v for v in violations(books, balance=books.head.balance + 1))


def test_balance_differs_from_pending_plus_in_transit() -> None:
    books = sound_books()
    books.updates[-1].status = S.APPLIED  # applied without any transfer paying it
    assert any("pending + in transit" in v for v in violations(books))


def test_transfer_amount_differs_from_its_updates() -> None:
    books = sound_books()
    books.transfers[-1].amount += 1
    assert any("sum of its BUs" in v for v in violations(books))


def test_transfer_of_zero_amount() -> None:
    books = Books()
    bu = books.deliver(1, 0)
    books.transfers.append(BankTransfer(store_id=1, status=TS.CANCELLED, amount=0, currency="MXN", created_at=AT,
                                        trigger_key="k", id=1, balance_updates=[bu]))
    assert any("not positive" in v for v in violations(books))


def test_update_in_two_live_transfers() -> None:
    books = Books()
    bu = books.deliver(1, 1000)
    books.open([bu])
    books.transfers.append(BankTransfer(store_id=1, status=TS.SENDING, amount=1000, currency="MXN", created_at=AT,
                                        trigger_key="again", id=2, balance_updates=[bu]))
    assert any("in 2 live transfers" in v for v in violations(books))


def test_live_transfer_with_a_pending_update() -> None:
    books = sound_books()
    books.transfers[-1].balance_updates[0].status = S.PENDING
    assert any("not in transit" in v for v in violations(books))


def test_in_transit_update_outside_any_live_transfer() -> None:
    books = Books()
    books.keep(ledger.append(books.head, T.ADJUSTMENT, 300, S.IN_TRANSIT, AT))
    assert any("in no live transfer" in v for v in violations(books))


def test_applied_transfer_without_disbursement() -> None:
    books = Books()
    transfer = books.open([books.deliver(1, 1000)])
    books.liquidated(transfer)
    books.updates.pop()  # the Disbursement BU never written
    found = violations(books)
    assert any("applied with 0 disbursement" in v for v in found)


def test_applied_transfer_with_two_disbursements() -> None:
    books = Books()
    transfer = books.open([books.deliver(1, 1000)])
    books.liquidated(transfer)
    books.keep(ledger.append(books.head, T.DISBURSEMENT, -1000, S.APPLIED, AT, bank_transfer_id=transfer.id))
    assert any("applied with 2 disbursement" in v for v in violations(books))


def test_returned_after_applied_without_override() -> None:
    books = sound_books()
    override = next(bu for bu in books.updates if bu.type == T.DISBURSEMENT_OVERRIDE)
    override.bank_transfer_id = None
    assert any("returned after applied" in v for v in violations(books))


def test_duplicate_contribution() -> None:
    books = Books()
    books.deliver(1, 1000)
    books.keep(ledger.contribute(books.head, 1, 1000, AT))
    assert any("delivered with 2 contribution" in v for v in violations(books))


def test_delivered_credit_without_contribution() -> None:
    books = Books()
    books.credits.append(credit(1, 1000))
    assert any("delivered with 0 contribution" in v for v in violations(books))


def test_contribution_for_an_undelivered_credit() -> None:
    books = Books()
    books.deliver(1, 1000)
    books.credits[0].delivered_at = None
    assert any("not delivered" in v for v in violations(books))


def test_cancelled_after_delivery_without_cancellation() -> None:
    books = Books()
    books.deliver(1, 1000)
    books.credits[0].cancelled_at = AT
    assert any("0 credit cancellation" in v for v in violations(books))


def test_contribution_not_amount_minus_commission() -> None:
    books = Books()
    books.deliver(1, 1000)
    books.credits[0].tax += 1
    assert any("!= amount" in v for v in violations(books))


def test_contribution_update_differs_from_the_credit() -> None:
    books = Books()
    books.deliver(1, 1000)
    books.credits.append(credit(2, 400))
    books.keep(ledger.contribute(books.head, 2, 401, AT))
    assert any("contribution BU 401" in v for v in violations(books))


def test_members_map_is_used_when_given() -> None:
    books = sound_books()
    live = books.transfers[-1]
    members = {t.id: list(t.balance_updates) for t in books.transfers}
    assert violations(books, members=members) == []
    members[live.id] = members[live.id][:-1]
    assert any("sum of its BUs" in v for v in violations(books, members=members))
