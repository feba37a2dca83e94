"""The lender's customers: one per lender and external id, found by the digest of their CURP without
unsealing anything, listed a page at a time; their status history rides on the mapping."""
from __future__ import annotations

from sqlalchemy import func, select, update

from adapters.db import tables as t
from adapters.db.repositories import Repository
from adapters.sealing import KEYRING
from domain.customers import Customer, CustomerStatus

C = t.customers


class Customers(Repository[Customer]):
    """Customers; ``save`` after a change keeps the lookup digests in step with the sealed values."""

    entity, name = Customer, "customer"

    def add(self, customer: Customer) -> Customer:
        self._session.add(customer)
        self.save(customer)
        return customer

    def save(self, customer: Customer) -> None:
        """Write the customer's changes now, with the digests of its CURP and e-mail (NULL when erased)."""
        self._session.flush()
        self._session.execute(update(C).where(C.c.id == customer.id).values(
            national_id_digest=KEYRING.digest(customer.national_id) if customer.national_id else None,
            email_digest=KEYRING.digest(customer.email.lower()) if customer.email else None))

    def by_external_id(self, lender: str, external_id: str) -> Customer | None:
        return self._session.scalars(select(Customer).where(C.c.lender == lender,
                                                            C.c.external_id == external_id)).first()

    def id_by_national_id(self, lender: str, national_id: str) -> int | None:
        """The customer holding this CURP, compared as digests under every key (nothing is unsealed)."""
        return self._session.scalars(select(C.c.id).where(
            C.c.lender == lender, C.c.national_id_digest.in_(KEYRING.digests(national_id)))).first()

    def page(self, lender: str, external_id: str | None, status: CustomerStatus | None, offset: int,
             limit: int) -> tuple[list[Customer], int]:
        """One page, oldest first, and how many match: by external id (exact) and status when given."""
        where = [C.c.lender == lender]
        if external_id is not None:
            where.append(C.c.external_id == external_id)
        if status is not None:
            where.append(C.c.status == status)
        total = self._session.scalar(select(func.count()).select_from(C).where(*where)) or 0
        found = self._session.scalars(select(Customer).where(*where).order_by(C.c.id).offset(offset).limit(limit))
        return list(found), total
