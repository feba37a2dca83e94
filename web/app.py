"""The Falcon application: the route table's resources, key checks, JSON rendering and error mapping."""
from __future__ import annotations

from typing import Any

import falcon

from adapters.counters import MinuteCounter
from web import errors
from web.auth import Authentication
from web.bank import ReconciliationResource, StpWebhookResource
from web.catalog import MerchantResource, PaymentOptionResource, StoreResource
from web.credits import CreditResource
from web.health import HealthResource, broker_check, database_check, redis_check
from web.ledger import StoreLedgerResource, TransferResource
from web.limits import RequestLimits
from web.operations import ApiKeyResource, AuditResource, EventResource
from web.openapi import OpenAPIResource, build_document
from web.rendering import json_handler
from web.routes import ROUTES, operations_by_template
from workers.bootstrap import Container


def resources(container: Container) -> dict[str, Any]:
    """One object per resource name of the route table, each given only what it uses."""
    uow = container.uow
    settings = container.settings
    return {
        "merchants": MerchantResource(uow),
        "stores": StoreResource(uow),
        "options": PaymentOptionResource(uow),
        "credits": CreditResource(uow),
        "ledger": StoreLedgerResource(uow, settings.max_adjustment),
        "transfers": TransferResource(uow),
        "health": HealthResource({
            "database": database_check(container.engine),
            "broker": broker_check(settings.broker, settings.rabbitmq_url),
            "redis": redis_check(lambda: container.redis),
        }),
        "openapi": OpenAPIResource(build_document(ROUTES)),
        "stp_webhook": StpWebhookResource(uow, settings.webhook_secret,
                                          MinuteCounter(lambda: container.redis, "webhook_refused")),
        "reconciliations": ReconciliationResource(uow),
        "events": EventResource(uow),
        "audit": AuditResource(uow),
        "api_keys": ApiKeyResource(uow),
    }


def create_app(container: Container) -> falcon.App:
    settings = container.settings
    app = falcon.App(middleware=[Authentication(container.uow, operations_by_template()),
                                 RequestLimits(settings.max_body_bytes, settings.body_read_seconds)])
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.keep_blank_qs_values = True  # an empty value is refused (422), not taken for the default
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler()
    errors.install(app)
    served = resources(container)
    for route in ROUTES:
        app.add_route(route.path, served[route.resource], suffix=route.suffix)
    return app
