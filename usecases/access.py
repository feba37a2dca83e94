"""API keys (stored as SHA-256 hashes) and the audit log of privileged actions."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from adapters.db.tables import api_keys, audit_log
from adapters.db.uow import UnitOfWork
from domain.access import Role
from domain.merchants import Merchant
from usecases.errors import Invalid, NotFound


@dataclass(frozen=True)
class Principal:
    """The caller behind an API key."""

    key_id: int
    role: Role
    merchant_id: int | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(uow: UnitOfWork, role: str, merchant_id: int | None = None, label: str = "") -> str:
    """Store a new key's hash and return the key itself: it is shown once, never again."""
    return new_api_key(uow, role, merchant_id, label)[1]


def new_api_key(uow: UnitOfWork, role: str, merchant_id: int | None = None, label: str = "") -> tuple[int, str]:
    """As create_api_key, with the new key's id."""
    try:
        role_ = Role(role)
    except ValueError:
        raise Invalid(f"role is one of {[r.value for r in Role]}") from None
    if role_ == Role.PARTNER and merchant_id is None:
        raise Invalid("a partner key needs --merchant")
    if merchant_id is not None and uow.session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} does not exist")
    key = "dsp_" + secrets.token_urlsafe(32)
    key_id = uow.session.execute(insert(api_keys).values(
        prefix=key[:12], key_hash=hash_key(key), role=role_.value, merchant_id=merchant_id, label=label[:120],
        created_at=uow.clock())).inserted_primary_key[0]
    uow.log("api_key_created", f"{role_.value} key {key[:12]}… created", merchant_id=merchant_id)
    return int(key_id), key


def revoke_api_key(uow: UnitOfWork, key_id: int) -> bool:
    """Revoke a key: it stops working at once. Returns False when it was revoked already."""
    row = uow.session.execute(select(api_keys.c.prefix, api_keys.c.revoked_at).where(
        api_keys.c.id == key_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    if row.revoked_at is not None:
        return False
    uow.session.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=uow.clock()))
    uow.log("api_key_revoked", f"key {row.prefix}… revoked")
    return True


def authenticate(uow: UnitOfWork, key: str) -> Principal | None:
    row = uow.session.execute(select(api_keys.c.id, api_keys.c.role, api_keys.c.merchant_id).where(
        api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))).first()
    return Principal(row.id, Role(row.role), row.merchant_id) if row else None


def audit(uow: UnitOfWork, who: Principal | None, action: str, resource: str, resource_id: Any = None,
          details: dict[str, Any] | None = None) -> None:
    uow.session.execute(insert(audit_log).values(
        at=uow.clock(), api_key_id=who.key_id if who else None, role=who.role.value if who else "system",
        action=action, resource=resource, resource_id=None if resource_id is None else str(resource_id),
        details=details))
