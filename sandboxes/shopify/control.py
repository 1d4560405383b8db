"""The sandbox-only control API under /sandbox/ (JSON in, JSON out, no auth), mirroring the TikTok sandbox's.

What a merchant or a buyer does in Shopify (an order is placed, edited, cancelled, fulfilled in the admin, put on
hold; stock is counted; the app is uninstalled) happens here, with the same inventory moves and webhooks as at
Shopify. Routes that send webhooks run outside the world lock, since a receiver may call back into the sandbox.
"""

from __future__ import annotations

import json
import random
import re
import zoneinfo
from typing import TYPE_CHECKING, Any

from . import oauth, ops, payloads, seed
from .state import (
    QUANTITY_NAMES,
    Address,
    FulfillmentOrder,
    InventoryItem,
    Level,
    LineItem,
    Location,
    Order,
    Shop,
    Tracking,
    gid,
    iso,
    parse_gid,
)
from .topics import ALL_TOPICS, COMPLIANCE_TOPICS, TOPIC_SCOPES
from .webhooks import explain_signature

if TYPE_CHECKING:
    from .app import Response, ShopifySandbox

SETTABLE_NAMES = tuple(n for n in QUANTITY_NAMES if n != "on_hand")
DAY = 86_400
# A shop the control API may add: a handle of letters, digits and hyphens (one DNS label) under myshopify.com.
MYSHOPIFY_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.myshopify\.com")
MAX_SEEDED_ORDERS = 1000


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handle_control(sb: ShopifySandbox, method: str, path: str, query: dict[str, Any], raw: bytes) -> Response:
    from .app import json_response

    try:
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        status, data = _route(sb, method, path.rstrip("/") or "/sandbox", query, body)
    except ControlError as exc:
        status, data = exc.status, {"error": exc.message}
    except ValueError as exc:  # also JSON errors
        status, data = 400, {"error": f"bad request: {exc}"}
    except (KeyError, TypeError) as exc:
        status, data = 400, {"error": f"bad request: {type(exc).__name__}: {exc}"}
    return json_response(status, data)


