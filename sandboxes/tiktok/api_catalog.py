"""Logistics (warehouses, delivery options, providers), products/inventory and the Event API."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .api_orders import decode_token, encode_token, page_size_param
from .errors import ApiError
from .gateway import Request
from .state import Product, Sku
from .webhooks import EVENT_API_TYPES

if TYPE_CHECKING:
    from .app import TikTokSandbox

PRODUCT_STATUSES = (
    "ALL",
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)


# ---------------------------------------------------------------------- logistics
def warehouses(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    out = []
    for wh in req.shop.warehouses:
        a = wh.address
        out.append(
            {
                "id": wh.id,
                "entity_id": wh.id,
                "name": wh.name,
                "effect_status": wh.effect_status,
                "type": wh.type,
                "sub_type": wh.sub_type,
                "is_default": wh.is_default,
                "address": {
                    "region": a.country,
                    "state": a.state,
                    "city": a.city,
                    "distict": a.city,  # sic: the official schema spells it "distict"
                    "town": "",
                    "contact_person": a.name,
                    "first_name": a.first_name,
                    "last_name": a.last_name,
                    "postal_code": a.postal_code,
                    "full_address": a.full_address,
                    "region_code": a.region_code,
                    "phone_number": a.phone,
                    "address_line1": a.line1,
                    "address_line2": a.line2,
                    "address_line3": "",
                    "address_line4": "",
                },
            }
        )
    return {"warehouses": out}


def delivery_options(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    wid = req.path_params["warehouse_id"]
    if not any(w.id == wid for w in req.shop.warehouses):
        raise ApiError(36009004, "Invalid warehouse_id: the warehouse does not belong to this shop.")
    scope = req.query.get("scope", "WAREHOUSE")
    if scope not in ("WAREHOUSE", "PRODUCT"):
        raise ApiError(36009004, "Invalid scope. Possible values: WAREHOUSE, PRODUCT.")
    limits_lb = (
        {"max_weight": 150, "min_weight": 0, "unit": "POUND"}
        if req.shop.is_us
        else {"max_weight": 30000, "min_weight": 0, "unit": "GRAM"}
    )
    return {
        "delivery_options": [
            {
                "id": o.id,
                "name": o.name,
                "type": o.type,
                "description": o.description,
                "dimension_limit": {
                    "max_height": 108,
                    "max_length": 108,
                    "max_width": 108,
                    "unit": "INCH" if req.shop.is_us else "CM",
                },
                "weight_limit": limits_lb,
                "platform": ["TIKTOK_SHOP"],
            }
            for o in req.shop.delivery_options
            if o.warehouse_id == wid
        ]
    }


def shipping_providers(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    opt = sb.world.delivery_options.get(req.path_params["delivery_option_id"])
    wh = sb.world.warehouses.get(opt.warehouse_id) if opt else None
    if opt is None or wh is None or wh.shop_id != req.shop.id:
        raise ApiError(21008116, "No Subscription without specified delivery option.")
    if opt.fulfilled_by_tiktok:
        raise ApiError(
            21008117,
            "The delivery of the specified delivery_option_id is fulfilled by TikTok. No "
            "shipping provider will be returned.",
        )
    return {"shipping_providers": [{"id": pid, "name": name} for pid, name in opt.providers]}


# ---------------------------------------------------------------------- products
def _sku_view(sku: Sku) -> dict[str, Any]:
    return {
        "id": sku.id,
        "seller_sku": sku.seller_sku,
        "price": {"currency": sku.currency, "tax_exclusive_price": sku.price, "sale_price": sku.price},
        "inventory": [{"warehouse_id": w, "quantity": q} for w, q in sku.inventory.items()],
        "status_info": {"status": "NORMAL"},
    }


def _product_view(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "status": p.status,
        "skus": [_sku_view(s) for s in p.skus],
        "create_time": p.create_time,
        "update_time": p.update_time,
        "sales_regions": ["US"],
        "is_not_for_sale": False,
        "product_sync_fail_reasons": [],
    }


def search_products(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    page_size = page_size_param(req, 1, 100, 12019109)
    body = req.body_obj()
    status = body.get("status", "ALL")
    if status not in PRODUCT_STATUSES:
        raise ApiError(12052910, "Invalid input parameters: status.")
    seller_skus = body.get("seller_skus")
    if seller_skus is not None and (not isinstance(seller_skus, list) or len(seller_skus) > 10):
        raise ApiError(12019027, "The maximum count of \u201cseller_skus\u201d in the search filter is 10.")
    sku_ids = body.get("sku_ids")
    if sku_ids is not None and (not isinstance(sku_ids, list) or len(sku_ids) > 10):
        raise ApiError(12019087, "The number of SKU IDs exceeds the limit of 10")
    lt_key = "update_time_le" if "update_time_le" in body else "update_time_lt"
    ct_key = "create_time_le" if "create_time_le" in body else "create_time_lt"

    def keep(p: Product) -> bool:
        if status != "ALL" and p.status != status:
            return False
        if seller_skus is not None and not any(s.seller_sku in seller_skus for s in p.skus):
            return False
        if sku_ids is not None and not any(s.id in sku_ids for s in p.skus):
            return False
        for field, le in (("create_time", ct_key), ("update_time", lt_key)):
            t = getattr(p, field)
            if body.get(f"{field}_ge") is not None and t < body[f"{field}_ge"]:
                return False
            if body.get(le) is not None and t > body[le]:
                return False
        return True

    products = sorted((p for p in req.shop.products if keep(p)), key=lambda p: int(p.id))
    filter_hash = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    start = 0
    if req.query.get("page_token"):
        cur = decode_token(req.query["page_token"], 12019108)
        if cur.get("h") != filter_hash:
            raise ApiError(12019108, "page number is invalid")
        start = int(cur.get("o", 0))
    page = products[start : start + page_size]
    more = start + page_size < len(products)
    return {
        "next_page_token": encode_token({"h": filter_hash, "o": start + page_size}) if more else "",
        "total_count": len(products),
        "products": [_product_view(p) for p in page],
    }


def inventory_search(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    body = req.body_obj()
    product_ids, sku_ids = body.get("product_ids"), body.get("sku_ids")
    if sku_ids is not None:
        if not isinstance(sku_ids, list) or len(sku_ids) > 600:
            raise ApiError(12019015, "The number of SKU exceed the limit")
    elif product_ids is not None:
        if not isinstance(product_ids, list) or len(product_ids) > 100:
            raise ApiError(12019120, "The number of provided product IDs exceeds the limit.")
    else:
        raise ApiError(12019008, "Product id is invalid: provide product_ids or sku_ids.")
    shop_products = {p.id: p for p in req.shop.products}
    out = []
    for p in shop_products.values():
        if sku_ids is not None:
            skus = [s for s in p.skus if s.id in sku_ids]  # sku_ids wins when both are given
        elif p.id in product_ids:
            skus = p.skus
        else:
            skus = []
        if not skus:
            continue
        out.append(
            {
                "product_id": p.id,
                "skus": [
                    {
                        "id": s.id,
                        "seller_sku": s.seller_sku,
                        "total_available_quantity": sum(s.inventory.values()),
                        "total_committed_quantity": sum(s.committed.values()),
                        "warehouse_inventory": [
                            {"warehouse_id": w, "available_quantity": q, "committed_quantity": s.committed.get(w, 0)}
                            for w, q in s.inventory.items()
                        ],
                        "total_available_inventory_distribution": {
                            "campaign_inventory": [],
                            "creator_inventory": [],
                            "in_shop_inventory": {"quantity": sum(s.inventory.values())},
                        },
                    }
                    for s in skus
                ],
            }
        )
    if product_ids is not None and sku_ids is None and any(pid not in shop_products for pid in product_ids):
        raise ApiError(12019008, "Product id is invalid")
    return {"inventory": out}


def update_inventory(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    pid = req.path_params["product_id"]
    product = world.products.get(pid)
    if product is None:
        raise ApiError(12052032, "The product does not exist")
    if product.shop_id != req.shop.id:
        raise ApiError(12052048, "You cannot edit the specified product(s) as it isn't listed in your account or shop.")
    if product.status != "ACTIVATE":
        raise ApiError(12052037, "Couldn't update inventory: the product is not in ACTIVATE status.")
    body = req.body_obj()
    skus = body.get("skus")
    if not isinstance(skus, list) or not skus or not all(isinstance(s, dict) for s in skus):
        raise ApiError(12052036, "The SKU ID is necessary")
    if len(skus) > 100:
        raise ApiError(12052050, "A single product cannot have more than 100 different SKUs")
    ids = [str(s.get("id") or "") for s in skus]
    if any(not i for i in ids):
        raise ApiError(12052036, "The SKU ID is necessary")
    if len(set(ids)) != len(ids):
        raise ApiError(12052553, "Sku id duplicate")
    by_id = {s.id: s for s in product.skus}
    errors: list[dict[str, Any]] = []
    now = sb.clock.now()
    for entry, sku_id in zip(skus, ids, strict=True):
        sku = by_id.get(sku_id)
        err = _check_sku_inventory(world, req.shop.id, sku, sku_id, entry)
        if err is not None:
            errors.append(err)
            continue
        assert sku is not None
        new = {}
        for inv in entry["inventory"]:
            wid = str(inv.get("warehouse_id") or next(iter(sku.inventory)))
            new[wid] = int(inv["quantity"])
        old = dict(sku.inventory)
        sku.inventory.update(new)
        world.inventory_log.append(
            {
                "sandbox_time": now,
                "shop_id": req.shop.id,
                "product_id": pid,
                "sku_id": sku.id,
                "seller_sku": sku.seller_sku,
                "before": old,
                "after": dict(sku.inventory),
            }
        )
    if len(errors) < len(skus):
        product.update_time = now
    return {"errors": errors} if errors else {}


def _check_sku_inventory(
    world: Any, shop_id: str, sku: Sku | None, sku_id: str, entry: dict[str, Any]
) -> dict[str, Any] | None:
    def fail(code: int, message: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        detail: dict[str, Any] = {"sku_id": sku_id}
        if extra:
            detail["extra_errors"] = extra
        return {"code": code, "message": message, "detail": detail}

    if sku is None:
        return fail(12052556, "The SKU id not exist.")
    inv = entry.get("inventory")
    if not isinstance(inv, list) or not inv or not all(isinstance(i, dict) for i in inv):
        return fail(12019022, "SKU must contain a valid warehouse.")
    extra = []
    seen = []
    for item in inv:
        wid = item.get("warehouse_id")
        if wid is None:
            if len(sku.inventory) > 1:
                return fail(
                    12019028,
                    "Multiple warehouses detected. Include all warehouse IDs and the "
                    "corresponding details and try again.",
                )
            wid = next(iter(sku.inventory))
        wid = str(wid)
        wh = world.warehouses.get(wid)
        if wh is None:
            extra.append({"warehouse_id": wid, "code": 12052097, "message": "The warehouse does not exist"})
        elif wh.shop_id != shop_id:
            extra.append(
                {
                    "warehouse_id": wid,
                    "code": 12052530,
                    "message": f"The warehouse '{wid}' does not belong to this shop/seller.",
                }
            )
        q = item.get("quantity")
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= 99999:
            # The doc says [1, 99999]; 0 (out of stock) is accepted here (documented deviation).
            extra.append(
                {
                    "warehouse_id": wid,
                    "code": 12052055,
                    "message": "The SKU inventory quantity for the warehouse must be within allowed limits.",
                }
            )
        seen.append(wid)
    if extra:
        return fail(12052990, "Check failed", extra)
    if len(set(seen)) != len(seen) or set(seen) != set(sku.inventory):
        return fail(
            12052533,
            "Removal, addition, and change of warehouses are not permitted. Please specify the "
            "original warehouses for the SKUs.",
        )
    return None


# ---------------------------------------------------------------------- Event API
def _check_address(address: Any) -> str:
    if not isinstance(address, str) or not address or len(address) > 255:
        raise ApiError(36009004, "Invalid address: required, at most 255 characters.")
    parts = urlsplit(address)
    host = parts.hostname or ""
    # Deviation: local receivers (http on 127.0.0.1/localhost, any port) are accepted so a developer's Dropline can
    # receive webhooks. Everything else must follow TikTok's rule: https, a domain name (not an IP), no port.
    if parts.scheme == "http" and host in ("127.0.0.1", "localhost"):
        return address
    is_ip = host.replace(".", "").isdigit() or ":" in host
    if parts.scheme != "https" or not host or is_ip or parts.port is not None or "." not in host:
        raise ApiError(36009004, "Invalid address: the webhook URL must use https, a domain name and no port.")
    return address


def _event_type(body: dict[str, Any]) -> str:
    et = body.get("event_type")
    if et not in EVENT_API_TYPES:
        raise ApiError(36009004, "Invalid event_type.")
    return str(et)


def get_webhooks(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    hooks = [{"event_type": et, **v} for et, v in sorted(req.shop.webhooks.items())]
    return {"webhooks": hooks, "total_count": len(hooks)}


def put_webhook(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    body = req.body_obj()
    et, address = _event_type(body), _check_address(body.get("address"))
    now = sb.clock.now()
    existing = req.shop.webhooks.get(et)
    req.shop.webhooks[et] = {
        "address": address,
        "create_time": existing["create_time"] if existing else now,
        "update_time": now,
    }
    return {}


def delete_webhook(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    et = _event_type(req.body_obj())
    req.shop.webhooks.pop(et, None)
    return {}
