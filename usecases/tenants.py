"""Tenants: created or reconfigured by an admin (with a key bound to the tenant), and funded by treasury
(their float, from which closedloop rows are paid). Each in one transaction."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from usecases.ports import UnitOfWork
from domain import tenants as rules
from domain.bulk_config import ConfigError
from domain.money import Money, MoneyError
from domain.tenants import FLOAT, OUTSIDE, Tenant, TenantError
from domain.wallets import WalletError, fund as fund_wallet
from domain.access import acts_for_tenant
from usecases.access import Principal, new_api_key
from usecases.errors import Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class Configured:
    """A tenant after ``put``: its configuration before (None when it was new) and now."""

    tenant: Tenant
    old: dict[str, Any] | None

    @property
    def created(self) -> bool:
        """The tenant did not exist before."""
        return self.old is None


def put(uow: UnitOfWork, name: str, raw: Mapping[str, Any]) -> Configured:
    """Create the tenant with ``raw`` over the defaults, or change what ``raw`` names of an existing one.
    Raises Invalid for a bad name, key or value; nothing changes then."""
    try:
        rules.check_name(name)
        if uow.tenants.exists(name):
            tenant = uow.tenants.get(name, lock=True)
            old = dict(tenant.config)
            tenant.configure(dict(raw), uow.clock())
            uow.tenants.save(tenant)
            return Configured(tenant, old)
        at = uow.clock()
        tenant = Tenant(name, {}, secrets.token_hex(32), at, at)
        tenant.configure(dict(raw), at)
    except (TenantError, ConfigError) as e:
        raise Invalid(str(e)) from None
    uow.tenants.add(tenant)
    uow.log("tenant_created", f"tenant {name} created")
    return Configured(tenant, None)


def key_for(uow: UnitOfWork, tenant: Tenant, label: str = "", owner: str | None = None) -> str:
    """A new API key bound to the tenant: it submits and reads that tenant's batches only. It belongs to
    ``owner`` (an e-mail address); without one, to the tenant's own system (``<name>@tenants.invalid``)."""
    return new_api_key(uow, "tenant", label=label or f"tenant {tenant.name}", tenant_id=tenant.id,
                       owner=owner or f"{tenant.name}@tenants.invalid")[1]


def fund(uow: UnitOfWork, name: str, amount: str, currency: str) -> tuple[Money, int]:
    """Credit the tenant's float in ``currency`` with ``amount`` (a decimal in major units); returns the
    amount and the float's new balance in minor units. Raises Invalid for an amount that is not positive
    money of that currency."""
    tenant = uow.tenants.get(name)
    try:
        money = Money.parse(amount, currency.upper())
        if money.minor <= 0:
            raise MoneyError("a funding is a positive amount")
    except MoneyError as e:
        raise Invalid(str(e)) from None
    at = uow.clock()
    wallets = uow.wallets.lock_many(tenant.id or 0, [FLOAT, OUTSIDE], money.currency, at, create=True)
    wallet = wallets[FLOAT]
    try:
        entry = fund_wallet(wallets[OUTSIDE], wallet, money.minor, f"fund:{uow.new_id()}", at)
    except WalletError as e:
        raise Invalid(str(e)) from None
    uow.wallets.record(entry, wallets[OUTSIDE], wallet)
    uow.log("tenant_funded", f"tenant {name}'s float credited with {money}; balance "
            f"{Money(wallet.balance, money.currency)}", details={"tenant": name, "amount": money.minor,
                                                                  "currency": money.currency})
    return money, wallet.balance


def view(uow: UnitOfWork, tenant: Tenant) -> dict[str, Any]:
    """A tenant as the API shows it: its configuration and its float, per currency (never its secret)."""
    floats = {w.currency: w.balance for w in uow.wallets.of_tenant(tenant.id or 0) if w.owner == FLOAT}
    return {"tenant": tenant.name, "config": tenant.config,
            "float": [{"currency": c, "balance": b, "amount": Money(b, c).to_decimal_string()}
                      for c, b in sorted(floats.items())],
            "created_at": tenant.created_at, "updated_at": tenant.updated_at}


def for_caller(uow: UnitOfWork, who: Principal, name: str | None) -> Tenant:
    """The tenant a bulk call names in Platform-TenantId, when the caller may act for it: a tenant key for
    its own only, admin and treasury keys for any. Raises Forbidden otherwise (and for a missing name)."""
    if not name or not name.strip():
        raise Forbidden("Platform-TenantId is required: the tenant this call is for")
    try:
        tenant = uow.tenants.get(name.strip())
    except NotFound:  # a 403 either way: whether a tenant exists is not told to those who may not act for it
        raise Forbidden(f"this key does not act for tenant {name.strip()!r}, or there is no such tenant") from None
    if not acts_for_tenant(who.role, who.tenant_id, tenant.id or 0):
        raise Forbidden(f"this key does not act for tenant {name.strip()!r}")
    return tenant
