"""The Falcon application: the route table's resources, key checks, JSON rendering and error mapping."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

import falcon

from adapters.counters import MinuteCounter
from adapters.db.uow import UnitOfWork
from domain.callbacks import CallbackAddresses
from domain.customers import DEFAULT_DPD
from usecases.customers import CustomerRules
from usecases.payouts import PayoutConfig
from web import errors
from web.auth import Authentication
from adapters.storage import FileStorage
from web.bulk import (BatchListResource, BatchResource, BatchSubmissionResource, BulkLimits, CallbackReader,
                      ConnectorCallbackResource, PaymentRouteResource, TemplateResource)
from web.dates import DatesResource
from web.payments import PaymentResource
from web.bank import ReconciliationResource, StpWebhookResource
from web.catalog import MerchantResource, PaymentOptionResource, ProductResource, StoreResource
from web.credits import CreditResource
from web.customers import CustomerResource
from web.repayments import RepaymentResource
from web.health import HealthResource
from web.ledger import AdjustmentRequestResource, StoreLedgerResource, TransferResource
from web.limits import RequestLimits
from web.loans import LoanRequestResource, LoanResource
from web.metrics import MetricsResource, OperationsCollector, QueueDepths
from web.operations import ApiKeyResource, AuditResource, DeadLetterResource, EventResource
from web.openapi import OpenAPIResource, build_document
from web.rendering import json_handler
from web.routes import ROUTES, operations_by_template
from web.tenants import TenantResource
from web.wallets import WalletResource, WithdrawalDecisionResource
from web.health import Check

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class WebSettings:
    """The settings the web process reads, and no others."""

    webhook_secret: str
    max_adjustment: int
    max_body_bytes: int
    body_read_seconds: float
    bulk_max_bytes: int = 512 * 1024 * 1024
    bulk_max_json_bytes: int = 16 * 1024 * 1024
    adjustment_approval_above: int | None = None
    gsma_callback_secret: str = ""
    customer_default_dpd: int = DEFAULT_DPD


@dataclass(frozen=True)
class BulkServices:
    """What the bulk routes need beyond units of work: the upload storage and the connectors' callback readers."""

    storage: FileStorage
    callback_readers: Mapping[str, CallbackReader]
    callback_addresses: CallbackAddresses = CallbackAddresses()  # where a tenant's X-CallbackURL may point


def resources(uow: UowFactory, settings: WebSettings, health: Mapping[str, Check],
              refusals: MinuteCounter, payout: PayoutConfig, depths: QueueDepths,
              clock: Callable[[], datetime], bulk: BulkServices) -> dict[str, Any]:
    """One object per resource name of the route table, each given only what it uses."""
    limits = BulkLimits(settings.bulk_max_bytes, settings.bulk_max_json_bytes, settings.body_read_seconds)
    rules = CustomerRules(settings.customer_default_dpd)
    return {
        "batch_submission": BatchSubmissionResource(uow, bulk.storage, limits, bulk.callback_addresses),
        "batches": BatchResource(uow),
        "batch_list": BatchListResource(uow),
        "payment_routes": PaymentRouteResource(uow, bulk.storage),
        "template": TemplateResource(),
        "dates": DatesResource(clock),
        "payments": PaymentResource(uow),
        "connector_callbacks": ConnectorCallbackResource(
            uow, {"gsma": settings.gsma_callback_secret}, bulk.callback_readers),
        "metrics": MetricsResource(OperationsCollector(uow, depths, refusals, clock)),
        "merchants": MerchantResource(uow),
        "stores": StoreResource(uow),
        "options": PaymentOptionResource(uow),
        "products": ProductResource(uow),
        "credits": CreditResource(uow, rules),
        "ledger": StoreLedgerResource(uow, settings.max_adjustment, settings.adjustment_approval_above),
        "adjustment_requests": AdjustmentRequestResource(uow),
        "transfers": TransferResource(uow, payout),
        "health": HealthResource(health),
        "openapi": OpenAPIResource(build_document(ROUTES)),
        "stp_webhook": StpWebhookResource(uow, settings.webhook_secret, refusals),
        "reconciliations": ReconciliationResource(uow),
        "events": EventResource(uow),
        "audit": AuditResource(uow),
        "api_keys": ApiKeyResource(uow),
        "dead_letters": DeadLetterResource(uow),
        "tenants": TenantResource(uow),
        "wallets": WalletResource(uow, payout),
        "withdrawals": WithdrawalDecisionResource(uow),
        "customers": CustomerResource(uow, rules),
        "repayments": RepaymentResource(uow, rules),
        "loan_requests": LoanRequestResource(uow, rules),
        "loans": LoanResource(uow, rules),
    }


def create_app(uow: UowFactory, settings: WebSettings, health: Mapping[str, Check], refusals: MinuteCounter,
               payout: PayoutConfig, depths: QueueDepths, clock: Callable[[], datetime],
               bulk: BulkServices) -> falcon.App[falcon.Request, falcon.Response]:
    """The app factory: units of work, the web's settings, the health checks, the counter of refused
    webhook calls, the payout settings (approval builds a payment order), the queues' depths (for
    /metrics) and the clock are all it needs."""
    middleware: list[Any] = [Authentication(uow, operations_by_template()),
                             RequestLimits(settings.max_body_bytes, settings.body_read_seconds)]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.keep_blank_qs_values = True  # an empty value is refused (422), not taken for the default
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler()
    errors.install(app)
    served = resources(uow, settings, health, refusals, payout, depths, clock, bulk)
    for route in ROUTES:
        app.add_route(route.path, served[route.resource], suffix=route.suffix)
    return app