def _route(sb: ShopifySandbox, m: str, p: str, query: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
    # Routes that deliver webhooks (and so must not hold the world lock) or touch no world state.
    if p == "/sandbox/webhooks" and m == "GET":
        return 200, sb.webhooks.log(query.get("topic"), query.get("shop"), query.get("state"))
    if p == "/sandbox/webhooks/flush" and m == "POST":
        return 200, {"delivered": sb.deliver_due_webhooks()}
    if (mm := re.fullmatch(r"/sandbox/webhooks/(\d+)/duplicate", p)) and m == "POST":
        try:
            sb.webhooks.duplicate(int(mm.group(1)), int(body.get("copies", 1)))
        except KeyError as exc:
            raise ControlError(404, "unknown delivery") from exc
        # Sent by this flush or by the background sender just before it (a flush waits for a running one).
        sb.deliver_due_webhooks()
        return 200, sb.webhooks.view_of(int(mm.group(1)))
    if p == "/sandbox/webhooks/verify" and m == "POST":
        raw = sb.webhooks.raw_body(int(body["delivery_id"])) if "delivery_id" in body else str(body["body"]).encode()
        return 200, explain_signature(str(body.get("secret") or sb.config.client_secret), raw, str(body["hmac"]))
    if p == "/sandbox/faults":
        if m == "GET":
            return 200, sb.faults.as_dict()
        if m == "PUT":
            return 200, sb.faults.update(body, replace=True)
        if m == "POST":
            return 200, sb.faults.update(body, replace=False)
        if m == "DELETE":
            sb.faults.clear()
            return 200, sb.faults.as_dict()
    if p == "/sandbox/stats" and m == "GET":
        return 200, sb.stats.snapshot()
    if p == "/sandbox/stats/reset" and m == "POST":
        sb.stats.reset()
        return 200, sb.stats.snapshot()
    if p == "/sandbox/clock":
        if m == "POST":
            if "advance" in body:
                sb.clock.advance(float(body["advance"]))
            if "set" in body:
                sb.clock.set(float(body["set"]))
            if body.get("freeze"):
                sb.clock.freeze()
            if body.get("unfreeze") or body.get("freeze") is False:
                sb.clock.unfreeze()
        return 200, sb.clock.describe()
    if p == "/sandbox/reset" and m == "POST":
        sb.reset(body.get("seed"))
        return 200, {"ok": True, "seed": sb.config.seed}
    if p == "/sandbox/snapshot" and m == "POST":
        try:
            return 200, {"saved": sb.save_snapshot(body.get("path"))}
        except ValueError as exc:
            raise ControlError(400, str(exc)) from exc
    if p == "/sandbox/apps/webhooks":
        if m == "PUT":
            _set_app_webhooks(sb, body)
        return 200, {"api_version": sb.config.webhooks_api_version, "subscriptions": sb.config.app_webhooks}
    if p == "/sandbox/rate-limit" and m == "POST":
        if "status_code" in body:
            sb.config.throttle_status_code = int(body["status_code"])
        sb.config.maximum_available = float(body.get("maximum_available", sb.config.maximum_available))
        sb.config.restore_rate = float(body.get("restore_rate", sb.config.restore_rate))
        sb.limiter.reset(sb.config.maximum_available, sb.config.restore_rate)
        return 200, {"maximum_available": sb.limiter.maximum, "restore_rate": sb.limiter.restore_rate}
    with sb.world.lock:
        return _world_route(sb, m, p, query, body)


def _set_app_webhooks(sb: ShopifySandbox, body: dict[str, Any]) -> None:
    """PUT /sandbox/apps/webhooks: the app config's [webhooks] section (replaces it)."""
    blocks = body.get("subscriptions") or []
    for block in blocks:
        if not block.get("uri"):
            raise ControlError(400, "every subscription needs a uri")
        for t in block.get("topics") or []:
            if t not in TOPIC_SCOPES:
                raise ControlError(400, f"unknown topic {t!r}; topics: {', '.join(TOPIC_SCOPES)}")
        for t in block.get("compliance_topics") or []:
            if t not in COMPLIANCE_TOPICS:
                raise ControlError(
                    400, f"unknown compliance topic {t!r}; compliance topics: {', '.join(COMPLIANCE_TOPICS)}"
                )
    sb.config.app_webhooks = [dict(b) for b in blocks]
    if body.get("api_version"):
        sb.config.webhooks_api_version = str(body["api_version"])


def _world_route(sb: ShopifySandbox, m: str, p: str, query: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
    w = sb.world
    now = sb.clock.now()
    if p == "/sandbox" and m == "GET":
        return 200, describe(sb)
    if p == "/sandbox/state" and m == "GET":
        return 200, {"shops": [shop_summary(sb, s) for s in w.shops.values()]}
    if p == "/sandbox/shops":
        if m == "GET":
            return 200, {"shops": [shop_summary(sb, s) for s in w.shops.values()]}
        if m == "POST":
            return 201, shop_summary(sb, create_shop(sb, body))
    if p == "/sandbox/rate-limit/drain" and m == "POST":
        shop = _shop(sb, body.get("shop"))
        client_id = str(body.get("client_id") or sb.config.client_id)
        status = sb.limiter.drain((client_id, shop.id), float(body.get("available", 0)))
        return 200, {"shop": shop.myshopify_domain, "throttleStatus": status}
    if p == "/sandbox/authorize" and m == "POST":
        shop = _shop(sb, body.get("shop"))
        scopes = list(body.get("scopes") or ["read_orders", "read_locations"])
        code = oauth.issue_code(w, shop.id, sb.config.client_id, scopes, now)
        return 200, {"code": code, "shop": shop.myshopify_domain}
    if p == "/sandbox/install-link" and m == "POST":
        # §2.1: the signed GET Shopify sends to the App URL when a merchant installs.
        shop = _shop(sb, body.get("shop"))
        params = {"host": oauth.host_param(shop.handle), "shop": shop.myshopify_domain, "timestamp": str(now)}
        params["hmac"] = oauth.sign_query(sb.config.client_secret, params)
        encoded = "&".join(f"{oauth.encode_param(k)}={oauth.encode_param(v)}" for k, v in sorted(params.items()))
        return 200, {"url": f"{body['app_url']}?{encoded}", "query": params}
    if p == "/sandbox/apps/uninstall" and m == "POST":
        return 200, uninstall(sb, _shop(sb, body.get("shop")))
    if (
        mm := re.fullmatch(r"/sandbox/privacy/(customers-data-request|customers-redact|shop-redact)", p)
    ) and m == "POST":
        return 200, privacy(sb, mm.group(1), _shop(sb, body.get("shop")), body)
    if p == "/sandbox/webhook-subscriptions" and m == "GET":
        only = _shop(sb, query.get("shop")) if query.get("shop") else None
        subs = [s for s in w.subscriptions.values() if only is None or s.shop_id == only.id]
        return 200, {
            "subscriptions": [
                {
                    "id": gid("WebhookSubscription", s.id),
                    "shop": w.shops[s.shop_id].myshopify_domain,
                    "topic": s.topic,
                    "uri": s.uri,
                    "api_version": s.api_version,
                    "include_fields": s.include_fields,
                }
                for s in subs
            ]
        }
    # ---------------------------------------------------------------- orders
    if p == "/sandbox/orders" and m == "GET":
        only = _shop(sb, query.get("shop")) if query.get("shop") else None
        orders = [o for o in w.orders.values() if only is None or o.shop_id == only.id]
        return 200, {"orders": [order_summary(sb, o) for o in sorted(orders, key=lambda o: o.id)]}
    if p == "/sandbox/orders" and m == "POST":
        return 201, order_summary(sb, place_order(sb, body), detail=True)
    if mm := re.fullmatch(r"/sandbox/orders/(\d+)(/cancel|/fulfillments)?", p):
        order = w.orders.get(int(mm.group(1)))
        if order is None:
            raise ControlError(404, "order not found")
        tail = mm.group(2)
        if tail is None and m == "GET":
            return 200, order_summary(sb, order, detail=True)
        if tail == "/fulfillments" and m == "GET":
            rows = [fulfillment_summary(sb, w.fulfillments[i]) for i in order.fulfillment_ids]
            if query.get("tracking_number"):
                rows = [r for r in rows if any(t["number"] == query["tracking_number"] for t in r["tracking"])]
            return 200, {"order_id": gid("Order", order.id), "fulfillments": rows, "count": len(rows)}
        if tail == "/cancel" and m == "POST":
            if order.cancelled_at is not None:
                raise ControlError(409, "order already cancelled")
            ops.cancel(
                w, order, str(body.get("reason", "CUSTOMER")).upper(), now, restock=bool(body.get("restock", True))
            )
            return 200, order_summary(sb, order, detail=True)
        if tail is None and m in ("POST", "PATCH"):
            update_order(sb, order, body, now)
            return 200, order_summary(sb, order, detail=True)
    # ---------------------------------------------------------------- fulfillment orders
    if mm := re.fullmatch(r"/sandbox/fulfillment-orders/(\d+)(?:/(hold|release|schedule|open))?", p):
        fo = w.fulfillment_orders.get(int(mm.group(1)))
        if fo is None:
            raise ControlError(404, "fulfillment order not found")
        action = mm.group(2)
        if action is None and m == "GET":
            return 200, fo_summary(sb, fo)
        if m != "POST" or action is None:
            raise ControlError(405, "use POST /hold, /release, /schedule or /open")
        fo_status = w.fo_status(fo)
        if fo_status in ("CLOSED", "CANCELLED"):
            raise ControlError(409, f"fulfillment order is {fo_status}")
        if action == "hold":
            ops.hold(w, fo, str(body.get("reason", "OTHER")), body.get("notes"), now)
        elif action == "release":
            if not fo.holds:
                raise ControlError(409, "fulfillment order is not on hold")
            ops.release(w, fo, now)
        elif action == "schedule":
            ops.schedule(w, fo, float(body.get("at", now + DAY)), now)
        else:
            ops.mark_open(w, fo, now)
        order = w.orders[fo.order_id]
        order.updated_at = now
        return 200, fo_summary(sb, fo)
    # ---------------------------------------------------------------- inventory
    if p == "/sandbox/inventory/changes" and m == "GET":
        only = _shop(sb, query.get("shop")) if query.get("shop") else None
        groups = [g for g in w.adjustment_groups if only is None or g.shop_id == only.id]
        if query.get("source"):
            groups = [g for g in groups if g.source == query["source"]]
        return 200, {"changes": [_group_view(sb, g) for g in groups], "count": len(groups)}
    if p == "/sandbox/inventory" and m == "GET":
        shop = _shop(sb, query.get("shop"))
        items = [w.inventory_items[v.inventory_item_id] for v in w.shop_variants(shop.id)]
        if query.get("sku"):
            items = [_item(sb, shop, query["sku"])]
        return 200, {"shop": shop.myshopify_domain, "items": [inventory_view(sb, i) for i in items]}
    if (mm := re.fullmatch(r"/sandbox/inventory/([^/]+)", p)) and m == "GET":
        shop = _shop(sb, query.get("shop"))
        return 200, inventory_view(sb, _item(sb, shop, mm.group(1)))
    if p == "/sandbox/inventory" and m in ("PUT", "POST"):
        shop = _shop(sb, body.get("shop"))
        item = _item(sb, shop, str(body["sku"]))
        location = _location(sb, shop, body.get("location"))
        set_stock(sb, item, location, body, now)
        return 200, inventory_view(sb, item)
    raise ControlError(404, f"no control route {m} {p}")


# -------------------------------------------------------------------------------------------------- lookups
def _shop(sb: ShopifySandbox, domain: Any) -> Shop:
    if not domain:
        return next(iter(sb.world.shops.values()))
    shop = sb.world.shop_by_domain(str(domain))
    if shop is None:
        raise ControlError(404, f"unknown shop {domain}")
    return shop


def _location(sb: ShopifySandbox, shop: Shop, value: Any) -> Location:
    """A location by GID, number or name; the shop's first when not given."""
    if value in (None, ""):
        return sb.world.locations[shop.location_ids[0]]
    parsed = parse_gid(value)
    for lid in shop.location_ids:
        loc = sb.world.locations[lid]
        if (parsed and parsed[1] == lid) or str(value) in (str(lid), loc.name):
            return loc
    raise ControlError(404, f"unknown location {value!r} in {shop.myshopify_domain}")


def _item(sb: ShopifySandbox, shop: Shop, sku_or_gid: str) -> InventoryItem:
    """An inventory item by SKU, or by its own, its variant's GID."""
    w = sb.world
    parsed = parse_gid(sku_or_gid)
    for variant in w.shop_variants(shop.id):
        item = w.inventory_items[variant.inventory_item_id]
        if variant.sku == sku_or_gid or (
            parsed and (parsed == ("ProductVariant", variant.id) or parsed == ("InventoryItem", item.id))
        ):
            return item
    raise ControlError(404, f"unknown SKU {sku_or_gid!r} in {shop.myshopify_domain}")


# -------------------------------------------------------------------------------------------------- shops
def create_shop(sb: ShopifySandbox, body: dict[str, Any]) -> Shop:
    """POST /sandbox/shops: a shop of its own for a test or a demo, seeded like the default shops (seed.add_shop)."""
    name = str(body.get("name") or "").strip()
    if not name:
        raise ControlError(400, "name is required")
    domain = str(body.get("domain") or "").strip().lower()
    if not MYSHOPIFY_DOMAIN.fullmatch(domain):
        raise ControlError(400, f"domain {domain!r} is not a myshopify domain like my-store.myshopify.com")
    if sb.world.shop_by_domain(domain) is not None:
        raise ControlError(409, f"{domain} is taken")
    currency = str(body.get("currency") or "USD").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ControlError(400, f"currency {currency!r} is not an ISO 4217 code")
    timezone = str(body.get("timezone") or "America/New_York").strip()
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ControlError(400, f"timezone {timezone!r} is not an IANA time zone") from exc
    orders = int(body.get("orders", sb.config.orders_per_shop))
    if not 0 <= orders <= MAX_SEEDED_ORDERS:
        raise ControlError(400, f"orders must be between 0 and {MAX_SEEDED_ORDERS}")
    seed_value = body.get("seed")
    return seed.add_shop(
        sb.world,
        sb.clock.now(),
        name=name,
        domain=domain,
        currency=currency,
        timezone=timezone,
        orders=orders,
        seed=None if seed_value is None else int(seed_value),
    )


# -------------------------------------------------------------------------------------------------- orders
def place_order(sb: ShopifySandbox, body: dict[str, Any]) -> Order:
    """A buyer's order: `lines` [{sku, quantity, location?}] (random lines when absent), routed to a location that
    stocks each SKU; `available` drops and `committed` rises there; orders/create and the routing webhooks fire.
    `state` (partial, fulfilled, cancelled, edited, on_hold, scheduled) then moves it on as the merchant would."""
    w = sb.world
    shop = _shop(sb, body.get("shop"))
    now = sb.clock.now()
    rng = random.Random(f"{sb.config.seed}:{len(w.orders)}")
    raw_lines = body.get("lines") or []
    if raw_lines:
        lines = [(str(li["sku"]), int(li.get("quantity", 1))) for li in raw_lines]
        for sku, _ in lines:
            if w.variant_by_sku(shop.id, sku) is None:
                raise ControlError(404, f"unknown SKU {sku!r} in {shop.myshopify_domain}")
    else:
        picked = rng.sample(w.shop_variants(shop.id), rng.randint(1, 3))
        lines = [(v.sku, rng.randint(1, 3)) for v in picked]
        raw_lines = [{} for _ in lines]
    locations = []
    for (sku, qty), spec in zip(lines, raw_lines, strict=True):
        wanted = spec.get("location") or body.get("location")
        location_id = _location(sb, shop, wanted).id if wanted else seed.pick_location(w, shop, sku, qty)
        item = w.inventory_items[w.variant_by_sku(shop.id, sku).inventory_item_id]  # type: ignore[union-attr]
        if location_id not in item.levels:
            raise ControlError(409, f"{sku} is not stocked at {w.locations[location_id].name}")
        locations.append(location_id)
    order = seed.create_order(w, shop, now, rng, lines=lines, locations=locations, email=body.get("email"))
    ops.order_placed(w, order, now)
    state = body.get("state")
    if state:
        apply_live_state(sb, order, str(state), now)
    return order


def apply_live_state(sb: ShopifySandbox, order: Order, state: str, now: float) -> None:
    w = sb.world
    first = order.line_items[0]
    first_fo = w.fulfillment_orders[order.fulfillment_order_ids[0]]
    if state in ("open", "split"):
        return
    if state == "partial":
        if sum(li.current_quantity for li in order.line_items) < 2:
            raise ControlError(400, "a partially fulfilled order needs at least two units")
        fo = w.fulfillment_orders[first.fulfillment_order_id]
        qty = max(1, first.current_quantity - 1) if len(order.line_items) == 1 else first.current_quantity
        ops.fulfil(w, order, [(fo, first, qty)], seed.seed_tracking(order, 1), now, origin="admin")
    elif state == "fulfilled":
        for n, fo_id in enumerate(order.fulfillment_order_ids, start=1):
            fo = w.fulfillment_orders[fo_id]
            quantities = [(fo, li, order.remaining(li)) for li in w.fo_lines(fo) if order.remaining(li)]
            ops.fulfil(w, order, quantities, seed.seed_tracking(order, n), now, origin="admin")
    elif state == "cancelled":
        ops.cancel(w, order, "CUSTOMER", now)
    elif state == "edited":
        if first.current_quantity < 2:
            raise ControlError(400, "an edit removes one unit of the first line, which needs at least two")
        ops.remove_units(w, order, first, 1, now)
        order.financial_status = "PARTIALLY_REFUNDED"
        ops.order_updated(w, order, now)
    elif state == "on_hold":
        ops.hold(w, first_fo, "OTHER", None, now)
    elif state == "scheduled":
        ops.schedule(w, first_fo, now + DAY, now)
    else:
        raise ControlError(400, f"unknown order state {state!r}")


def update_order(sb: ShopifySandbox, order: Order, body: dict[str, Any], now: float) -> None:
    """The merchant edits the order: `fulfill` {sku: n} (fulfilled in the admin, with `tracking` {company, number,
    url}), `remove` {sku: n} (an order edit, restocked), `shipping_address`, `financial_status`."""
    w = sb.world
    by_sku = {li.sku: li for li in order.line_items}
    emitted = False
    if body.get("fulfill"):
        if order.cancelled_at is not None:
            raise ControlError(409, "order is cancelled")
        t = body.get("tracking") or {}
        tracking = [Tracking(t.get("company"), t.get("number"), t.get("url"))] if t else []
        per_location: dict[int, list[tuple[FulfillmentOrder, LineItem, int]]] = {}
        for sku, qty in body["fulfill"].items():
            li = by_sku[sku]
            fo = w.fulfillment_orders[li.fulfillment_order_id]
            n = min(int(qty), order.remaining(li))
            if n > 0 and w.fo_status(fo) in ("OPEN", "IN_PROGRESS"):
                per_location.setdefault(fo.location_id, []).append((fo, li, n))
        for quantities in per_location.values():
            ops.fulfil(w, order, quantities, tracking, now, origin="admin")
            emitted = True
    changed = False
    for sku, qty in (body.get("remove") or {}).items():
        changed = ops.remove_units(w, order, by_sku[sku], int(qty), now) > 0 or changed
    if "shipping_address" in body:
        a = body["shipping_address"]
        order.shipping_address = Address(
            name=a["name"],
            address1=a["address1"],
            city=a["city"],
            province_code=a.get("province_code", ""),
            zip=a.get("zip", ""),
            country_code=a.get("country_code", "US"),
            company=a.get("company"),
            address2=a.get("address2"),
            phone=a.get("phone"),
        )
        changed = True
    if "financial_status" in body:
        order.financial_status = str(body["financial_status"])
        changed = True
    if changed or not emitted:
        ops.order_updated(w, order, now)
    order.updated_at = now


# -------------------------------------------------------------------------------------------------- inventory
def set_stock(sb: ShopifySandbox, item: InventoryItem, location: Location, body: dict[str, Any], now: float) -> None:
    """The merchant counts stock: absolute quantities by name (`available`, `committed`, `incoming`, ...,
    or `on_hand`, which moves available); `stocked` false stops stocking the item there, true starts."""
    w = sb.world
    shop_id = location.shop_id
    if body.get("stocked") is False:
        item.levels.pop(location.id, None)
        return
    if location.id not in item.levels:
        if body.get("stocked") is not True:
            raise ControlError(409, f'{item.sku} is not stocked at {location.name}; send "stocked": true')
        item.levels[location.id] = Level(created_at=now, updated_at=now)
    level = item.levels[location.id]
    deltas: dict[str, int] = {}
    for name in SETTABLE_NAMES:
        if name in body:
            deltas[name] = int(body[name]) - level.get(name)
    if "on_hand" in body:
        deltas["available"] = deltas.get("available", 0) + int(body["on_hand"]) - level.on_hand
    changes = ops.move(w, item, location.id, deltas, now)
    ops.record(w, shop_id, str(body.get("reason", "correction")), changes, now, "control")


# -------------------------------------------------------------------------------------------------- app lifecycle
def uninstall(sb: ShopifySandbox, shop: Shop) -> dict[str, Any]:
    """The merchant uninstalls the app: app/uninstalled, the tokens stop working (401), the app's Admin-API
    subscriptions go, and shop/redact is queued 48 h of sandbox time later (§7.5 [INFERRED])."""
    w = sb.world
    client_id = sb.config.client_id
    if not w.installed(client_id, shop.id):
        raise ControlError(409, "the app is not installed on this shop")
    w.emit("app/uninstalled", shop.id, payloads.shop_payload(shop))
    for g in w.grants:
        if g.shop_id == shop.id and g.client_id == client_id:
            g.revoked = True
    for sid in [s.id for s in w.subscriptions.values() if s.shop_id == shop.id and s.client_id == client_id]:
        del w.subscriptions[sid]
    redact_at = sb.clock.now_float() + 48 * 3600
    sb.webhooks.enqueue("shop/redact", shop.id, _shop_redact(shop), at=redact_at)
    return {"shop": shop.myshopify_domain, "uninstalled": True, "shop_redact_due": iso(redact_at)}


def _shop_redact(shop: Shop) -> dict[str, Any]:
    return {"shop_id": shop.id, "shop_domain": shop.myshopify_domain}


def privacy(sb: ShopifySandbox, kind: str, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
    """§7.5: the mandatory compliance webhooks, sent now to the app config's compliance address."""
    w = sb.world
    if kind == "shop-redact":
        w.emit("shop/redact", shop.id, _shop_redact(shop))
        return {"topic": "shop/redact", "shop": shop.myshopify_domain}
    email = str(body["email"]).strip().lower()
    order_ids = [o.id for o in w.orders.values() if o.shop_id == shop.id and (o.email or "").lower() == email]
    payload: dict[str, Any] = {
        "shop_id": shop.id,
        "shop_domain": shop.myshopify_domain,
        "customer": payloads.customer_payload(w, email),
    }
    if kind == "customers-data-request":
        topic = "customers/data_request"
        payload["orders_requested"] = order_ids
        payload["data_request"] = {"id": w.ids.next("data_request")}
    else:
        topic = "customers/redact"
        payload["orders_to_redact"] = order_ids
    w.emit(topic, shop.id, payload)
    return {"topic": topic, "shop": shop.myshopify_domain, "payload": payload}


# -------------------------------------------------------------------------------------------------- views
def describe(sb: ShopifySandbox) -> dict[str, Any]:
    return {
        "client_id": sb.config.client_id,
        "redirect_uris": sb.config.redirect_uris,
        "clock": sb.clock.describe(),
        "topics": list(ALL_TOPICS),
        "app_webhooks": sb.config.app_webhooks,
        "shops": [shop_summary(sb, s) for s in sb.world.shops.values()],
    }


def shop_summary(sb: ShopifySandbox, shop: Shop) -> dict[str, Any]:
    w = sb.world
    return {
        "id": gid("Shop", shop.id),
        "myshopify_domain": shop.myshopify_domain,
        "name": shop.name,
        "currency": shop.currency,
        "timezone": shop.timezone,
        "installed": w.installed(sb.config.client_id, shop.id),
        "order_count": sum(1 for o in w.orders.values() if o.shop_id == shop.id),
        "locations": [{"id": gid("Location", i), "name": w.locations[i].name} for i in shop.location_ids],
        "skus": [v.sku for v in w.shop_variants(shop.id)],
    }


def fo_summary(sb: ShopifySandbox, fo: FulfillmentOrder) -> dict[str, Any]:
    w = sb.world
    order = w.orders[fo.order_id]
    return {
        "id": gid("FulfillmentOrder", fo.id),
        "order_id": gid("Order", fo.order_id),
        "status": w.fo_status(fo),
        "location_id": gid("Location", fo.location_id),
        "holds": [{"reason": h.reason, "notes": h.reason_notes} for h in fo.holds],
        "updated_at": iso(fo.updated_at),
        "line_items": [
            {
                "id": gid("FulfillmentOrderLineItem", li.fulfillment_order_line_item_id),
                "line_item_id": gid("LineItem", li.id),
                "sku": li.sku,
                "total_quantity": li.current_quantity,
                "remaining_quantity": order.remaining(li),
            }
            for li in w.fo_lines(fo)
        ],
    }


def fulfillment_summary(sb: ShopifySandbox, f: Any) -> dict[str, Any]:
    w = sb.world
    order = w.orders[f.order_id]
    by_line = {li.id: li for li in order.line_items}
    return {
        "id": gid("Fulfillment", f.id),
        "name": f"{order.name}-F{f.number}",
        "status": f.status,
        "origin": f.origin,
        "created_at": iso(f.created_at),
        "location_id": gid("Location", f.location_id),
        "notify_customer": f.notify_customer,
        "tracking": [{"company": t.company, "number": t.number, "url": t.url} for t in f.tracking],
        "fulfillment_order_ids": sorted({gid("FulfillmentOrder", fl.fulfillment_order_id) for fl in f.lines}),
        "line_items": [
            {
                "sku": by_line[fl.line_item_id].sku,
                "quantity": fl.quantity,
                "line_item_id": gid("LineItem", fl.line_item_id),
                "fulfillment_order_line_item_id": gid("FulfillmentOrderLineItem", fl.fulfillment_order_line_item_id),
            }
            for fl in f.lines
        ],
    }


def order_summary(sb: ShopifySandbox, order: Order, detail: bool = False) -> dict[str, Any]:
    w = sb.world
    out: dict[str, Any] = {
        "id": gid("Order", order.id),
        "name": order.name,
        "shop": w.shops[order.shop_id].myshopify_domain,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "cancelled_at": iso(order.cancelled_at),
        "display_fulfillment_status": w.order_status(order),
        "edited": order.edited,
        "email": order.email,
        "lines": [
            {
                "sku": li.sku,
                "quantity": li.quantity,
                "current_quantity": li.current_quantity,
                "fulfilled_quantity": li.fulfilled_quantity,
                "line_item_id": gid("LineItem", li.id),
                "fulfillment_order_line_item_id": gid("FulfillmentOrderLineItem", li.fulfillment_order_line_item_id),
                "fulfillment_order_id": gid("FulfillmentOrder", li.fulfillment_order_id),
            }
            for li in order.line_items
        ],
    }
    if detail:
        out["fulfillment_orders"] = [fo_summary(sb, w.fulfillment_orders[i]) for i in order.fulfillment_order_ids]
        out["fulfillments"] = [fulfillment_summary(sb, w.fulfillments[i]) for i in order.fulfillment_ids]
    return out


def inventory_view(sb: ShopifySandbox, item: InventoryItem) -> dict[str, Any]:
    w = sb.world
    variant = w.variants[item.variant_id]
    levels = []
    for lid in sorted(item.levels):
        level = item.levels[lid]
        row: dict[str, Any] = {"location_id": gid("Location", lid), "location_name": w.locations[lid].name}
        row.update({n: level.get(n) for n in QUANTITY_NAMES})
        row["updated_at"] = iso(level.updated_at)
        levels.append(row)
    return {
        "sku": item.sku,
        "variant_id": gid("ProductVariant", variant.id),
        "inventory_item_id": gid("InventoryItem", item.id),
        "levels": levels,
    }


def _group_view(sb: ShopifySandbox, g: Any) -> dict[str, Any]:
    w = sb.world
    return {
        "id": gid("InventoryAdjustmentGroup", g.id),
        "reason": g.reason,
        "source": g.source,
        "reference_document_uri": g.reference_document_uri,
        "created_at": iso(g.created_at),
        "changes": [
            {
                "name": c.name,
                "delta": c.delta,
                "quantity_after": c.quantity_after,
                "sku": w.inventory_items[c.item_id].sku,
                "inventory_item_id": gid("InventoryItem", c.item_id),
                "location_id": gid("Location", c.location_id),
            }
            for c in g.changes
        ],
    }
