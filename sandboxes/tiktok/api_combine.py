"""Combined and split packages: Search Combinable Packages, Combine Package, Uncombine Packages, Get Order Split
Attributes, Split Orders — plus the rule Create Packages / Eligible Service / Ship Package follow for an order whose
lines already sit in a not-yet-shipped package (combined or split).

Rules, from fulfillment-api-overview "Consolidate order fulfillment policy" and the five specs (guesses are listed in
docs/platforms/tiktok-sandbox.md): orders combine when they belong to one shop, one buyer, one recipient (name and
address), one warehouse, one delivery option and shipping type, are AWAITING_SHIPMENT with nothing shipped or
labelled, are not split, not FBT, and have no pending after-sale request; at most 20 orders per package ("A single
tracking number can be used to ship a maximum of 20 orders"). An order splits when it is awaiting shipment with
nothing shipped, holds at least two items, is not combined, not already split and has no after-sale request.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from . import data as ref
from .api_orders import decode_token, encode_token, page_size_param
from .errors import ApiError
from .gateway import Request
from .state import LineItem, Order, Package, World

if TYPE_CHECKING:
    from .app import TikTokSandbox

# The split/combine specs' own invalid-parameter code (Uncombine Packages, Split Orders); used for the three
# sibling endpoints whose specs list none.
INVALID = 21011005
MAX_COMBINED_ORDERS = 20  # fulfillment-api-overview: "a maximum of 20 orders" per tracking number
MAX_ITEMS_PER_PACKAGE = 20  # guess: Get Order Split Attributes' TOTAL_COUNT_LIMITATION max_count
# Split Orders: item-level splits (units of one SKU in different packages) in EU, JP, UK, US; elsewhere all units
# of a SKU stay together (21011036).
ITEM_LEVEL_SPLIT_REGIONS = frozenset({"US", "GB", "DE", "FR", "IT", "ES", "IE", "JP"})

MSG_AFTER_SALE = "Package item has after-sale request, please process the after-sale request first."
MSG_NOT_ALLOWED = "fulfillment not allow combine package"


# ---------------------------------------------------------------------- shared rules
def open_package(world: World, li: LineItem) -> Package | None:
    """The not-yet-shipped, not-cancelled package holding this line (combine/split/uncombine made it)."""
    if not li.package_id:
        return None
    p = world.packages.get(li.package_id)
    if p is None or p.shipped or p.status == "CANCELLED":
        return None
    return p


def _recipient_key(o: Order) -> tuple[str, ...]:
    a = o.address
    return (a.name, a.line1, a.line2, a.city, a.state_code, a.postal_code, a.region_code)


def combine_key(o: Order) -> tuple[str, ...]:
    return (o.shop_id, o.user_id, *_recipient_key(o), o.warehouse_id, o.delivery_option_id, o.shipping_type)


def _us_seller_shipping(world: World, o: Order) -> bool:
    """US seller-shipping orders split and consolidate "in shipping" (Mark Package As Shipped per order and lines)."""
    return o.shipping_type == "SELLER" and world.shops[o.shop_id].is_us


def combine_refusal(world: World, o: Order) -> tuple[int, str] | None:
    """Why this order cannot go into a combined package now (code, message), or None."""
    if o.is_buyer_request_cancel:
        return 21011007, MSG_AFTER_SALE
    for pid in o.package_ids:
        p = world.packages[pid]
        if p.is_combined and p.status != "CANCELLED":
            return 21011033, "order already combined"
    if o.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        return 21008025, "Seller cannot operate orders which are fulfilled by platform"
    if _us_seller_shipping(world, o):
        return 10007014, f"{MSG_NOT_ALLOWED}: US seller shipping consolidates with Mark Package As Shipped"
    if o.status != "AWAITING_SHIPMENT":
        return 10007014, f"{MSG_NOT_ALLOWED}: the order is {o.status}"
    live = [world.packages[p] for p in o.package_ids if world.packages[p].status != "CANCELLED"]
    if any(p.shipped for p in live):
        return 10007014, f"{MSG_NOT_ALLOWED}: the order is already shipped"
    if len(live) > 1 or any(p.split_and_combine_tag == "SPLIT" for p in live):
        return 10007014, f"{MSG_NOT_ALLOWED}: the order is split"
    return None


def split_refusal(world: World, o: Order) -> tuple[int, str] | None:
    """Why this order cannot be split now (code, reason), or None."""
    if o.status == "CANCELLED":
        return 21011035, "Order has been canceled"
    if o.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        return 21011035, "Order is fulfilled by TikTok"
    if _us_seller_shipping(world, o):
        return 21011035, "US seller shipping splits with Mark Package As Shipped"
    if o.status in ("UNPAID", "ON_HOLD"):
        return 21011035, f"Order is {o.status} and cannot be fulfilled yet"
    if o.status != "AWAITING_SHIPMENT":
        return 21011035, "Order has been shipped"
    if o.is_buyer_request_cancel:
        return 21011007, "Order has an after-sale request"
    live = [world.packages[p] for p in o.package_ids if world.packages[p].status != "CANCELLED"]
    if any(p.is_combined for p in live):
        return 21011046, "Order has combine, not allow split order"
    if any(p.shipped for p in live):
        return 21011035, "Order has been shipped"
    if len(live) > 1 or any(p.split_and_combine_tag == "SPLIT" for p in live):
        return 21011035, "Order has already been split"
    if len([li for li in o.line_items if li.package_status != "CANCELLED"]) < 2:
        return 21011035, "Order has only one item"
    return None


def resolve_purchase(world: World, o: Order, lines: list[LineItem], line_ids_given: bool) -> Package | None:
    """Create Packages / Eligible Service on an order whose lines sit in an open (combined or split) package.

    Returns the open package the label is for (its lines across every order), or None when no chosen line is in
    one (then the caller makes a new package, as before). Refusals: lines of several open packages without
    ``order_line_item_ids`` → 21011048; lines crossing packages or part of one → 21011035; part of a combined
    package's order → 21011046.
    """
    open_pkgs = {p.id: p for li in lines if (p := open_package(world, li)) is not None}
    if not open_pkgs:
        return None
    if len(open_pkgs) > 1 and not line_ids_given:
        raise ApiError(
            21011048,
            "There are multiple packages that can be shipped, please specify the order line that needs to be shipped.",
        )
    loose = [li for li in lines if open_package(world, li) is None]
    pkg = next(iter(open_pkgs.values()))
    own = [li.id for li in o.line_items if li.id in set(pkg.line_item_ids)]
    if len(open_pkgs) > 1 or loose or (line_ids_given and sorted(li.id for li in lines) != sorted(own)):
        if pkg.is_combined:
            raise ApiError(21011046, "Order has combine, not allow split order")
        raise ApiError(21011035, "split order not allowed: the line items must be exactly one package's")
    return pkg


def _remove_open_packages(world: World, o: Order) -> None:
    """Drop the order's not-yet-shipped packages (they are replaced by a combined, uncombined or split one)."""
    for pid in list(o.package_ids):
        p = world.packages[pid]
        if not p.shipped and p.status != "CANCELLED":
            o.package_ids.remove(pid)
            if not p.is_combined:
                world.packages.pop(pid, None)
    for li in o.line_items:
        if li.package_id and li.package_id not in o.package_ids:
            li.package_id = ""


