"""API keys (stored as SHA-256 hashes) and the audit log of privileged actions."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from usecases.ports import UnitOfWork
from domain.access import Role, a_key_of
from domain.dual_control import InvalidOwner, Person, owner_email
from usecases.errors import Invalid


@dataclass(frozen=True)
class Principal:
    """The caller behind an API key, and the person the key belongs to: dual control compares people."""

    key_id: int
    role: Role
    merchant_id: int | None
    tenant_id: int | None = None
    person: Person | None = None


def hash_key(key: str) -> str:
    """The SHA-256 hex digest of an API key, by which keys are stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(uow: UnitOfWork, role: str, merchant_id: int | None = None, label: str = "", *,
                   owner: str) -> str:
    """Store a new key's hash and return the key itself: it is shown once, never again."""
    return new_api_key(uow, role, merchant_id, label, owner=owner)[1]


def person(uow: UnitOfWork, email: str) -> Person:
    """The person known by this e-mail address, made on first use; Invalid when it is not an address."""
    try:
        email = owner_email(email)
    except InvalidOwner as e:
        raise Invalid(str(e)) from None
    return uow.people.get_or_add(email, uow.clock())


def new_api_key(uow: UnitOfWork, role: str, merchant_id: int | None = None, label: str = "",
                tenant_id: int | None = None, *, owner: str) -> tuple[int, str]:
    """As create_api_key, with the new key's id. Every key belongs to a person (``owner``, an e-mail
    address). A tenant key is made with its tenant (tenant_id)."""
    try:
        role_ = Role(role)
    except ValueError:
        raise Invalid(f"role is one of {[r.value for r in Role]}") from None
    who = person(uow, owner)
    if role_ == Role.PARTNER and merchant_id is None:
        raise Invalid("a partner key needs --merchant")
    if role_ != Role.PARTNER and merchant_id is not None:  # it would see every merchant, whatever it names
        raise Invalid(f"only a partner key is bound to a merchant; {a_key_of(role_)} sees them all (no --merchant)")
    if (role_ == Role.TENANT) != (tenant_id is not None):
        raise Invalid("a tenant key is made by `dispersa tenant create`, bound to its tenant")
    if merchant_id is not None:
        uow.merchants.get(merchant_id)  # NotFound when there is none
    key = "dsp_" + secrets.token_urlsafe(32)
    key_id = uow.api_keys.add(key[:12], hash_key(key), role_.value, merchant_id, label[:120], uow.clock(),
                              tenant_id, who.id)
    uow.log("api_key_created", f"{role_.value} key {key[:12]}… created for {who.email}", merchant_id=merchant_id)
    return int(key_id), key


def revoke_api_key(uow: UnitOfWork, key_id: int) -> bool:
    """Revoke a key: it stops working at once. Returns False when it was revoked already."""
    row = uow.api_keys.lock(key_id)
    if row.revoked_at is not None:
        return False
    uow.api_keys.revoke(key_id, uow.clock())
    uow.log("api_key_revoked", f"key {row.prefix}… revoked")
    return True


def authenticate(uow: UnitOfWork, key: str) -> Principal | None:
    """The principal behind an API key, or None when the key is unknown or revoked."""
    row = uow.api_keys.active(hash_key(key))
    if row is None:
        return None
    return Principal(row.id, Role(row.role), row.merchant_id, row.tenant_id, Person(row.person_id, row.email))


def audit(uow: UnitOfWork, who: Principal | None, action: str, resource: str, resource_id: Any = None,
          details: dict[str, Any] | None = None) -> None:
    """Add a row to the audit log: who did it ("system" without a principal), the action, the resource
    and its id, and the details."""
    uow.audit.add(uow.clock(), who.key_id if who else None, who.role.value if who else "system", action, resource,
                  None if resource_id is None else str(resource_id), details,
                  who.person.id if who and who.person else None)
