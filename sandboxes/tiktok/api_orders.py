"""Order APIs: Search Orders (Get Order List) and Get Order Detail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .gateway import Request
from .state import ORDER_STATUSES, Order, World, mask_name, mask_phone

if TYPE_CHECKING:
    from .app import TikTokSandbox

_TOKEN_KEY = b"tiktok-sandbox-page-token"
# Search Orders' spec lists no invalid-parameter code; 36009004 is TikTok's generic "invalid request" code.
ORDER_PARAM_ERROR = 36009004


# ---------------------------------------------------------------------- page tokens
def encode_token(payload: dict[str, Any]) -> str:
    """Opaque standard-base64 token (with + and /, like TikTok's) carrying the cursor and an HMAC."""
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(_TOKEN_KEY, raw, hashlib.sha256).digest()[:12]
    return base64.b64encode(mac + raw).decode()


def decode_token(token: str, code: int) -> dict[str, Any]:
    try:
        blob = base64.b64decode(token.encode(), validate=True)
        mac, raw = blob[:12], blob[12:]
        if not hmac.compare_digest(mac, hmac.new(_TOKEN_KEY, raw, hashlib.sha256).digest()[:12]):
            raise ValueError("mac")
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("shape")
        return payload
    except (ValueError, UnicodeError) as exc:
        raise ApiError(code, "Invalid page_token.") from exc


def page_size_param(req: Request, lo: int, hi: int, code: int) -> int:
    raw = req.query.get("page_size")
    if raw is None or not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ApiError(code, f"Invalid page_size. Valid range: [{lo}-{hi}].")
    return int(raw)


def sort_params(req: Request, fields: tuple[str, ...], code: int) -> tuple[str, str]:
    field = req.query.get("sort_field", fields[0])
    order = req.query.get("sort_order", "DESC")
    if field not in fields:
        raise ApiError(code, f"Invalid sort_field. Possible values: {', '.join(fields)}.")
    if order not in ("ASC", "DESC"):
        raise ApiError(code, "Invalid sort_order. Possible values: ASC, DESC.")
    return field, order


# ---------------------------------------------------------------------- order object
def order_view(world: World, o: Order) -> dict[str, Any]:
    shop = world.shops[o.shop_id]
    sub_total = sum(
        float(li.sale_price) for li in o.line_items if li.package_status != "CANCELLED" or o.status == "CANCELLED"
    )
    tax = round(sub_total * 0.0725, 2) if shop.is_us else 0.0
    ship_fee = float(o.shipping_fee)
    payment = {
        "currency": o.currency,
        "sub_total": f"{sub_total:.2f}",
        "shipping_fee": o.shipping_fee,
        "seller_discount": "0.00",
        "platform_discount": "0.00",
        "total_amount": f"{sub_total + ship_fee + tax:.2f}",
        "original_total_product_price": f"{sub_total:.2f}",
        "original_shipping_fee": o.shipping_fee,
        "shipping_fee_seller_discount": "0.00",
        "shipping_fee_platform_discount": "0.00",
        "shipping_fee_cofunded_discount": "0.00",
        "tax": f"{tax:.2f}",
        "product_tax": f"{tax:.2f}",
        "shipping_fee_tax": "0.00",
    }
    masked = o.shipping_type == "TIKTOK" or o.fulfillment_type == "FULFILLMENT_BY_TIKTOK"
    pkgs = [world.packages[p] for p in o.package_ids]
    tracking = next((p.tracking_number for p in pkgs if p.tracking_number), "")
    provider = next(
        ((p.shipping_provider_id, p.shipping_provider_name) for p in pkgs if p.shipping_provider_id), ("", "")
    )
    view: dict[str, Any] = {
        "id": o.id,
        "status": o.status,
        "is_on_hold_order": o.is_on_hold_order,
        "shipping_type": o.shipping_type,
        "fulfillment_type": o.fulfillment_type,
        "delivery_type": "HOME_DELIVERY",
        "delivery_option_id": o.delivery_option_id,
        "delivery_option_name": o.delivery_option_name,
        "shipping_provider_id": provider[0],
        "shipping_provider": provider[1],
        "tracking_number": tracking,
        "warehouse_id": o.warehouse_id,
        "user_id": o.user_id,
        "buyer_email": o.buyer_email,
        "buyer_message": o.buyer_message,
        "seller_note": o.seller_note,
        "create_time": o.create_time,
        "update_time": o.update_time,
        "cancel_order_sla_time": o.cancel_order_sla_time,
        "is_cod": False,
        "is_sample_order": False,
        "is_replacement_order": False,
        "is_buyer_request_cancel": o.is_buyer_request_cancel,
        "has_updated_recipient_address": o.has_updated_recipient_address,
        "commerce_platform": "TIKTOK_SHOP",
        "payment_method_name": "CCDC",
        "payment": payment,
        "order_type": "NORMAL",
        "packages": [{"id": p.id} for p in pkgs],
        "line_items": [_line_view(li) for li in o.line_items],
    }
    if o.paid_time:
        view.update(
            {
                "paid_time": o.paid_time,
                "rts_sla_time": o.rts_sla_time,
                "tts_sla_time": o.tts_sla_time,
                "shipping_due_time": o.shipping_due_time,
                "collection_due_time": o.collection_due_time,
                "delivery_due_time": o.delivery_due_time,
                "delivery_sla_time": o.delivery_sla_time,
                "delivery_option_required_delivery_time": o.delivery_sla_time,
            }
        )
    for key in ("rts_time", "collection_time", "delivery_time", "cancel_time", "request_cancel_time"):
        value = getattr(o, key)
        if value:
            view[key] = value
    if o.cancel_reason and (o.status == "CANCELLED" or o.is_buyer_request_cancel):
        view["cancel_reason"] = o.cancel_reason
    if o.cancellation_initiator:
        view["cancellation_initiator"] = o.cancellation_initiator
    if any(p.is_combined for p in pkgs):
        view["split_or_combine_tag"] = "COMBINED"
    elif len(pkgs) > 1 or any(p.split_and_combine_tag == "SPLIT" for p in pkgs):
        view["split_or_combine_tag"] = "SPLIT"
    # The address is not available while UNPAID / ON_HOLD (spec: recipient_address).
    if o.status not in ("UNPAID", "ON_HOLD"):
        view["recipient_address"] = address_view(o, masked)
    return view


def address_view(o: Order, masked: bool) -> dict[str, Any]:
    a = o.address
    name = mask_name(a.name) if masked else a.name
    district = [
        {"address_level_name": "Country", "address_name": a.country, "address_level": "L0"},
        {
            "address_level_name": "State" if a.region_code == "US" else "County",
            "address_name": a.state,
            "address_level": "L1",
        },
        {"address_level_name": "City", "address_name": a.city, "address_level": "L3"},
    ]
    view = {
        "full_address": a.full_address,
        "phone_number": mask_phone(a.phone) if masked else a.phone,
        "name": name,
        "first_name": name.split(" ")[0],
        "last_name": " ".join(name.split(" ")[1:]),
        "address_detail": a.line2,
        "address_line1": a.line1,
        "address_line2": a.line2,
        "address_line3": "",
        "address_line4": "",
        "postal_code": a.postal_code,
        "region_code": a.region_code,
        "district_info": district,
    }
    if a.region_code == "GB":
        view["post_town"] = a.city
    return view


def _line_view(li: Any) -> dict[str, Any]:
    display = {
        "TO_FULFILL": "AWAITING_SHIPMENT",
        "PROCESSING": "AWAITING_COLLECTION",
        "FULFILLING": "IN_TRANSIT",
        "COMPLETED": "DELIVERED",
        "CANCELLED": "CANCELLED",
    }
    view = {
        "id": li.id,
        "sku_id": li.sku_id,
        "product_id": li.product_id,
        "product_name": li.product_name,
        "sku_name": li.sku_name,
        "sku_image": f"https://p16-oec-va.ibyteimg.com/sandbox/{li.sku_id}.jpeg",
        "seller_sku": li.seller_sku,
        "original_price": li.original_price,
        "sale_price": li.sale_price,
        "platform_discount": "0.00",
        "seller_discount": "0.00",
        "currency": li.currency,
        "package_id": li.package_id,
        "package_status": li.package_status,
        "display_status": display.get(li.package_status, "AWAITING_SHIPMENT"),
        "shipping_provider_id": li.shipping_provider_id,
        "shipping_provider_name": li.shipping_provider_name,
        "tracking_number": li.tracking_number,
        "is_gift": li.is_gift,
        "is_dangerous_good": False,
        "sku_type": "NORMAL",
    }
    if li.rts_time:
        view["rts_time"] = li.rts_time
    if li.cancel_user:
        view["cancel_user"] = li.cancel_user
        view["cancel_reason"] = li.cancel_reason
    return view


# ---------------------------------------------------------------------- Search Orders
def _int_filter(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(ORDER_PARAM_ERROR, f"Invalid {key}: must be a Unix timestamp in seconds.")
    return value


def search_orders(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    page_size = page_size_param(req, 1, 100, ORDER_PARAM_ERROR)
    sort_field, sort_order = sort_params(req, ("create_time", "update_time"), ORDER_PARAM_ERROR)
    body = req.body_obj()
    status = body.get("order_status")
    if status is not None and status not in ORDER_STATUSES:
        raise ApiError(ORDER_PARAM_ERROR, "Invalid order_status.")
    shipping_type = body.get("shipping_type")
    if shipping_type is not None and shipping_type not in ("TIKTOK", "SELLER"):
        raise ApiError(ORDER_PARAM_ERROR, "Invalid shipping_type. Possible values: TIKTOK, SELLER.")
    warehouse_ids = body.get("warehouse_ids")
    if warehouse_ids is not None and (not isinstance(warehouse_ids, list) or len(warehouse_ids) > 100):
        raise ApiError(ORDER_PARAM_ERROR, "Invalid warehouse_ids: at most 100 ids.")
    brc = body.get("is_buyer_request_cancel")
    if brc is not None and not isinstance(brc, bool):
        raise ApiError(ORDER_PARAM_ERROR, "Invalid is_buyer_request_cancel: must be a boolean.")
    buyer = body.get("buyer_user_id")
    ranges = {k: _int_filter(body, k) for k in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")}
    filter_hash = hashlib.sha256(
        json.dumps([sort_field, sort_order, body], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    idx = world.index[req.shop.id]
    prefix = "create" if sort_field == "create_time" else "update"
    if status:
        keys = (idx.by_create_status if prefix == "create" else idx.by_update_status)[status]
    else:
        keys = idx.by_create if prefix == "create" else idx.by_update
    # Bounds on the sorted field come from bisect; "_lt" is exclusive.
    ge = ranges[f"{prefix}_time_ge"]
    lt = ranges[f"{prefix}_time_lt"]
    lo = bisect_left(keys, (ge, -1)) if ge is not None else 0
    hi = bisect_left(keys, (lt, -1)) if lt is not None else len(keys)
    other = "update" if prefix == "create" else "create"
    o_ge, o_lt = ranges[f"{other}_time_ge"], ranges[f"{other}_time_lt"]
    extra = any(v is not None for v in (shipping_type, warehouse_ids, brc, buyer, o_ge, o_lt))

    def keep(o: Order) -> bool:
        if shipping_type is not None and o.shipping_type != shipping_type:
            return False
        if warehouse_ids is not None and o.warehouse_id not in warehouse_ids:
            return False
        if brc is not None and o.is_buyer_request_cancel != brc:
            return False
        if buyer is not None and o.user_id != buyer:
            return False
        t = o.update_time if other == "update" else o.create_time
        return not ((o_ge is not None and t < o_ge) or (o_lt is not None and t >= o_lt))

    token = req.query.get("page_token")
    if token:
        cur = decode_token(token, ORDER_PARAM_ERROR)
        if cur.get("h") != filter_hash or cur.get("s") != req.shop.id:
            raise ApiError(ORDER_PARAM_ERROR, "Invalid page_token: it does not belong to this search.")
        last = (int(cur["k"][0]), int(cur["k"][1]))
        if sort_order == "ASC":
            lo = max(lo, bisect_right(keys, last))
        else:
            hi = min(hi, bisect_left(keys, last))
    orders = world.orders
    picked: list[Order] = []
    more = False
    rng = range(lo, hi) if sort_order == "ASC" else range(hi - 1, lo - 1, -1)
    for i in rng:
        o = orders[str(keys[i][1])]
        if extra and not keep(o):
            continue
        if len(picked) == page_size:
            more = True
            break
        picked.append(o)
    if extra:
        full_lo = bisect_left(keys, (ge, -1)) if ge is not None else 0
        full_hi = bisect_left(keys, (lt, -1)) if lt is not None else len(keys)
        total = sum(1 for i in range(full_lo, full_hi) if keep(orders[str(keys[i][1])]))
    else:
        total = (bisect_left(keys, (lt, -1)) if lt is not None else len(keys)) - (
            bisect_left(keys, (ge, -1)) if ge is not None else 0
        )
    next_token = ""
    if more and picked:
        last_o = picked[-1]
        last_key = (last_o.create_time if prefix == "create" else last_o.update_time, last_o.id_int)
        next_token = encode_token({"s": req.shop.id, "h": filter_hash, "k": list(last_key)})
    return {"next_page_token": next_token, "total_count": total, "orders": [order_view(world, o) for o in picked]}


# ---------------------------------------------------------------------- Get Order Detail
def order_detail(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    raw = req.query.get("ids", "")
    ids = [i.strip() for i in raw.split(",") if i.strip()]
    if not ids:
        raise ApiError(ORDER_PARAM_ERROR, "The ids parameter is required.")
    if len(ids) > 50:
        raise ApiError(ORDER_PARAM_ERROR, "Too many ids: at most 50 order ids per request.")
    out = []
    for oid in ids:
        o = sb.world.orders.get(oid)
        if o is None or o.shop_id != req.shop.id:
            raise ApiError(21008111, "The order or package does not belong to the current seller.")
        out.append(order_view(sb.world, o))
    return {"orders": out}
