"""/api/v1/wallets/{owner}: a closed-loop wallet shown to its tenant, and its money withdrawn over SPEI."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from domain import masking
from usecases import tenants, withdrawals
from usecases.payouts import PayoutConfig
from web import context as ctx
from web.routes import TENANT_HEADER, UETR_PARAM, WALLET_OWNER

UowFactory = Callable[[], UnitOfWork]


class WalletResource:
    """GET /api/v1/wallets/{owner}; POST /api/v1/wallets/{owner}/withdrawals."""

    def __init__(self, uow: UowFactory, payout: PayoutConfig):
        self._uow, self._payout = uow, payout

    def on_get(self, req: falcon.Request, resp: falcon.Response, owner: str) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            tenant = tenants.for_caller(uow, ctx.principal(req), req.get_header(TENANT_HEADER.name))
            resp.media = withdrawals.view(uow, tenant, str(WALLET_OWNER.value(owner)), page, per_page)

    def on_post_withdrawals(self, req: falcon.Request, resp: falcon.Response, owner: str) -> None:
        fields = ctx.body(req)
        name = str(WALLET_OWNER.value(owner))
        asked = withdrawals.WithdrawalRequest(
            fields["reference"], fields["amount"], fields["currency"], fields["clabe"], fields["beneficiary_name"],
            fields.get("rfc_curp") or "", fields.get("concept") or "")
        with self._uow() as uow:
            tenant = tenants.for_caller(uow, ctx.principal(req), req.get_header(TENANT_HEADER.name))
            shown, new = withdrawals.withdraw(uow, tenant, name, asked, ctx.principal(req).key_id,
                                              self._payout.tracking_prefix, self._payout.transfer_approval_above)
            if new:
                ctx.record(uow, req, "wallet", masking.account(name), {
                    "tenant": tenant.name, "reference": asked.reference, "uetr": shown["uetr"],
                    "amount": shown["amount_minor"], "currency": shown["currency"], "clabe": shown["clabe"],
                    "beneficiary_name": shown["beneficiary_name"]})
            uow.commit()
        resp.status = falcon.HTTP_201 if new else falcon.HTTP_200
        resp.media = shown


class WithdrawalDecisionResource:
    """POST /api/v1/wallet-withdrawals/{uetr}/approve and /reject: treasury's decision on a large withdrawal."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_post_approval(self, req: falcon.Request, resp: falcon.Response, uetr: str) -> None:
        self._decide(req, resp, str(UETR_PARAM.value(uetr)), None)

    def on_post_rejection(self, req: falcon.Request, resp: falcon.Response, uetr: str) -> None:
        self._decide(req, resp, str(UETR_PARAM.value(uetr)), ctx.body(req)["reason"])

    def _decide(self, req: falcon.Request, resp: falcon.Response, uetr: str, rejected_for: str | None) -> None:
        with self._uow() as uow:
            who = ctx.principal(req)
            shown = withdrawals.approve(uow, uetr, who) if rejected_for is None else \
                withdrawals.reject(uow, uetr, who, rejected_for)
            ctx.record(uow, req, "withdrawal", uetr, {"approval": shown["approval"], "reason": rejected_for})
            uow.commit()
        resp.media = shown