def _new_open_package(world: World, orders: list[Order], lines: list[LineItem], now: int, tag: str) -> Package:
    first = orders[0]
    pkg = Package(
        id=world.ids.next("package"),
        shop_id=first.shop_id,
        order_id=first.id,
        line_item_ids=[li.id for li in lines],
        shipping_type=first.shipping_type,
        status="PROCESSING",
        create_time=now,
        update_time=now,
        order_ids=[o.id for o in orders],
        split_and_combine_tag=tag,
    )
    shop = world.shops[first.shop_id]
    if not shop.is_us and first.shipping_type == "TIKTOK":
        # Non-US TikTok Shipping packages carry their carrier before shipping (as World._create_row_packages).
        pkg.shipping_provider_id, pkg.shipping_provider_name = ref.UK_PROVIDERS[int(first.id) % len(ref.UK_PROVIDERS)]
    world.packages[pkg.id] = pkg
    for o in orders:
        o.package_ids.append(pkg.id)
    for li in lines:
        li.package_id = pkg.id
    return pkg


def _live_lines(o: Order) -> list[LineItem]:
    return [li for li in o.line_items if li.package_status != "CANCELLED"]


def _touch_all(world: World, orders: list[Order], now: int) -> None:
    for o in orders:
        world.touch(o, now)


