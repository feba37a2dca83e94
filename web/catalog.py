"""Merchants, stores and payment options: create, read, edit, validate."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from domain import masking
from domain.merchants import OfferAction
from domain.products import ProductAction, ProductStatus
from usecases import catalog, products, queries
from web import context as ctx
from web.routes import PRODUCT_STATUS

UowFactory = Callable[[], UnitOfWork]


class MerchantResource:
    """/merchants, /merchants/{merchant_id} and its validation."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            merchant = catalog.create_merchant(uow, **fields)
            ctx.record(uow, req, "merchant", merchant.id, fields)
            uow.commit()
            resp.media = queries.merchant_view(merchant)
        resp.status = falcon.HTTP_201

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = queries.merchants(uow, ctx.scope(req), page, per_page).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, merchant_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.merchant(uow, merchant_id, ctx.scope(req))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, merchant_id: int) -> None:
        changes = ctx.body(req)
        with self._uow() as uow:
            edited = catalog.update_merchant(uow, merchant_id, changes)
            ctx.record(uow, req, "merchant", merchant_id, edited.audit_details())
            uow.commit()
            resp.media = queries.merchant_view(edited.entity)

    def on_post_validation(self, req: falcon.Request, resp: falcon.Response, merchant_id: int) -> None:
        with self._uow() as uow:
            merchant = catalog.validate_merchant(uow, merchant_id)
            ctx.record(uow, req, "merchant", merchant_id)
            uow.commit()
            resp.media = queries.merchant_view(merchant)


class StoreResource:
    """/merchants/{merchant_id}/stores, /stores/{store_id} and its validation."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response, merchant_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            store = catalog.create_store(uow, merchant_id, fields)
            ctx.record(uow, req, "store", store.id,
                       {"merchant_id": merchant_id, **masking.fields(fields)})
            uow.commit()
            resp.media = queries.store_view(store)
        resp.status = falcon.HTTP_201

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response, merchant_id: int) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = queries.merchant_stores(uow, merchant_id, ctx.scope(req), page, per_page).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.store(uow, store_id, ctx.scope(req))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        changes = ctx.body(req)
        with self._uow() as uow:
            edited = catalog.update_store(uow, store_id, changes, ctx.principal(req).role, ctx.principal(req).person)
            ctx.record(uow, req, "store", store_id, edited.audit_details())
            uow.commit()
            resp.media = queries.store_view(edited.entity)

    def on_post_validation(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        with self._uow() as uow:
            store = catalog.validate_store(uow, store_id, ctx.principal(req).person)
            ctx.record(uow, req, "store", store_id, {"validated": catalog.validated_details(store)})
            uow.commit()
            resp.media = queries.store_view(store)


class PaymentOptionResource:
    """/stores/{store_id}/payment-options, /payment-options/{option_id} and its validation."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            option = catalog.create_option(uow, store_id, fields)
            ctx.record(uow, req, "payment_option", option.id, {"store_id": store_id, **fields})
            uow.commit()
            resp.media = queries.offer_view(uow, option)
        resp.status = falcon.HTTP_201

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        with self._uow() as uow:
            resp.media = {"items": queries.payment_options(uow, store_id, ctx.scope(req))}

    def on_get(self, req: falcon.Request, resp: falcon.Response, option_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.payment_option(uow, option_id, ctx.scope(req))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, option_id: int) -> None:
        changes = ctx.body(req)
        with self._uow() as uow:
            edited = catalog.update_option(uow, option_id, changes)
            ctx.record(uow, req, "payment_option", option_id, edited.audit_details())
            uow.commit()
            resp.media = queries.offer_view(uow, edited.entity)

    def on_post_validation(self, req: falcon.Request, resp: falcon.Response, option_id: int) -> None:
        with self._uow() as uow:
            option = catalog.validate_option(uow, option_id)
            ctx.record(uow, req, "payment_option", option_id)
            uow.commit()
            resp.media = queries.offer_view(uow, option)

    def on_post_enabling(self, req: falcon.Request, resp: falcon.Response, option_id: int) -> None:
        self._move(req, resp, option_id, OfferAction.ENABLE)

    def on_post_disabling(self, req: falcon.Request, resp: falcon.Response, option_id: int) -> None:
        self._move(req, resp, option_id, OfferAction.DISABLE)

    def _move(self, req: falcon.Request, resp: falcon.Response, option_id: int, action: OfferAction) -> None:
        with self._uow() as uow:
            option = products.move_offer(uow, option_id, action)
            ctx.record(uow, req, "payment_option", option_id, {"status": option.status.value})
            uow.commit()
            resp.media = queries.offer_view(uow, option)


class ProductResource:
    """/products, /products/{product_id}, its activation and its deactivation."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            product = products.create_product(uow, **fields)
            ctx.record(uow, req, "product", product.id, fields)
            uow.commit()
            resp.media = queries.product_view(product)
        resp.status = falcon.HTTP_201

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        status = PRODUCT_STATUS.read(req)
        with self._uow() as uow:
            resp.media = queries.products(uow, page, per_page, ProductStatus(status) if status else None).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, product_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.product(uow, product_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, product_id: int) -> None:
        changes = ctx.body(req)
        with self._uow() as uow:
            edited = products.update_product(uow, product_id, changes)
            ctx.record(uow, req, "product", product_id, edited.audit_details())
            uow.commit()
            resp.media = queries.product_view(edited.entity)

    def on_post_activation(self, req: falcon.Request, resp: falcon.Response, product_id: int) -> None:
        self._move(req, resp, product_id, ProductAction.ACTIVATE)

    def on_post_deactivation(self, req: falcon.Request, resp: falcon.Response, product_id: int) -> None:
        self._move(req, resp, product_id, ProductAction.DEACTIVATE)

    def _move(self, req: falcon.Request, resp: falcon.Response, product_id: int, action: ProductAction) -> None:
        with self._uow() as uow:
            product = products.move_product(uow, product_id, action)
            ctx.record(uow, req, "product", product_id, {"status": product.status.value})
            uow.commit()
            resp.media = queries.product_view(product)
