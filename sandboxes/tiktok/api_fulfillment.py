"""Fulfillment APIs: TikTok Shipping label purchase (US), Ship Package (non-US), documents, packages, tracking,
seller-shipping tracking upload and correction."""

from __future__ import annotations

import hashlib
import json
import math
import re
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any

from . import api_combine
from . import data as ref
from .api_orders import decode_token, encode_token, page_size_param, sort_params
from .documents import DOC_PATH_PREFIX, DOCUMENT_TYPES, SUPPORTED_TYPES
from .errors import ApiError
from .gateway import Request
from .state import HOUR, LabelRecord, LineItem, Order, Package, Shop, World

if TYPE_CHECKING:
    from .app import TikTokSandbox

INVALID = 21001001
GRAMS_PER_LB = 453.59237
CM_PER_IN = 2.54
MAX_LB = 150.0
MAX_LONGEST_IN = 108.0
MAX_LENGTH_GIRTH_IN = 165.0
SHIPPING_INFO_UPDATE_WINDOW = 72 * HOUR


# ---------------------------------------------------------------------- helpers
def _order(sb: TikTokSandbox, req: Request, code: int = 21011029) -> Order:
    assert req.shop is not None
    oid = req.path_params.get("order_id") or str(req.body_obj().get("order_id") or "")
    o = sb.world.orders.get(oid)
    if o is None or o.shop_id != req.shop.id:
        raise ApiError(
            code,
            "order does not belong to fulfill unit"
            if code == 21011029
            else "The order or package does not belong to the current seller.",
        )
    return o


def _package(sb: TikTokSandbox, req: Request, pid: str | None = None) -> Package:
    assert req.shop is not None
    pid = pid if pid is not None else req.path_params.get("package_id", "")
    p = sb.world.packages.get(pid)
    if p is None or p.shop_id != req.shop.id:
        raise ApiError(21008111, "The order or package does not belong to the current seller.")
    return p