def _shop_order(world: World, shop_id: str, order_id: str) -> Order | None:
    o = world.orders.get(order_id)
    return o if o is not None and o.shop_id == shop_id else None


# ---------------------------------------------------------------------- Search Combinable Packages
def combinable_groups(world: World, shop_id: str) -> list[list[Order]]:
    """Every group of two or more orders that may ship together now, oldest first, at most 20 orders each."""
    by_key: dict[tuple[str, ...], list[Order]] = {}
    for _, oid in world.index[shop_id].by_create_status["AWAITING_SHIPMENT"]:
        o = world.orders[str(oid)]
        if combine_refusal(world, o) is None:
            by_key.setdefault(combine_key(o), []).append(o)
    groups = []
    for orders in by_key.values():
        for i in range(0, len(orders), MAX_COMBINED_ORDERS):
            chunk = orders[i : i + MAX_COMBINED_ORDERS]
            if len(chunk) > 1:
                groups.append(chunk)
    groups.sort(key=lambda g: int(g[0].id))
    return groups


def _pre_package_id(world: World, shop_id: str, orders: list[Order]) -> str:
    key = (shop_id, *sorted(o.id for o in orders))
    pid = world.pre_package_by_key.get(key)
    if pid is None:
        pid = world.ids.next("pre_package")
        world.pre_package_by_key[key] = pid
        world.pre_packages[pid] = {"shop_id": shop_id, "order_ids": [o.id for o in orders]}
    return pid


