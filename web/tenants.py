"""/api/v1/tenants/{tenant}: admins read and configure tenants; treasury funds their floats."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from usecases import tenants
from web import context as ctx
from web.routes import TENANT_CONFIG, TENANT_NAME
from web.schema import invalid

UowFactory = Callable[[], UnitOfWork]


class TenantResource:
    """GET and PUT /api/v1/tenants/{tenant}; POST /api/v1/tenants/{tenant}/float."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        name = TENANT_NAME.value(tenant)
        with self._uow() as uow:
            resp.media = tenants.view(uow, uow.tenants.get(name))

    def on_put(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        name, given = TENANT_NAME.value(tenant), ctx.raw_json(req)
        if given is None:  # {} keeps the configuration as it is; no body at all is a mistake
            raise invalid("the body is a JSON object of stage keys, such as {\"splitting.sub-batch-size\": 5}")
        raw = TENANT_CONFIG.parse(given)
        with self._uow() as uow:
            done = tenants.put(uow, name, raw)
            ctx.record(uow, req, "tenant", name, {"config": {"old": done.old, "new": done.tenant.config}})
            uow.commit()
            resp.media = tenants.view(uow, done.tenant)
        resp.status = falcon.HTTP_201 if done.created else falcon.HTTP_200

    def on_post_float(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        name, fields = TENANT_NAME.value(tenant), ctx.body(req)
        with self._uow() as uow:
            money, balance = tenants.fund(uow, name, fields["amount"], fields["currency"])
            ctx.record(uow, req, "tenant", name, {"amount": money.minor, "currency": money.currency,
                                                  "balance": balance})
            uow.commit()
            resp.media = tenants.view(uow, uow.tenants.get(name))