def _str_list(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ApiError(INVALID, f"Invalid parameters: {key} must be a list of id strings.")
    return value


def _num(value: Any, what: str) -> float:
    try:
        n = float(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(INVALID, f"Invalid parameters: {what} must be a numeric string.") from exc
    if not math.isfinite(n) or n <= 0:
        raise ApiError(INVALID, f"Invalid parameters: {what} must be positive.")
    return n


def parse_weight(body: dict[str, Any]) -> float | None:
    w = body.get("weight")
    if w is None:
        return None
    if not isinstance(w, dict) or w.get("unit") not in ("GRAM", "POUND"):
        raise ApiError(INVALID, "Invalid parameters: weight needs value and unit (GRAM | POUND).")
    value = _num(w.get("value"), "weight.value")
    return value / GRAMS_PER_LB if w["unit"] == "GRAM" else value


def parse_dimension(body: dict[str, Any]) -> tuple[float, float, float] | None:
    d = body.get("dimension")
    if d is None:
        return None
    if not isinstance(d, dict) or d.get("unit") not in ("CM", "INCH"):
        raise ApiError(INVALID, "Invalid parameters: dimension needs length, width, height and unit (CM | INCH).")
    if any(d.get(k) is None for k in ("length", "width", "height")):
        raise ApiError(INVALID, "Invalid parameters: length, width and height must be passed together.")
    vals = tuple(_num(d[k], f"dimension.{k}") for k in ("length", "width", "height"))
    factor = 1 / CM_PER_IN if d["unit"] == "CM" else 1.0
    return (vals[0] * factor, vals[1] * factor, vals[2] * factor)


def _default_weight_dims(world: World, lines: list[LineItem]) -> tuple[float, tuple[float, float, float]]:
    skus = [world.skus[li.sku_id] for li in lines]
    weight = sum(s.weight_lb for s in skus) + 0.1  # plus packaging
    length = max(s.dims_in[0] for s in skus)
    width = max(s.dims_in[1] for s in skus)
    height = sum(s.dims_in[2] for s in skus)
    return weight, (length, width, height)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _validate_tracking(provider_name: str, tracking: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9]+", tracking):
        raise ApiError(21004012, "Tracking number has special characters, verify failed.")
    patterns = {
        "USPS": r"\d{20,22}|[A-Z]{2}\d{9}US",
        "UPS": r"1Z[0-9A-Z]{16}",
        "FedEx": r"\d{12}|\d{15}|\d{20}",
        "Royal Mail": r"[A-Z]{2}\d{9}GB",
        "Evri": r"[A-Z0-9]{16}",
    }
    pattern = patterns.get(provider_name)
    if pattern and not re.fullmatch(pattern, tracking):
        raise ApiError(21004015, "Tracking number mismatch provider.")


def _provider_for_order(world: World, o: Order, provider_id: str) -> tuple[str, str]:
    opt = world.delivery_options.get(o.delivery_option_id)
    providers = opt.providers if opt else []
    for pid, name in providers:
        if pid == provider_id:
            return pid, name
    raise ApiError(21011022, "Invalid tracking number or provider ID. Please double check and try again.")


# ---------------------------------------------------------------------- quoting (US TikTok Shipping)
def _purchasable_lines(
    sb: TikTokSandbox, o: Order, shop: Shop, line_ids: list[str] | None, for_purchase: bool
) -> list[LineItem]:
    if not shop.is_us:
        raise ApiError(21008106, "This interface cannot be used in this region.")
    if o.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        raise ApiError(21008025, "Seller cannot operate orders which are fulfilled by platform")
    if o.shipping_type != "TIKTOK":
        raise ApiError(
            21011012,
            "not match trade rule: this order uses seller shipping; use Mark Package As "
            "Shipped with your own tracking number.",
        )
    if o.status == "CANCELLED":
        raise ApiError(21011003, "fulfill_unit action not allowed: the order is cancelled.")
    if o.status in ("UNPAID", "ON_HOLD"):
        raise ApiError(21011003, f"fulfill_unit action not allowed: the order is {o.status}.")
    if o.status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
        raise ApiError(21011006, "These orders are already shipped.")
    if o.is_buyer_request_cancel:
        raise ApiError(21011007, "Package item has after-sale request, please process the after-sale request first.")
    by_id = {li.id: li for li in o.line_items}
    if line_ids is not None:
        unknown = [i for i in line_ids if i not in by_id]
        if unknown or not line_ids:
            raise ApiError(21011029, f"order does not belong to fulfill unit: unknown order_line_item_ids {unknown}")
        lines = [by_id[i] for i in dict.fromkeys(line_ids)]
    else:
        lines = [li for li in o.line_items if li.package_status == "TO_FULFILL"]
        if not lines:
            lines = [li for li in o.line_items if li.package_id]
    # Lines in a package combine/split made but not yet shipped are purchasable (api_combine.resolve_purchase).
    packaged = [li for li in lines if li.package_id and api_combine.open_package(sb.world, li) is None]
    if packaged:
        if for_purchase:
            raise ApiError(21022025, "A shipping label has already been purchased.")
        raise ApiError(21011006, "These orders are already shipped.")
    return lines


def _open_target(world: World, o: Order, lines: list[LineItem], line_ids_given: bool) -> Package | None:
    """The open combined/split package these lines belong to (the label covers all of it), or None."""
    target = api_combine.resolve_purchase(world, o, lines, line_ids_given)
    if target is not None:
        for member, _ in world.package_members(target):
            if member.is_buyer_request_cancel:
                raise ApiError(
                    21011007, "Package item has after-sale request, please process the after-sale request first."
                )
    return target


def quote(
    world: World, o: Order, lines: list[LineItem], weight_lb: float | None, dims: tuple[float, float, float] | None
) -> tuple[float, tuple[float, float, float], list[dict[str, Any]]]:
    default_w, default_d = _default_weight_dims(world, lines)
    w = weight_lb if weight_lb is not None else default_w
    d = dims if dims is not None else default_d
    a = o.address
    if a.bad_reason in ("unknown_postal", "missing_line1") or not a.line1:
        raise ApiError(11021012, "illegal address")
    longest = max(d)
    girth = 2 * (sum(d) - longest)
    if w > MAX_LB or longest > MAX_LONGEST_IN or longest + girth > MAX_LENGTH_GIRTH_IN:
        raise ApiError(11021014, "product oversize")
    billable = max(1, math.ceil(w))
    services = []
    for sid, name, prov_id, prov, base, per_lb, max_lb, po_ok, dmin, dmax in ref.US_SERVICES:
        if w > max_lb or (a.bad_reason == "po_box" and not po_ok):
            continue
        services.append(
            {
                "id": sid,
                "name": name,
                "price": f"{base + per_lb * billable:.2f}",
                "currency": "USD",
                "earliest_delivery_days": dmin,
                "latest_delivery_days": dmax,
                "is_default": False,
                "shipping_provider_name": prov,
                "shipping_provider_id": prov_id,
            }
        )
    if not services:
        raise ApiError(
            21011037,
            "There are no available shipping services for this request. Please modify the "
            "package weight, or double check the recipient address.",
        )
    cheapest = min(services, key=lambda s: float(s["price"]))
    cheapest["is_default"] = True
    shop = world.shops[o.shop_id]
    if shop.label_allocation:
        # US label allocation: exactly one service, chosen by the platform.
        services = [cheapest]
    return w, d, services


def _weight_view(w: float, unit: str = "POUND") -> dict[str, str]:
    return {"value": _fmt(w * GRAMS_PER_LB) if unit == "GRAM" else _fmt(w), "unit": unit}


def _dim_view(d: tuple[float, float, float]) -> dict[str, str]:
    return {"length": _fmt(d[0]), "width": _fmt(d[1]), "height": _fmt(d[2]), "unit": "INCH"}


def eligible_shipping_services(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    body = req.body_obj()
    o = _order(sb, req)
    line_ids = _str_list(body, "order_line_item_ids")
    weight, dims = parse_weight(body), parse_dimension(body)
    lines = _purchasable_lines(sb, o, req.shop, line_ids, for_purchase=False)
    target = _open_target(sb.world, o, lines, line_ids is not None)
    if target is not None:
        lines = [li for _, pl in sb.world.package_members(target) for li in pl]
    w, d, services = quote(sb.world, o, lines, weight, dims)
    return {
        "order_id": o.id,
        "order_line_id": [li.id for li in lines],
        "weight": _weight_view(w),
        "dimension": _dim_view(d),
        "shipping_services": services,
    }


def create_packages(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    body = req.body_obj()
    if not body.get("order_id") or not isinstance(body.get("order_id"), str):
        raise ApiError(INVALID, "Invalid parameters: order_id is required.")
    o = _order(sb, req)
    line_ids = _str_list(body, "order_line_item_ids")
    weight, dims = parse_weight(body), parse_dimension(body)
    service_id = body.get("shipping_service_id")
    if service_id is not None and not isinstance(service_id, str):
        raise ApiError(INVALID, "Invalid parameters: shipping_service_id must be a string.")
    lines = _purchasable_lines(sb, o, req.shop, line_ids, for_purchase=True)
    target = _open_target(world, o, lines, line_ids is not None)
    if target is not None:
        lines = [li for _, pl in world.package_members(target) for li in pl]
    w, d, services = quote(world, o, lines, weight, dims)
    if req.shop.label_allocation or not service_id:
        # Label allocation: shipping_service_id is ignored (README §5.0 changelog 2025-05).
        service = next(s for s in services if s["is_default"])
    else:
        found = [s for s in services if s["id"] == service_id]
        if not found:
            raise ApiError(21004008, "create label shipping service not found")
        service = found[0]
    now = sb.clock.now()
    if target is not None:  # the label is for the combined / split package as it stands
        pkg = target
        pkg.shipped, pkg.update_time = True, now
    else:
        pkg = Package(
            id=world.ids.next("package"),
            shop_id=o.shop_id,
            order_id=o.id,
            line_item_ids=[li.id for li in lines],
            shipping_type="TIKTOK",
            status="PROCESSING",
            create_time=now,
            update_time=now,
            shipped=True,
        )
    pkg.tracking_number = world.new_tracking(service["shipping_provider_name"])
    pkg.shipping_provider_id = service["shipping_provider_id"]
    pkg.shipping_provider_name = service["shipping_provider_name"]
    pkg.service = {k: v for k, v in service.items() if k != "is_default"}
    pkg.weight, pkg.dimension = _weight_view(w), _dim_view(d)
    pkg.handover_method, pkg.rts_time = "DROP_OFF", now
    pkg.tracking_events.append((now, "Shipping label created, awaiting item"))
    world.packages[pkg.id] = pkg
    if pkg.id not in o.package_ids:
        o.package_ids.append(pkg.id)
    _mark_lines(lines, pkg, now)
    world.labels.append(
        LabelRecord(
            package_id=pkg.id,
            order_id=o.id,
            shop_id=o.shop_id,
            line_item_ids=list(pkg.line_item_ids),
            service_id=service["id"],
            service_name=service["name"],
            provider=service["shipping_provider_name"],
            price=service["price"],
            currency="USD",
            tracking_number=pkg.tracking_number,
            sandbox_time=now,
            order_ids=list(pkg.all_order_ids),
        )
    )
    for member, _ in world.package_members(pkg):
        _after_shipment(world, member, now)
    return {
        "package_id": pkg.id,
        "order_id": o.id,
        "order_line_item_ids": list(pkg.line_item_ids),
        "dimension": pkg.dimension,
        "weight": pkg.weight,
        "create_time": now,
        "shipping_service_info": dict(pkg.service.items()),
    }


def _mark_lines(lines: list[LineItem], pkg: Package, now: int) -> None:
    for li in lines:
        li.package_id, li.package_status, li.tracking_number = pkg.id, "PROCESSING", pkg.tracking_number
        li.shipping_provider_id, li.shipping_provider_name, li.rts_time = (
            pkg.shipping_provider_id,
            pkg.shipping_provider_name,
            now,
        )


def _after_shipment(world: World, o: Order, now: int) -> None:
    """AWAITING_COLLECTION once every (non-cancelled) line is shipped, else PARTIALLY_SHIPPING."""
    o.rts_time = now
    pending = [
        li
        for li in o.line_items
        if li.package_status == "TO_FULFILL" or (li.package_id and not world.packages[li.package_id].shipped)
    ]
    world.set_status(o, "PARTIALLY_SHIPPING" if pending else "AWAITING_COLLECTION", now)


# ---------------------------------------------------------------------- Ship Package (non-US)
def handover_slots(sb: TikTokSandbox, pkg: Package) -> list[dict[str, Any]]:
    """Pickup slots: 09-12 and 13-17 UTC on the next three days (deterministic for a given sandbox day)."""
    now = sb.clock.now()
    day0 = now - now % 86400
    slots = []
    for day in range(1, 4):
        base = day0 + day * 86400
        slots += [
            {"start_time": base + 9 * HOUR, "end_time": base + 12 * HOUR, "avaliable": True},
            {"start_time": base + 13 * HOUR, "end_time": base + 17 * HOUR, "avaliable": True},
        ]
    return slots


def handover_time_slots(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    pkg = _package(sb, req)
    return {
        "can_pickup": True,
        "can_drop_off": True,
        "can_van_collection": req.shop.region == "GB",
        "drop_off_point_url": "https://www.royalmail.com/services-near-you"
        if req.shop.region == "GB"
        else "https://tools.usps.com/find-location.htm",
        "pickup_slots": handover_slots(sb, pkg),
    }


def _ship_one(sb: TikTokSandbox, shop: Shop, pkg: Package, spec: dict[str, Any]) -> None:
    world = sb.world
    o = world.orders[pkg.order_id]
    if shop.is_us:
        if pkg.shipped:
            raise ApiError(11006021, "Package has been shipped. Please not ship the package again.")
        raise ApiError(21008106, "This interface cannot be used in this region.")
    if o.status == "CANCELLED" or pkg.status == "CANCELLED":
        raise ApiError(21011041, "Cannot complete the operation when order is cancelled.")
    if pkg.shipped:
        raise ApiError(11006021, "Package has been shipped. Please not ship the package again.")
    if any(m.is_buyer_request_cancel for m, _ in world.package_members(pkg)):
        raise ApiError(21011007, "Package item has after-sale request, please process the after-sale request first.")
    if o.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
        raise ApiError(11001002, f"invalid param: the order is {o.status} and cannot be shipped yet.")
    method = spec.get("handover_method")
    if method is not None and method not in ("PICKUP", "DROP_OFF"):
        raise ApiError(11001002, "invalid param: handover_method must be PICKUP or DROP_OFF.")
    self_shipment = spec.get("self_shipment")
    now = sb.clock.now()
    if pkg.shipping_type == "SELLER":
        if (
            not isinstance(self_shipment, dict)
            or not self_shipment.get("tracking_number")
            or not self_shipment.get("shipping_provider_id")
        ):
            raise ApiError(
                11001002,
                "invalid param: self_shipment{tracking_number, shipping_provider_id} is "
                "required for seller shipping packages.",
            )
        prov_id, prov = _provider_for_order(world, o, str(self_shipment["shipping_provider_id"]))
        tracking = str(self_shipment["tracking_number"])
        _validate_tracking(prov, tracking)
        if world.tracking_use.get(tracking, 0) >= 1:
            raise ApiError(21011025, "Duplicate tracking number.")
        pkg.tracking_number, pkg.shipping_provider_id, pkg.shipping_provider_name = tracking, prov_id, prov
        world.tracking_use[tracking] = 1
    else:
        if self_shipment:
            raise ApiError(11001002, "invalid param: self_shipment is only for seller shipping packages.")
        slot = spec.get("pickup_slot")
        method = method or "PICKUP"
        if method == "PICKUP":
            offered = handover_slots(sb, pkg)
            if slot is None:
                slot = {"start_time": offered[0]["start_time"], "end_time": offered[0]["end_time"]}
            elif not isinstance(slot, dict) or not any(
                s["start_time"] == slot.get("start_time") and s["end_time"] == slot.get("end_time") for s in offered
            ):
                raise ApiError(
                    21011053,
                    "The shipment time is outside the pickup slot; use a slot from Get Package Handover Time Slots.",
                )
            pkg.pickup_slot = {"start_time": int(slot["start_time"]), "end_time": int(slot["end_time"])}
        pkg.tracking_number = world.new_tracking(pkg.shipping_provider_name or "Royal Mail")
    pkg.handover_method = method or "DROP_OFF"
    pkg.shipped, pkg.rts_time, pkg.update_time = True, now, now
    pkg.tracking_events.append((now, "Seller has shipped the package"))
    for member, lines in world.package_members(pkg):  # a combined package ships every order in it
        _mark_lines(lines, pkg, now)
        _after_shipment(world, member, now)


def ship_package(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    pkg = _package(sb, req)
    _ship_one(sb, req.shop, pkg, req.body_obj())
    return {}


def batch_ship_packages(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    body = req.body_obj()
    packages = body.get("packages")
    if not isinstance(packages, list) or not packages or not all(isinstance(p, dict) for p in packages):
        raise ApiError(11001002, "invalid param: packages is required.")
    errors = []
    for spec in packages:
        pid = str(spec.get("id") or "")
        try:
            _ship_one(sb, req.shop, _package(sb, req, pid), spec)
        except ApiError as exc:
            errors.append({"code": exc.code, "message": exc.message, "detail": {"package_id": pid}})
    return {"errors": errors}


# ---------------------------------------------------------------------- documents
def shipping_document(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    pkg = _package(sb, req)
    q = req.query
    doc_type = q.get("document_type")
    if doc_type not in DOCUMENT_TYPES:
        raise ApiError(
            INVALID,
            "Invalid parameters: document_type is required (SHIPPING_LABEL, PACKING_SLIP, "
            "SHIPPING_LABEL_AND_PACKING_SLIP, SHIPPING_LABEL_PICTURE, HAZMAT_LABEL, "
            "INVOICE_LABEL).",
        )
    size = q.get("document_size", "A6")
    if size not in ("A6", "A5"):
        raise ApiError(INVALID, "Invalid parameters: document_size must be A6 or A5.")
    fmt = q.get("document_format", "PDF")
    if fmt not in ("PDF", "ZPL"):
        raise ApiError(INVALID, "Invalid parameters: document_format must be PDF or ZPL.")
    if fmt == "ZPL" and req.shop.region != "BR":
        raise ApiError(INVALID, "Invalid parameters: ZPL format is only supported in the BR market.")
    o = world.orders[pkg.order_id]
    if o.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        raise ApiError(21008043, "This package is fulfilled by TikTok. Shipping documents cannot be printed.")
    if pkg.shipping_type != "TIKTOK":
        raise ApiError(
            11034002,
            "This API is only applicable to TikTok Shipping orders. For seller shipping, "
            "please obtain the shipping label offline.",
        )
    if pkg.status == "CANCELLED":
        raise ApiError(21023059, "Package has already been cancelled.")
    if not pkg.shipped:
        raise ApiError(21023035, "Please arrange shipment before retrieving the shipping document.")
    if pkg.status in ("FULFILLING", "COMPLETED") and doc_type != "PACKING_SLIP":
        raise ApiError(21042102, "Documents couldn't be printed after the package has been pickup.")
    if doc_type not in SUPPORTED_TYPES:
        raise ApiError(INVALID, f"Invalid parameters: the sandbox does not render {doc_type}.")
    wh = world.warehouses[o.warehouse_id]
    s, a = wh.address, o.address
    lines = [li for _, ls in world.package_members(pkg) for li in ls]  # a combined package: every order's lines
    counts: dict[tuple[str, str], int] = {}
    for li in lines:
        counts[(li.seller_sku, f"{li.product_name} ({li.sku_name})")] = (
            counts.get((li.seller_sku, f"{li.product_name} ({li.sku_name})"), 0) + 1
        )
    weight = pkg.weight or {"value": "1", "unit": "POUND"}
    city_line = f"{a.city}, {a.state_code} {a.postal_code}" if a.region_code == "US" else f"{a.city} {a.postal_code}"
    sender_city = f"{s.city}, {s.state_code} {s.postal_code}" if s.region_code == "US" else f"{s.city} {s.postal_code}"
    content = {
        "package_id": pkg.id,
        "order_id": ", ".join(pkg.all_order_ids),
        "tracking_number": pkg.tracking_number,
        "carrier": pkg.shipping_provider_name or "TikTok Shipping",
        "service": (pkg.service or {}).get("name", "Standard Shipping"),
        "weight": f"{weight['value']} {'lb' if weight['unit'] == 'POUND' else 'g'}",
        "sender": [wh.name, *[x for x in (s.line1, s.line2) if x], sender_city, s.country],
        "recipient": [a.name, *[x for x in (a.line1, a.line2) if x], city_line, a.country, a.phone],
        "items": [(n, sku, name) for (sku, name), n in counts.items()],
        "buyer_message": o.buyer_message,
    }
    key = sb.documents.issue(pkg.id, doc_type, size, sb.clock.now(), content)
    return {"doc_url": f"{req.base_url}{DOC_PATH_PREFIX}{key}", "tracking_number": pkg.tracking_number}


# ---------------------------------------------------------------------- package reads
def _package_address(a: Any, name: str, phone: str) -> dict[str, Any]:
    return {
        "full_address": a.full_address,
        "phone_number": phone,
        "name": name,
        "postal_code": a.postal_code,
        "address_detail": a.line2,
        "region_code": a.region_code,
        "address_line1": a.line1,
        "address_line2": a.line2,
        "address_line3": "",
        "address_line4": "",
    }


def package_detail(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    from .state import mask_name, mask_phone

    world = sb.world
    pkg = _package(sb, req)
    o = world.orders[pkg.order_id]
    wh = world.warehouses[o.warehouse_id]
    masked = pkg.shipping_type == "TIKTOK"
    orders_view, all_skus = [], set()
    for member, lines in world.package_members(pkg):  # a combined package lists every order in it
        skus: dict[str, dict[str, Any]] = {}
        for li in lines:
            entry = skus.setdefault(
                li.sku_id,
                {
                    "id": li.sku_id,
                    "name": li.sku_name,
                    "quantity": 0,
                    "image_url": f"https://p16-oec-va.ibyteimg.com/sandbox/{li.sku_id}.jpeg",
                },
            )
            entry["quantity"] += 1
        all_skus |= set(skus)
        orders_view.append({"id": member.id, "skus": list(skus.values())})
    tag = pkg.split_and_combine_tag
    if tag == "DEFAULT" and len(o.package_ids) > 1:
        tag = "SPLIT"
    view: dict[str, Any] = {
        "package_id": pkg.id,
        "orders": orders_view,
        "package_status": pkg.status,
        "split_and_combine_tag": tag,
        "has_multi_skus": len(all_skus) > 1,
        "note_tag": "BUYER_NOTED" if any(m.buyer_message for m, _ in world.package_members(pkg)) else "BUYER_UNNOTED",
        "shipping_provider_name": pkg.shipping_provider_name,
        "shipping_provider_id": pkg.shipping_provider_id,
        "shipping_type": pkg.shipping_type,
        "delivery_option_name": o.delivery_option_name,
        "delivery_option_id": o.delivery_option_id,
        "tracking_number": pkg.tracking_number,
        "create_time": pkg.create_time,
        "update_time": pkg.update_time,
        "handover_method": pkg.handover_method,
        "order_line_item_ids": list(pkg.line_item_ids),
        "recipient_address": _package_address(
            o.address,
            mask_name(o.address.name) if masked else o.address.name,
            mask_phone(o.address.phone) if masked else o.address.phone,
        ),
        "sender_address": _package_address(wh.address, wh.name, wh.address.phone),
        "insurance": {
            "is_purchased": False,
            "coverage_amount": "0",
            "is_claim_eligible": False,
            "claim_status": "NOT_STARTED",
        },
    }
    if pkg.pickup_slot:
        view["pickup_slot"] = dict(pkg.pickup_slot)
    if pkg.weight:
        view["weight"] = dict(pkg.weight)
    if pkg.dimension:
        view["dimension"] = dict(pkg.dimension)
    return view


def search_packages(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    page_size = page_size_param(req, 1, 50, INVALID)
    sort_field, sort_order = sort_params(req, ("create_time", "update_time", "order_pay_time"), INVALID)
    body = req.body_obj()
    status = body.get("package_status")
    if status is not None and status not in ("PROCESSING", "FULFILLING", "COMPLETED", "CANCELLED"):
        raise ApiError(INVALID, "Invalid parameters: package_status.")
    bounds = {}
    for k in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt"):
        v = body.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise ApiError(INVALID, f"Invalid parameters: {k}.")
        bounds[k] = v

    def sort_key(p: Package) -> tuple[int, int]:
        t = {
            "create_time": p.create_time,
            "update_time": p.update_time,
            "order_pay_time": world.orders[p.order_id].paid_time,
        }[sort_field]
        return (t, int(p.id))

    def keep(p: Package) -> bool:
        if status is not None and p.status != status:
            return False
        for field in ("create_time", "update_time"):
            t = getattr(p, field)
            if bounds[f"{field}_ge"] is not None and t < bounds[f"{field}_ge"]:
                return False
            if bounds[f"{field}_lt"] is not None and t >= bounds[f"{field}_lt"]:
                return False
        return True

    pkgs = sorted((p for p in world.packages.values() if p.shop_id == req.shop.id and keep(p)), key=sort_key)
    keys = [sort_key(p) for p in pkgs]
    filter_hash = hashlib.sha256(
        json.dumps([sort_field, sort_order, body], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    lo, hi = 0, len(pkgs)
    token = req.query.get("page_token")
    if token:
        cur = decode_token(token, INVALID)
        if cur.get("h") != filter_hash or cur.get("s") != req.shop.id:
            raise ApiError(INVALID, "Invalid page_token: it does not belong to this search.")
        last = (int(cur["k"][0]), int(cur["k"][1]))
        if sort_order == "ASC":
            lo = bisect_right(keys, last)
        else:
            hi = bisect_left(keys, last)
    window = pkgs[lo:hi] if sort_order == "ASC" else pkgs[lo:hi][::-1]
    page, more = window[:page_size], len(window) > page_size
    next_token = (
        encode_token({"s": req.shop.id, "h": filter_hash, "k": list(sort_key(page[-1]))}) if more and page else ""
    )
    return {
        "next_page_token": next_token,
        "total_count": len(pkgs),
        "packages": [
            {
                "id": p.id,
                "orders": [{"id": oid} for oid in p.all_order_ids],
                "create_time": p.create_time,
                "update_time": p.update_time,
                "status": p.status,
                "tracking_number": p.tracking_number,
                "shipping_provider_name": p.shipping_provider_name,
                "shipping_provider_id": p.shipping_provider_id,
                "order_line_item_ids": list(p.line_item_ids),
            }
            for p in page
        ],
    }


def tracking(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    world = sb.world
    o = _order(sb, req, code=21008111)
    now = sb.clock.now()
    events = [(t, d) for pid in o.package_ids for t, d in world.packages[pid].tracking_events if t <= now]
    events.sort(reverse=True)  # newest first, as in the official sample
    return {"tracking": [{"description": d, "update_time_millis": t * 1000} for t, d in events]}


# ---------------------------------------------------------------------- seller shipping
def _seller_tracking_args(body: dict[str, Any]) -> tuple[str, str]:
    tracking_no, provider_id = body.get("tracking_number"), body.get("shipping_provider_id")
    if not isinstance(tracking_no, str) or not tracking_no or not isinstance(provider_id, str) or not provider_id:
        raise ApiError(INVALID, "Invalid parameters: tracking_number and shipping_provider_id are required.")
    return tracking_no, provider_id


# Mark Package As Shipped "is currently exclusive to the following markets: US, UK, ES, IE, IT, DE, FR, JP" (spec).
SELLER_SHIPPING_MARKETS = frozenset({"US", "GB", "ES", "IE", "IT", "DE", "FR", "JP"})


def mark_package_as_shipped(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    body = req.body_obj()
    o = _order(sb, req)
    tracking_no, provider_id = _seller_tracking_args(body)
    line_ids = _str_list(body, "order_line_item_ids")
    if req.shop.region not in SELLER_SHIPPING_MARKETS:
        raise ApiError(21008106, "This interface cannot be used in this region.")
    if o.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        raise ApiError(21008025, "Seller cannot operate orders which are fulfilled by platform")
    if o.shipping_type != "SELLER":
        raise ApiError(
            21011004,
            "This API cannot be used to update package shipping information for packages "
            "that are not shipped by sellers.",
        )
    if o.status == "CANCELLED":
        # 21011041 is Update Shipping Info's code; Mark Package As Shipped lists 21042057 for a cancelled order.
        raise ApiError(
            21042057, "These orders are not in the Awaiting shipment status. Couldn't create labels for them."
        )
    if o.status in ("UNPAID", "ON_HOLD"):
        raise ApiError(21011003, f"fulfill_unit action not allowed: the order is {o.status}.")
    if o.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
        raise ApiError(21011006, "These orders are already shipped.")
    if o.is_buyer_request_cancel:
        raise ApiError(21011007, "Package item has after-sale request, please process the after-sale request first.")
    prov_id, prov = _provider_for_order(world, o, provider_id)
    _validate_tracking(prov, tracking_no)
    if world.tracking_use.get(tracking_no, 0) >= 20:
        raise ApiError(21011026, "fulfillment tracking no used times over limit")
    by_id = {li.id: li for li in o.line_items}
    if line_ids is not None:
        unknown = [i for i in line_ids if i not in by_id]
        if unknown:
            raise ApiError(21011029, f"order does not belong to fulfill unit: unknown line items {unknown}")
        lines = [by_id[i] for i in dict.fromkeys(line_ids)]
    else:
        lines = [li for li in o.line_items if li.package_status == "TO_FULFILL"]
    if not lines or any(li.package_status != "TO_FULFILL" for li in lines):
        raise ApiError(21008099, "Package has been shipped. Please not ship the package again.")
    now = sb.clock.now()
    pkg = Package(
        id=world.ids.next("package"),
        shop_id=o.shop_id,
        order_id=o.id,
        line_item_ids=[li.id for li in lines],
        shipping_type="SELLER",
        status="PROCESSING",
        create_time=now,
        update_time=now,
        shipped=True,
        tracking_number=tracking_no,
        shipping_provider_id=prov_id,
        shipping_provider_name=prov,
        rts_time=now,
        handover_method="DROP_OFF",
    )
    pkg.tracking_events.append((now, f"Shipment information received by {prov}"))
    world.packages[pkg.id] = pkg
    o.package_ids.append(pkg.id)
    world.tracking_use[tracking_no] = world.tracking_use.get(tracking_no, 0) + 1
    _mark_lines(lines, pkg, now)
    _after_shipment(world, o, now)
    world.seller_shipments.append(
        {"order_id": o.id, "shop_id": o.shop_id, "package_id": pkg.id, "tracking_number": tracking_no, "time": now}
    )
    return {"order_id": o.id, "order_line_item_ids": list(pkg.line_item_ids), "package_id": pkg.id}


def _update_info(sb: TikTokSandbox, o: Order, pkgs: list[Package], body: dict[str, Any]) -> dict[str, Any]:
    world = sb.world
    tracking_no, provider_id = _seller_tracking_args(body)
    if o.shipping_type != "SELLER" or any(p.shipping_type != "SELLER" for p in pkgs):
        raise ApiError(
            21011004,
            "This API cannot be used to update package shipping information for packages "
            "that are not shipped by sellers.",
        )
    if o.status == "CANCELLED":
        raise ApiError(21011041, "Cannot complete the operation when order is cancelled.")
    if o.is_buyer_request_cancel:
        raise ApiError(21011007, "Package item has after-sale request, please process the after-sale request first.")
    if o.status in ("DELIVERED", "COMPLETED"):
        raise ApiError(
            21011030,
            "Package has already been delivered. If you would still like to update the tracking number, please "
            "contact the platform for assistance.",
        )
    shipped = [p for p in pkgs if p.shipped]
    if not shipped:
        raise ApiError(21011043, "The package has not been shipped yet.")
    now = sb.clock.now()
    for p in shipped:
        if p.shipping_info_updated or now > p.rts_time + SHIPPING_INFO_UPDATE_WINDOW:
            raise ApiError(21011049, "Due to platform rule limitations, you are unable to update the tracking number.")
    prov_id, prov = _provider_for_order(world, o, provider_id)
    _validate_tracking(prov, tracking_no)
    for p in shipped:
        p.tracking_number, p.shipping_provider_id, p.shipping_provider_name = tracking_no, prov_id, prov
        p.shipping_info_updated, p.update_time = True, now
        for li in o.line_items:
            if li.package_id == p.id:
                li.tracking_number, li.shipping_provider_id, li.shipping_provider_name = tracking_no, prov_id, prov
    world.touch(o, now)
    return {}


def update_shipping_info(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    o = _order(sb, req)
    return _update_info(sb, o, [sb.world.packages[p] for p in o.package_ids], req.body_obj())


def update_package_shipping_info(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    pkg = _package(sb, req)
    return _update_info(sb, sb.world.orders[pkg.order_id], [pkg], req.body_obj())