def search_combinable_packages(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    page_size = page_size_param(req, 1, 50, INVALID)
    groups = combinable_groups(world, req.shop.id)
    start = 0
    token = req.query.get("page_token")
    filter_hash = hashlib.sha256(json.dumps(["combinable", req.shop.id]).encode()).hexdigest()[:16]
    if token:
        cur = decode_token(token, INVALID)
        if cur.get("h") != filter_hash or not isinstance(cur.get("o"), int):
            raise ApiError(INVALID, "Invalid page_token: it does not belong to this search.")
        start = cur["o"]
    page = groups[start : start + page_size]
    more = start + page_size < len(groups)
    return {
        "combinable_packages": [
            {"id": _pre_package_id(world, req.shop.id, g), "order_ids": [o.id for o in g]} for g in page
        ],
        "next_page_token": encode_token({"h": filter_hash, "o": start + page_size}) if more else "",
        # "The number of orders that meet the query conditions" (spec): orders, not packages.
        "total_count": sum(len(g) for g in groups),
    }


# ---------------------------------------------------------------------- Combine Package
def _combine_one(sb: TikTokSandbox, shop_id: str, item: dict[str, Any]) -> tuple[Package | None, dict[str, Any]]:
    world = sb.world
    pre_id = item["id"]
    err = {"detail": {"package_id": pre_id}}
    pre = world.pre_packages.get(pre_id)
    if pre is None or pre["shop_id"] != shop_id:
        return None, {
            "code": 21011028,
            "message": "The package does not belong to the current shop. Please ensure you are providing the "
            "correct package ID(s) and/or shop cipher.",
            **err,
        }
    order_ids = item.get("order_ids") or list(pre["order_ids"])
    order_ids = list(dict.fromkeys(order_ids))
    if any(oid not in pre["order_ids"] for oid in order_ids):
        return None, {
            "code": 21011031,
            "message": "Order does not belong to pre_pkg. Please ensure you are providing the correct order ID(s).",
            **err,
        }
    orders = [world.orders[oid] for oid in order_ids]
    for o in orders:
        refusal = combine_refusal(world, o)
        if refusal is not None:
            return None, {"code": refusal[0], "message": f"{refusal[1]} (order {o.id})", **err}
    if len(orders) < 2:
        return None, {"code": 10007014, "message": f"{MSG_NOT_ALLOWED}: at least two orders are needed", **err}
    if len({combine_key(o) for o in orders}) > 1:
        return None, {"code": 10007014, "message": f"{MSG_NOT_ALLOWED}: the orders no longer match", **err}
    if len(orders) > MAX_COMBINED_ORDERS:
        return None, {
            "code": 10007014,
            "message": f"{MSG_NOT_ALLOWED}: at most {MAX_COMBINED_ORDERS} orders per package",
            **err,
        }
    now = sb.clock.now()
    for o in orders:
        _remove_open_packages(world, o)
    lines = [li for o in orders for li in _live_lines(o)]
    pkg = _new_open_package(world, orders, lines, now, "COMBINE")
    _touch_all(world, orders, now)
    world.emit_package_update("COMBINE", "ROLE_SELLER", [pkg], now)
    return pkg, {}


def combine_package(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    body = req.body_obj()
    items = body.get("combinable_packages")
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] for i in items)
    ):
        raise ApiError(INVALID, "Invalid parameters: combinable_packages[].id is required.")
    for i in items:
        ids = i.get("order_ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(x, str) and x for x in ids)):
            raise ApiError(INVALID, "Invalid parameters: order_ids must be a list of order id strings.")
    packages, errors = [], []
    for item in items:
        pkg, error = _combine_one(sb, req.shop.id, item)
        if pkg is not None:
            packages.append({"id": pkg.id, "order_ids": list(pkg.all_order_ids)})
        else:
            errors.append(error)
    return {"packages": packages, "errors": errors}


# ---------------------------------------------------------------------- Uncombine Packages
def uncombine_packages(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    body = req.body_obj()
    pkg = world.packages.get(req.path_params.get("package_id", ""))
    if pkg is None or pkg.shop_id != req.shop.id:
        raise ApiError(
            21011028,
            "The package does not belong to the current shop. Please ensure you are providing the correct package "
            "ID and/or shop cipher.",
        )
    ids = body.get("order_ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(x, str) and x for x in ids)):
        raise ApiError(INVALID, "Invalid parameters: order_ids must be a list of order id strings.")
    if not pkg.is_combined:
        raise ApiError(INVALID, "Invalid parameters: the package is not a combined package.")
    members = list(pkg.all_order_ids)
    remove = list(dict.fromkeys(ids)) if ids else list(members)
    unknown = [x for x in remove if x not in members]
    if unknown:
        raise ApiError(21011029, f"order does not belong to fulfill unit: {unknown}")
    if pkg.shipped:
        raise ApiError(21022025, "A shipping label has already been purchased.")
    if pkg.status == "CANCELLED":
        raise ApiError(INVALID, "Invalid parameters: the package is cancelled.")
    now = sb.clock.now()
    keep = [x for x in members if x not in remove]
    if len(keep) == 1:  # one order left alone is not a combined package: it gets its own package too
        remove, keep = members, []
    out: list[Package] = []
    if keep:
        kept = [world.orders[x] for x in keep]
        pkg.order_ids, pkg.order_id = keep, keep[0]
        pkg.line_item_ids = [li.id for o in kept for li in _live_lines(o)]
        pkg.update_time = now
        out.append(pkg)
    else:
        world.packages.pop(pkg.id, None)
    for oid in remove:
        o = world.orders[oid]
        o.package_ids = [p for p in o.package_ids if p != pkg.id]
        for li in o.line_items:
            if li.package_id == pkg.id:
                li.package_id = ""
        out.append(_new_open_package(world, [o], _live_lines(o), now, "DEFAULT"))
    _touch_all(world, [world.orders[x] for x in members], now)
    world.emit_package_update("CANCEL_COMBINE", "ROLE_SELLER", out, now)
    return {"packages": [{"id": p.id, "order_ids": list(p.all_order_ids)} for p in out]}


# ---------------------------------------------------------------------- Get Order Split Attributes
def _order_ids_query(req: Request) -> list[str]:
    raw = req.query.get("order_ids", "")
    ids: Any
    if raw.startswith("["):
        try:
            ids = json.loads(raw)
        except ValueError as exc:
            raise ApiError(INVALID, "Invalid parameters: order_ids.") from exc
    else:
        ids = [x.strip() for x in raw.split(",") if x.strip()]
    if not isinstance(ids, list) or not ids or not all(isinstance(x, str) and x for x in ids) or len(ids) > 50:
        raise ApiError(INVALID, "Invalid parameters: order_ids is required (1 to 50 order ids).")
    return ids


def order_split_attributes(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    out = []
    for oid in _order_ids_query(req):
        o = _shop_order(world, req.shop.id, oid)
        if o is None:
            out.append({"order_id": oid, "can_split": False, "reason": "Order not found", "must_split": False})
            continue
        refusal = split_refusal(world, o)
        entry: dict[str, Any] = {"order_id": o.id, "can_split": refusal is None}
        if refusal is not None:
            entry["reason"] = refusal[1]
        count = len(_live_lines(o))
        must = refusal is None and count > MAX_ITEMS_PER_PACKAGE
        entry["must_split"] = must
        if must:
            entry["must_split_reasons"] = [{"type": "TOTAL_COUNT_LIMITATION", "max_count": str(MAX_ITEMS_PER_PACKAGE)}]
        out.append(entry)
    return {"split_attributes": out}


# ---------------------------------------------------------------------- Split Orders
def split_orders(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    o = _shop_order(world, req.shop.id, req.path_params.get("order_id", ""))
    if o is None:
        raise ApiError(21011029, "order does not belong to fulfill unit")
    groups = req.body_obj().get("splittable_groups")
    if (
        not isinstance(groups, list)
        or len(groups) < 2
        or not all(
            isinstance(g, dict)
            and isinstance(g.get("id"), str)
            and g["id"]
            and isinstance(g.get("order_line_item_ids"), list)
            and g["order_line_item_ids"]
            and all(isinstance(x, str) and x for x in g["order_line_item_ids"])
            for g in groups
        )
    ):
        raise ApiError(
            INVALID,
            "Invalid parameters: splittable_groups needs at least two groups, each with an id and order_line_item_ids.",
        )
    if len({g["id"] for g in groups}) != len(groups):
        raise ApiError(INVALID, "Invalid parameters: splittable group ids must be unique.")
    refusal = split_refusal(world, o)
    if refusal is not None:
        code, reason = refusal
        raise ApiError(code, MSG_AFTER_SALE if code == 21011007 else f"split order not allowed: {reason}")
    live = {li.id: li for li in _live_lines(o)}
    seen: list[str] = [x for g in groups for x in g["order_line_item_ids"]]
    if len(seen) != len(set(seen)) or set(seen) != set(live):
        raise ApiError(
            INVALID,
            "Invalid parameters: every order line item of the order must be in exactly one splittable group.",
        )
    if len(groups) > len(live):
        raise ApiError(INVALID, "Invalid parameters: more groups than items.")
    if any(len(g["order_line_item_ids"]) > MAX_ITEMS_PER_PACKAGE for g in groups):
        raise ApiError(21011035, f"split order not allowed: at most {MAX_ITEMS_PER_PACKAGE} items per package")
    if world.shops[o.shop_id].region not in ITEM_LEVEL_SPLIT_REGIONS:
        sku_groups: dict[str, set[str]] = {}
        for g in groups:
            for x in g["order_line_item_ids"]:
                sku_groups.setdefault(live[x].sku_id, set()).add(g["id"])
        if any(len(v) > 1 for v in sku_groups.values()):
            raise ApiError(21011036, "split same sku in Multi Package not allow.")
    now = sb.clock.now()
    _remove_open_packages(world, o)
    out = []
    made = []
    for g in groups:
        pkg = _new_open_package(world, [o], [live[x] for x in g["order_line_item_ids"]], now, "SPLIT")
        made.append(pkg)
        out.append({"splittable_group_id": g["id"], "id": pkg.id})
    world.touch(o, now)
    world.emit_package_update("SPLIT", "ROLE_SELLER", made, now)
    return {"packages": out}
