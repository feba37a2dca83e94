"""What operations and admins read and manage: the event log (alerts included), the audit log, dead
letters, API keys."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import falcon

from adapters.db.uow import UnitOfWork
from domain.dead_letters import DeadLetter
from usecases import access, queries
from web import context as ctx
from usecases import dead_letters
from web.routes import (ACTOR_FILTER, AUDIT_ACTION, AUDIT_RESOURCE, DEAD_LETTER_STATUS, EVENT_KIND, EVENT_LEVEL,
                        QUEUE_FILTER, SINCE, STORE_FILTER)

UowFactory = Callable[[], UnitOfWork]


def since(req: falcon.Request) -> datetime | None:
    at: datetime | None = SINCE.read(req)
    return at


class EventResource:
    """GET /api/v1/events: the event log, filterable by level, kind, store and time."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        filters = dict(level=EVENT_LEVEL.read(req), kind=EVENT_KIND.read(req), store_id=STORE_FILTER.read(req),
                       since=since(req))
        with self._uow() as uow:
            resp.media = queries.events(uow, page, per_page, **filters).as_dict()


class AuditResource:
    """GET /api/v1/audit: who did what, with old and new values."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        filters = dict(action=AUDIT_ACTION.read(req), resource=AUDIT_RESOURCE.read(req), since=since(req))
        with self._uow() as uow:
            resp.media = queries.audit_entries(uow, page, per_page, **filters).as_dict()


class ApiKeyResource:
    """/api/v1/api-keys: list and create; /api/v1/api-keys/{key_id}/revoke."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = queries.api_key_list(uow, page, per_page).as_dict()

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            key_id, key = access.new_api_key(uow, fields["role"], fields.get("merchant_id"), fields.get("label", ""),
                                             owner=fields["owner"])
            ctx.record(uow, req, "api_key", key_id, {k: v for k, v in fields.items()})
            uow.commit()
            resp.media = {**queries.api_key(uow, key_id), "key": key}
        resp.status = falcon.HTTP_201

    def on_post_revocation(self, req: falcon.Request, resp: falcon.Response, key_id: int) -> None:
        with self._uow() as uow:
            revoked = access.revoke_api_key(uow, key_id)
            if revoked:
                ctx.record(uow, req, "api_key", key_id)
            uow.commit()
            resp.media = queries.api_key(uow, key_id)


class DeadLetterResource:
    """/api/v1/dead-letters: messages that died; treasury requeues or drops each."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        filters = dict(queue=QUEUE_FILTER.read(req), actor=ACTOR_FILTER.read(req), status=DEAD_LETTER_STATUS.read(req))
        with self._uow() as uow:
            resp.media = queries.dead_letters(uow, page, per_page, **filters).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.dead_letter(uow, dead_letter_id)

    def on_post_requeue(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        with self._uow() as uow:
            letter = dead_letters.requeue(uow, dead_letter_id, who(req))
            ctx.record(uow, req, "dead_letter", dead_letter_id, resolution(letter, "requeued"))
            uow.commit()
            resp.media = _brief(queries.dead_letter(uow, dead_letter_id))
        resp.status = falcon.HTTP_202

    def on_post_drop(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            letter = dead_letters.drop(uow, dead_letter_id, who(req), reason)
            ctx.record(uow, req, "dead_letter", dead_letter_id, {**resolution(letter, "dropped"), "reason": reason})
            uow.commit()
            resp.media = _brief(queries.dead_letter(uow, dead_letter_id))


def who(req: falcon.Request) -> str:
    """How a dead letter's history names the caller: its role and key."""
    principal = ctx.principal(req)
    return f"{principal.role.value} key {principal.key_id}"


def resolution(letter: DeadLetter, new: str) -> dict[str, Any]:
    """What the audit keeps of a requeue or a drop: the message, and its status before and after."""
    return {"message_id": letter.message_id, "actor": letter.actor_name, "queue": letter.queue_name,
            "args": list(letter.args), "status": {"old": "dead", "new": new}}


def _brief(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("traceback", "history")}
