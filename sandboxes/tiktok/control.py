"""The sandbox-only control API under /sandbox/ (JSON in, JSON out, no signing)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from . import api_auth, api_fbt
from .api_orders import order_view
from .errors import ApiError
from .gateway import Request
from .seed import ShopSpec, bulk_create_orders, create_seller
from .seed_month import seed_month
from .state import PRE_SHIPMENT, Order

if TYPE_CHECKING:
    from .app import TikTokSandbox


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _body(req: Request) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    try:
        data = json.loads(req.body)
    except ValueError as exc:
        raise ControlError(400, "body must be JSON") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def handle_control(sb: TikTokSandbox, req: Request) -> tuple[int, Any]:
    try:
        return _route(sb, req)
    except ControlError as exc:
        return exc.status, {"error": exc.message}
    except ApiError as exc:
        return 400, {"error": exc.message, "code": exc.code}
    except (KeyError, TypeError, ValueError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}


def _route(sb: TikTokSandbox, req: Request) -> tuple[int, Any]:
    m, p = req.method, req.path.rstrip("/")
    world = sb.world
    if p == "/sandbox" and m == "GET":
        return 200, describe(sb)
    if p == "/sandbox/reset" and m == "POST":
        body = _body(req)
        sb.reset(seed=body.get("seed"))
        return 200, describe(sb)
    if p == "/sandbox/clock":
        if m == "GET":
            return 200, sb.clock.describe()
        if m == "POST":
            body = _body(req)
            if "advance" in body:
                sb.clock.advance(float(body["advance"]))
            if "set" in body:
                sb.clock.set(float(body["set"]))
            if body.get("freeze") is True:
                sb.clock.freeze()
            if body.get("freeze") is False:
                sb.clock.unfreeze()
            return 200, sb.clock.describe()
    if p == "/sandbox/faults":
        if m == "GET":
            return 200, sb.faults.as_dict()
        if m == "PUT":
            return 200, sb.faults.update(_body(req), replace=True)
        if m == "POST":
            return 200, sb.faults.update(_body(req), replace=False)
        if m == "DELETE":
            sb.faults.clear()
            return 200, sb.faults.as_dict()
    if p == "/sandbox/stats" and m == "GET":
        return 200, sb.limiter.snapshot()
    if p == "/sandbox/stats/reset" and m == "POST":
        sb.limiter.reset()
        return 200, sb.limiter.snapshot()
    if p == "/sandbox/webhooks" and m == "GET":
        return 200, sb.webhooks.log()
    if p == "/sandbox/webhooks/flush" and m == "POST":
        return 200, {"delivered": sb.deliver_due_webhooks()}
    if p == "/sandbox/snapshot" and m == "POST":
        return 200, {"saved": sb.save_snapshot(_body(req).get("path"))}
    with world.lock:
        world.tick(sb.clock.now())
        return _world_routes(sb, req, m, p)


def _world_routes(sb: TikTokSandbox, req: Request, m: str, p: str) -> tuple[int, Any]:
    world = sb.world
    now = sb.clock.now()
    if p == "/sandbox/sellers":
        if m == "GET":
            return 200, {"sellers": [seller_view(sb, s) for s in world.sellers]}
        if m == "POST":
            body = _body(req)
            region = body.get("region", "US")
            n_shops = int(body.get("shops", 1))
            specs = [
                ShopSpec(
                    name=f"{body.get('name', 'Sandbox Seller')} Shop {i + 1}",
                    region=region,
                    seller_type=body.get("seller_type", "LOCAL"),
                    warehouses=int(body.get("warehouses", 1)),
                    label_allocation=bool(body.get("label_allocation", False)),
                )
                for i in range(n_shops)
            ]
            seller = create_seller(world, body.get("name", "Sandbox Seller"), region, specs, now)
            n_orders = int(body.get("orders_per_shop", 0))
            for sid in seller.shop_ids:
                if n_orders:
                    bulk_create_orders(world, world.shops[sid], n_orders, now, seed=body.get("seed"))
            return 201, seller_view(sb, seller.id)
    if p == "/sandbox/scenarios/month" and m == "POST":
        body = _body(req)
        params = {k: body[k] for k in ("name", "orders", "days", "seed") if k in body}
        return 201, seed_month(world, now, **params)
    if (mm := re.fullmatch(r"/sandbox/shops/(\d+)/orders", p)) and m == "POST":
        shop = world.shops.get(mm.group(1))
        if shop is None:
            raise ControlError(404, "unknown shop")
        body = _body(req)
        count = int(body.get("count", 100))
        if not 0 < count <= 500_000:
            raise ControlError(400, "count must be in 1..500000")
        started = time.perf_counter()
        orders = bulk_create_orders(
            world,
            shop,
            count,
            now,
            seed=body.get("seed"),
            status_mix=body.get("status_mix"),
            shipping_mix=body.get("shipping_mix"),
        )
        return 201, {
            "created": len(orders),
            "first_order_id": orders[0].id,
            "last_order_id": orders[-1].id,
            "order_ids": [o.id for o in orders] if body.get("return_ids") else None,
            "seconds": round(time.perf_counter() - started, 3),
        }
    if (mm := re.fullmatch(r"/sandbox/shops/(\d+)", p)) and m in ("GET", "PATCH"):
        shop = world.shops.get(mm.group(1))
        if shop is None:
            raise ControlError(404, "unknown shop")
        if m == "PATCH":
            body = _body(req)
            if "label_allocation" in body:
                shop.label_allocation = bool(body["label_allocation"])
        return 200, shop_view(sb, shop.id)
    if (mm := re.fullmatch(r"/sandbox/orders/(\d+)", p)) and m == "GET":
        o = _order(sb, mm.group(1))
        view = order_view(world, o)
        view["recipient_address_unmasked"] = asdict(o.address)
        return 200, view
    if (mm := re.fullmatch(r"/sandbox/orders/(\d+)/events", p)) and m == "POST":
        return 200, order_event(sb, _order(sb, mm.group(1)), _body(req))
    if p == "/sandbox/labels" and m == "GET":
        q = req.query
        labels = [
            asdict(lr)
            for lr in world.labels
            # A combined package's one label answers for each of its orders.
            if (not q.get("order_id") or q["order_id"] in (getattr(lr, "order_ids", None) or [lr.order_id]))
            and (not q.get("shop_id") or lr.shop_id == q["shop_id"])
        ]
        return 200, {"labels": labels, "count": len(labels)}
    if (mm := re.fullmatch(r"/sandbox/packages/(\d+)", p)) and m == "GET":
        return 200, package_view(sb, mm.group(1))
    if p == "/sandbox/seller_shipments" and m == "GET":
        q = req.query
        shipments = [
            dict(record)
            for record in world.seller_shipments
            if (not q.get("order_id") or record["order_id"] == q["order_id"])
            and (not q.get("shop_id") or record["shop_id"] == q["shop_id"])
        ]
        return 200, {"seller_shipments": shipments, "count": len(shipments)}
    if p == "/sandbox/tokens/expire" and m == "POST":
        body = _body(req)
        expired = []
        for tok in world.tokens.values():
            if tok.access_token == body.get("access_token") or tok.seller_id == body.get("seller_id"):
                tok.access_expire = now - 1
                if body.get("refresh_token_too"):
                    tok.refresh_expire = now - 1
                expired.append(tok.access_token)
        return 200, {"expired": len(expired)}
    if p == "/sandbox/authorize" and m == "POST":
        body = _body(req)
        seller_id = body.get("seller_id") or next(iter(world.sellers))
        code = api_auth.issue_code(sb, seller_id)
        out: dict[str, Any] = {"code": code, "seller_id": seller_id}
        if body.get("exchange"):
            # Convenience for benchmarks: skip the token call too.
            out["token"] = api_auth.token_payload(sb, api_auth.issue_token(sb, seller_id))
            world.auth_codes[code].used = True
        return 200, out
    if (mm := re.fullmatch(r"/sandbox/inventory/(\d+)", p)) and m == "GET":
        shop = world.shops.get(mm.group(1))
        if shop is None:
            raise ControlError(404, "unknown shop")
        return 200, {
            "shop_id": shop.id,
            "skus": [
                {
                    "product_id": pr.id,
                    "product_status": pr.status,
                    "sku_id": s.id,
                    "seller_sku": s.seller_sku,
                    "inventory": dict(s.inventory),
                }
                for pr in shop.products
                for s in pr.skus
            ],
            "updates": [u for u in world.inventory_log if u["shop_id"] == shop.id],
        }
    if p == "/sandbox/fbt/inventory":
        if m == "GET":
            return 200, api_fbt.describe_stock(world, req.query.get("shop_id"))
        if m == "POST":
            return 200, api_fbt.set_stock(world, _body(req))
    raise ControlError(404, f"no control route {m} {p}")


def _order(sb: TikTokSandbox, order_id: str) -> Order:
    o = sb.world.orders.get(order_id)
    if o is None:
        raise ControlError(404, "unknown order")
    return o


def order_event(sb: TikTokSandbox, o: Order, body: dict[str, Any]) -> dict[str, Any]:
    world = sb.world
    now = sb.clock.now()
    kind = body.get("type") or body.get("event")
    if kind == "pay":
        if o.status != "UNPAID":
            raise ControlError(409, f"order is {o.status}")
        world.pay(o, now)
    elif kind == "cancel":
        if o.status not in PRE_SHIPMENT and o.status != "AWAITING_COLLECTION":
            raise ControlError(409, f"order is {o.status}")
        world.cancel(o, now, body.get("initiator", "BUYER"), body.get("reason", "No longer needed"))
    elif kind == "buyer_cancel_request":
        if o.status not in PRE_SHIPMENT:
            raise ControlError(409, f"order is {o.status}")
        o.is_buyer_request_cancel = True
        o.request_cancel_time = now
        o.cancel_reason = body.get("reason", "No longer needed")
        world.touch(o, now)
        o.version += 1
        world._schedule_for_status(o)
        world.emit(
            o.shop_id,
            11,
            {
                "order_id": o.id,
                "cancellations_role": "BUYER",
                "cancel_status": "CANCELLATION_REQUEST_PENDING",
                "cancel_id": world.ids.next("cancel"),
                "create_time": now,
            },
        )
    elif kind == "buyer_cancel_withdraw":
        o.is_buyer_request_cancel = False
        world.touch(o, now)
        world.emit(
            o.shop_id,
            11,
            {
                "order_id": o.id,
                "cancellations_role": "BUYER",
                "cancel_status": "CANCELLATION_REQUEST_CANCELLED",
                "cancel_id": world.ids.next("cancel"),
                "create_time": now,
            },
        )
    elif kind == "address_update":
        a = o.address
        for key in ("line1", "line2", "city", "state", "state_code", "postal_code", "first_name", "last_name", "phone"):
            if key in body:
                setattr(a, key, str(body[key]))
        a.bad_reason = body.get("bad_reason", "")
        o.has_updated_recipient_address = True
        world.touch(o, now)
        world.emit(o.shop_id, 3, {"order_id": o.id, "update_time": o.update_time})
    elif kind == "return_request":
        o.has_after_sale = True
        world.touch(o, now)
        world.emit(
            o.shop_id,
            12,
            {
                "order_id": o.id,
                "return_role": "BUYER",
                "return_type": body.get("return_type", "RETURN_AND_REFUND"),
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                "return_id": world.ids.next("cancel"),
                "create_time": now,
                "update_time": now,
            },
        )
    elif kind == "advance":
        # Move this order to its next state now, whatever its schedule says.
        nxt = {
            "UNPAID": "pay",
            "ON_HOLD": "release_hold",
            "AWAITING_COLLECTION": "collect",
            "IN_TRANSIT": "deliver",
            "DELIVERED": "complete",
        }.get(o.status)
        if nxt is None:
            raise ControlError(409, f"nothing to advance from {o.status}")
        if nxt == "pay":
            world.pay(o, now)
        else:
            world._apply_scheduled(o, nxt, now)
    elif kind == "deauthorize":
        seller = world.sellers[world.shops[o.shop_id].seller_id]
        seller.authorized = False
        world.emit(o.shop_id, 6, {"message": "The seller has deauthorized the app."})
    else:
        raise ControlError(
            400,
            "type must be one of pay, cancel, buyer_cancel_request, buyer_cancel_withdraw, "
            "address_update, return_request, advance, deauthorize",
        )
    return order_view(world, o)


def seller_view(sb: TikTokSandbox, seller_id: str) -> dict[str, Any]:
    s = sb.world.sellers[seller_id]
    return {
        "id": s.id,
        "name": s.name,
        "base_region": s.base_region,
        "authorized": s.authorized,
        "shops": [shop_view(sb, i) for i in s.shop_ids],
    }


def shop_view(sb: TikTokSandbox, shop_id: str) -> dict[str, Any]:
    shop = sb.world.shops[shop_id]
    return {
        "id": shop.id,
        "cipher": shop.cipher,
        "code": shop.code,
        "name": shop.name,
        "region": shop.region,
        "seller_type": shop.seller_type,
        "seller_id": shop.seller_id,
        "label_allocation": shop.label_allocation,
        "order_count": len(sb.world.index[shop.id].by_create),
        "warehouses": [w.id for w in shop.warehouses],
        "products": [{"id": p.id, "status": p.status, "skus": [s.id for s in p.skus]} for p in shop.products],
        "webhooks": shop.webhooks,
    }


def describe(sb: TikTokSandbox) -> dict[str, Any]:
    return {
        "app_key": sb.config.app_key,
        "service_id": sb.config.service_id,
        "redirect_uri": sb.config.redirect_uri,
        "clock": sb.clock.describe(),
        "sellers": [seller_view(sb, s) for s in sb.world.sellers],
    }


# ---------------------------------------------------------------------- combined and split packages
def package_view(sb: TikTokSandbox, package_id: str) -> dict[str, Any]:
    """A package as the sandbox holds it: its orders, lines, tag, shipping state and the labels bought for it."""
    world = sb.world
    pkg = world.packages.get(package_id)
    if pkg is None:
        raise ControlError(404, "unknown package")
    return {
        "package_id": pkg.id,
        "shop_id": pkg.shop_id,
        "order_ids": list(pkg.all_order_ids),
        "line_item_ids": list(pkg.line_item_ids),
        "split_and_combine_tag": pkg.split_and_combine_tag,
        "status": pkg.status,
        "shipped": pkg.shipped,
        "shipping_type": pkg.shipping_type,
        "tracking_number": pkg.tracking_number,
        "shipping_provider_name": pkg.shipping_provider_name,
        "labels": [asdict(lr) for lr in world.labels if lr.package_id == pkg.id],
    }
