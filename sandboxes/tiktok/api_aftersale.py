"""Return and refund APIs (202309): cancellations, returns, refunds, reject reasons and after-sale eligibility.

Paths, fields and codes from spec/api-reference/return-and-refund/*.spec.json; the state machines are in
``aftersale``. Decisions accept the documented ``idempotency_key``: a repeated key answers what the first call
answered and decides nothing again.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from . import aftersale as A
from . import reasons
from .api_orders import decode_token, encode_token
from .errors import ApiError
from .gateway import Request
from .state import Order

if TYPE_CHECKING:
    from .app import TikTokSandbox

INVALID = (
    25001001,
    "An invalid request parameter was passed. Please check that you have the correct parameter type(s) and format.",
)
NO_PERMISSION = (25020005, "No permission to process this order")
ORDER_NOT_FOUND = (25007006, "Order not found.")
INVALID_ORDER_STATUS = (25001003, "Invalid order status.")
ALREADY_SHIPPED = (
    25001045,
    "The order has already been shipped and we are unable to cancel shipment with the courier.",
)
IN_PROCESS = (25001011, "A return request is already in process, or the order has already been cancelled.")
FINISHED = (25001051, "Not allowed to return or cancel since order is completed or cancelled")
CANNOT_APPROVE = (25011012, "reverse status cannot approve application")
CANNOT_REJECT = (25011011, "reverse status cannot reject application")
CANNOT_APPROVE_RECEIVE = (25011013, "reverse status cannot approve receive")
DECISION_STATUS = (25020003, "decision not match reverse status")
DECISION_TYPE = (25020004, "decision not match reverse type")
ALREADY_CANCELLED = (25020009, "reverse already cancelled")
ALREADY_APPROVED = (25020010, "Aftersales has been approved and cannot be rejected.")
ALREADY_RECEIVED = (25020011, "return already received")
CANNOT_REJECT_RECEIVE = (25020012, "status can't reject receive")
CANNOT_REJECT_PARCEL_NOW = (25011035, "could not reject parcel now")
CANNOT_BE_APPROVED = (25001044, "The return request cannot be approved.")
PARTIAL_STATUS = (25011032, "ReverseInvalidStatusPartialRefund")
NO_PARTIAL_LINES = (25005010, "Unable to cancel individual line items within this request.")
TOO_MANY_LINES = (25005011, "The requested line item(s) for return or refund exceeds the allowable limit.")
REFUND_TOO_LARGE = (25005005, "Refund total amount is larger than the refundable amount.")
RETURN_DONE = (25001010, "A return request has already been completed, or the order has already been cancelled.")


def _err(pair: tuple[int, str], detail: str = "") -> ApiError:
    code, message = pair
    return ApiError(code, f"{message} {detail}".strip() if detail and code == INVALID[0] else message)


# ---------------------------------------------------------------------- parameter helpers
def _str_list(body: dict[str, Any], key: str, allowed: tuple[str, ...] | None = None) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise _err(INVALID, f"{key} must be a list of strings.")
    if allowed is not None and any(x not in allowed for x in value):
        raise _err(INVALID, f"{key}: possible values are {', '.join(allowed)}.")
    return value


def _int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _err(INVALID, f"{key} must be a Unix timestamp in seconds.")
    return value


def _page(req: Request, lo: int, hi: int) -> int:
    raw = req.query.get("page_size", "10")
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise _err(INVALID, f"page_size must be in [{lo}-{hi}].")
    return int(raw)


def _sort(req: Request) -> tuple[str, bool]:
    field = req.query.get("sort_field", "create_time")
    order = req.query.get("sort_order", "ASC")
    if field not in ("create_time", "update_time") or order not in ("ASC", "DESC"):
        raise _err(INVALID, "sort_field is create_time or update_time; sort_order is ASC or DESC.")
    return field, order == "DESC"


def _paginate(
    req: Request, items: list[Any], body: dict[str, Any], page_size: int, field: str, desc: bool
) -> tuple[list[Any], str]:
    assert req.shop is not None
    items.sort(key=lambda x: (getattr(x, field), int(x.id)), reverse=desc)
    digest = hashlib.sha256(json.dumps([req.path, field, desc, body], sort_keys=True).encode()).hexdigest()[:16]
    start = 0
    token = req.query.get("page_token")
    if token:
        cur = decode_token(token, INVALID[0])
        if cur.get("h") != digest or cur.get("s") != req.shop.id:
            raise _err(INVALID, "page_token does not belong to this search.")
        start = int(cur["o"])
    page = items[start : start + page_size]
    more = start + page_size < len(items)
    nxt = encode_token({"s": req.shop.id, "h": digest, "o": start + page_size}) if more else ""
    return page, nxt


def _time_filter(body: dict[str, Any]) -> dict[str, int | None]:
    return {k: _int(body, k) for k in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")}


def _in_time(rec: Any, t: dict[str, int | None]) -> bool:
    for prefix in ("create", "update"):
        value = getattr(rec, f"{prefix}_time")
        ge, lt = t[f"{prefix}_time_ge"], t[f"{prefix}_time_lt"]
        if (ge is not None and value < ge) or (lt is not None and value >= lt):
            return False
    return True


def _shop_order(sb: TikTokSandbox, req: Request, order_id: Any, missing: tuple[int, str]) -> Order:
    assert req.shop is not None
    if not isinstance(order_id, str) or not order_id:
        raise _err(INVALID, "order_id is required.")
    o = sb.world.orders.get(order_id)
    if o is None or o.shop_id != req.shop.id:
        raise _err(missing)
    return o


def _idempotent(sb: TikTokSandbox, req: Request, decide: Any) -> Any:
    """Run a decision once per idempotency key: the same key answers the first success again, deciding nothing."""
    assert req.shop is not None
    key = req.query.get("idempotency_key")
    if not key:
        return decide()
    slot = (req.shop.id, f"{req.method} {req.path}", key)
    store = A.book(sb.world).idempotency
    if slot in store:
        return store[slot]
    result = decide()
    store[slot] = result
    return result


def _image(sku_id: str) -> dict[str, Any]:
    return {"url": f"https://p16-oec-va.ibyteimg.com/sandbox/{sku_id}.jpeg", "width": 200, "height": 200}


def _next_action(action: str, deadline: int) -> list[dict[str, Any]]:
    return [{"action": action, "deadline": deadline}] if action else []


# ---------------------------------------------------------------------- cancellations
def cancellation_view(sb: TikTokSandbox, c: A.Cancellation) -> dict[str, Any]:
    world = sb.world
    o = world.orders[c.order_id]
    by_id = {li.id: li for li in o.line_items}
    full = set(c.line_item_ids) >= {li.id for li in o.line_items}
    lines = []
    for lid in c.line_item_ids:
        li = by_id[lid]
        lines.append(
            {
                "cancel_line_item_id": c.cancel_line_ids[lid],
                "order_line_item_id": lid,
                "sku_id": li.sku_id,
                "sku_name": li.sku_name,
                "product_image": _image(li.sku_id),
                "product_name": li.product_name,
                "seller_sku": li.seller_sku,
                "refund_amount": A.refund_amount(world, o, [lid], include_shipping=False),
            }
        )
    view: dict[str, Any] = {
        "cancel_id": c.id,
        "order_id": c.order_id,
        "cancel_type": c.cancel_type,
        "cancel_status": c.status,
        "role": c.role,
        "cancel_reason": c.reason,
        "cancel_reason_text": c.reason_text,
        "create_time": c.create_time,
        "update_time": c.update_time,
        "seller_next_action_response": _next_action("SELLER_RESPOND_CANCEL", c.deadline)
        if c.status == A.CANCEL_PENDING
        else [],
        "refund_amount": A.refund_amount(world, o, c.line_item_ids, include_shipping=full),
        "cancel_line_items": lines,
    }
    return view


def search_cancellations(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    page_size = _page(req, 1, 50)
    field, desc = _sort(req)
    body = req.body_obj()
    ids = _str_list(body, "cancel_ids")
    order_ids = _str_list(body, "order_ids")
    buyers = _str_list(body, "buyer_user_ids")
    types = _str_list(body, "cancel_types", ("CANCEL", "BUYER_CANCEL"))
    statuses = _str_list(body, "cancel_status", (*A.CANCEL_STATUSES, *A.CANCEL_STATUS_ALIASES))
    wanted = {A.CANCEL_STATUS_ALIASES.get(s, s) for s in statuses} if statuses is not None else None
    times = _time_filter(body)
    world = sb.world
    b = A.book(world)
    if order_ids is not None:
        pool = [c for oid in order_ids for c in b.order_cancellations(oid)]
    elif ids is not None:
        pool = [b.cancellations[i] for i in ids if i in b.cancellations]
    else:
        pool = list(b.cancellations.values())
    found = [
        c
        for c in pool
        if c.shop_id == req.shop.id
        and (ids is None or c.id in ids)
        and (types is None or c.cancel_type in types)
        and (wanted is None or c.status in wanted)
        and (buyers is None or world.orders[c.order_id].user_id in buyers)
        and _in_time(c, times)
    ]
    page, nxt = _paginate(req, found, body, page_size, field, desc)
    return {
        "cancellations": [cancellation_view(sb, c) for c in page],
        "total_count": len(found),
        "next_page_token": nxt,
    }


def _cancellation(sb: TikTokSandbox, req: Request) -> A.Cancellation:
    assert req.shop is not None
    c = A.book(sb.world).cancellations.get(req.path_params.get("cancel_id", ""))
    if c is None:
        raise _err(INVALID, "Unknown cancel_id.")
    if c.shop_id != req.shop.id:
        raise _err(NO_PERMISSION)
    return c


def approve_cancellation(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    c = _cancellation(sb, req)

    def decide() -> dict[str, Any]:
        if c.cancel_type != "BUYER_CANCEL":
            raise _err(DECISION_TYPE)
        if c.status in (A.CANCEL_SUCCESS, A.CANCEL_COMPLETE):
            raise _err(CANNOT_APPROVE)
        if c.status == A.CANCEL_CANCELLED:
            raise _err(ALREADY_CANCELLED)
        o = sb.world.orders[c.order_id]
        if o.status not in A.PRE_SHIPMENT:
            raise _err(ALREADY_SHIPPED)
        A.approve_cancellation(sb.world, c, sb.clock.now(), by="SELLER")
        return {}

    result: dict[str, Any] = _idempotent(sb, req, decide)
    return result


def reject_cancellation(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    c = _cancellation(sb, req)
    body = req.body_obj()

    def decide() -> dict[str, Any]:
        if c.cancel_type != "BUYER_CANCEL":
            raise _err(DECISION_TYPE)
        if c.status in (A.CANCEL_SUCCESS, A.CANCEL_COMPLETE):
            raise _err(ALREADY_APPROVED)
        if c.status == A.CANCEL_CANCELLED:
            raise _err(CANNOT_REJECT)
        region = sb.world.shops[c.shop_id].region
        reason = reasons.check(
            region,
            "seller_reject_cancel",
            body.get("reject_reason"),
            None,
            other_kinds_code=reasons.REASON_NOT_MATCH_ACTION,
        )
        comment = body.get("comment", "")
        if not isinstance(comment, str):
            raise _err(INVALID, "comment must be a string.")
        A.reject_cancellation(sb.world, c, sb.clock.now(), reason[0], comment)
        return {}

    result: dict[str, Any] = _idempotent(sb, req, decide)
    return result


def _sku_lines(o: Order, skus: Any) -> list[str]:
    """Map [{sku_id, quantity}] to that many live line items of each SKU (each line item is one unit)."""
    if not isinstance(skus, list):
        raise _err(INVALID, "skus must be a list.")
    picked: list[str] = []
    for s in skus:
        if not isinstance(s, dict) or not isinstance(s.get("sku_id"), str) or not isinstance(s.get("quantity"), int):
            raise _err(INVALID, "skus[] needs sku_id and quantity.")
        if s["quantity"] <= 0:
            raise _err(INVALID, "skus[].quantity must be positive.")
        lines = [li.id for li in o.line_items if li.sku_id == s["sku_id"] and li.package_status != "CANCELLED"]
        if not lines:
            raise _err(INVALID, f"sku {s['sku_id']} is not in the order.")
        if s["quantity"] > len(lines):
            raise _err(TOO_MANY_LINES)
        picked += [lid for lid in lines if lid not in picked][: s["quantity"]]
    return picked


def _requested_lines(o: Order, body: dict[str, Any]) -> list[str] | None:
    line_ids = _str_list(body, "order_line_item_ids")
    if line_ids is not None and not line_ids:
        raise _err(INVALID, "order_line_item_ids must not be empty.")
    if line_ids is not None:
        known = {li.id: li for li in o.line_items}
        if any(lid not in known for lid in line_ids):
            raise _err(INVALID, "order_line_item_ids holds ids of another order.")
        if any(known[lid].package_status == "CANCELLED" for lid in line_ids):
            raise _err(TOO_MANY_LINES)
        return list(dict.fromkeys(line_ids))
    if body.get("skus") is not None:
        return _sku_lines(o, body["skus"])
    return None


OUT_OF_STOCK = ("seller_cancel_reason_out_of_stock", "seller_cancel_reason_out_of_stock_uk")


def cancel_order(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    """Seller-initiated cancellation (direct: no approval). Partial only for out of stock (US and UK)."""
    world = sb.world
    body = req.body_obj()
    o = _shop_order(sb, req, body.get("order_id"), NO_PERMISSION)
    region = world.shops[o.shop_id].region
    if not isinstance(body.get("cancel_reason"), str) or not body["cancel_reason"]:
        raise _err(INVALID, "cancel_reason is required.")
    if o.status in ("CANCELLED", "COMPLETED"):
        raise _err(FINISHED)
    if o.status in ("IN_TRANSIT", "DELIVERED"):
        raise _err(ALREADY_SHIPPED)
    b = A.book(world)
    if b.pending_cancellation(o.id) is not None or b.open_return(o.id) is not None:
        raise _err(IN_PROCESS)
    # Seller reasons are listed for UNPAID and for ON_HOLD / AWAITING_SHIPMENT; AWAITING_COLLECTION (a bought label,
    # not yet collected) takes the latter (guess: the appendix does not list it).
    status = "AWAITING_SHIPMENT" if o.status in ("AWAITING_COLLECTION", "PARTIALLY_SHIPPING") else o.status
    reason = reasons.check(
        region, "seller_cancel", body["cancel_reason"], status, other_kinds_code=reasons.NOT_SELLER_REASON
    )
    lines = _requested_lines(o, body)
    live = [li.id for li in o.line_items if li.package_status != "CANCELLED"]
    now = sb.clock.now()
    if lines is not None and set(lines) != set(live):
        if reason[0] not in OUT_OF_STOCK:
            raise _err(NO_PARTIAL_LINES)
        by_id = {li.id: li for li in o.line_items}
        if any(by_id[lid].package_id and world.packages[by_id[lid].package_id].shipped for lid in lines):
            raise _err(ALREADY_SHIPPED)
        c = A.seller_cancel_lines(world, o, now, reason[0], lines)
    else:
        world.cancel(o, now, "SELLER", reason[1])
        c = b.order_cancellations(o.id)[-1]
        c.reason, c.reason_text = reason[0], reason[1]
    return {"cancel_id": c.id, "cancel_status": c.status}


# ---------------------------------------------------------------------- returns
def return_view(sb: TikTokSandbox, r: A.ReturnRequest) -> dict[str, Any]:
    world = sb.world
    o = world.orders[r.order_id]
    by_id = {li.id: li for li in o.line_items}
    whole = set(r.line_item_ids) >= {li.id for li in o.line_items}
    refund = A.refund_amount(world, o, r.line_item_ids, include_shipping=whole and r.return_type == "REFUND")
    if r.refund_total_override:
        refund = dict(refund, refund_total=r.refund_total_override)
    warehouse = world.warehouses.get(o.warehouse_id)
    view: dict[str, Any] = {
        "return_id": r.id,
        "order_id": r.order_id,
        "return_type": r.return_type,
        "return_status": r.status,
        "role": r.role,
        "return_reason": r.reason,
        "return_reason_text": r.reason_text,
        "can_buyer_keep_item": r.buyer_keep_item or r.return_type == "REFUND",
        "create_time": r.create_time,
        "update_time": r.update_time,
        "seller_next_action_response": _next_action(r.next_action, r.deadline),
        "return_line_items": [
            {
                "return_line_item_id": r.return_line_ids[lid],
                "order_line_item_id": lid,
                "sku_id": by_id[lid].sku_id,
                "sku_name": by_id[lid].sku_name,
                "product_name": by_id[lid].product_name,
                "seller_sku": by_id[lid].seller_sku,
                "product_image": _image(by_id[lid].sku_id),
                "refund_amount": A.refund_amount(world, o, [lid], include_shipping=False),
            }
            for lid in r.line_item_ids
        ],
        "discount_amount": [
            {
                "currency": o.currency,
                "product_seller_discount": "0.00",
                "shipping_fee_platform_discount": "0.00",
                "shipping_fee_seller_discount": "0.00",
                "product_platform_discount": "0.00",
            }
        ],
        "refund_amount": refund,
        "is_combined_return": False,
    }
    if r.return_type == "RETURN_AND_REFUND":
        view.update(
            {
                "shipment_type": r.shipment_type,
                "handover_method": r.handover_method,
                "return_method": "PLATFORM_SHIPPED",
                "return_shipping_document_type": "SHIPPING_LABEL",
                "shipping_fee_amount": [
                    {
                        "currency": o.currency,
                        "seller_paid_return_shipping_fee": "0.00",
                        "platform_paid_return_shipping_fee": "0.00",
                        "buyer_paid_return_shipping_fee": "0.00",
                    }
                ],
            }
        )
        if warehouse is not None:
            view["return_warehouse_address"] = {"full_address": warehouse.address.full_address}
    if r.tracking_number:
        view.update(
            {
                "return_tracking_number": r.tracking_number,
                "return_provider_name": r.provider_name,
                "return_provider_id": r.provider_id,
            }
        )
    if r.partial_refund is not None:
        view["seller_proposed_return_type"] = "PARTIAL_REFUND"
        view["partial_refund"] = dict(r.partial_refund)
        view["buyer_rejected_partial_refund"] = bool(r.buyer_rejected_partial_refund)
    return view


def search_returns(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    page_size = _page(req, 10, 50)  # spec: "Valid range: [10-50]"
    field, desc = _sort(req)
    body = req.body_obj()
    ids = _str_list(body, "return_ids")
    order_ids = _str_list(body, "order_ids")
    buyers = _str_list(body, "buyer_user_ids")
    types = _str_list(body, "return_types", A.RETURN_TYPES)
    statuses = _str_list(body, "return_status", A.RETURN_STATUSES)
    proposed = _str_list(body, "seller_proposed_return_type", ("PARTIAL_REFUND",))
    arbitration = _str_list(body, "arbitration_status", ("IN_PROGRESS", "SUPPORT_BUYER", "SUPPORT_SELLER", "CLOSED"))
    times = _time_filter(body)
    world = sb.world
    b = A.book(world)
    pool = [r for oid in order_ids for r in b.order_returns(oid)] if order_ids is not None else list(b.returns.values())
    found = [
        r
        for r in pool
        if r.shop_id == req.shop.id
        and (ids is None or r.id in ids)
        and (types is None or r.return_type in types)
        and (statuses is None or r.status in statuses)
        and (proposed is None or r.partial_refund is not None)
        and arbitration is None  # the sandbox has no arbitration: a filter on it matches nothing
        and (buyers is None or world.orders[r.order_id].user_id in buyers)
        and _in_time(r, times)
    ]
    page, nxt = _paginate(req, found, body, page_size, field, desc)
    return {"return_orders": [return_view(sb, r) for r in page], "total_count": len(found), "next_page_token": nxt}


def _return(sb: TikTokSandbox, req: Request) -> A.ReturnRequest:
    assert req.shop is not None
    r = A.book(sb.world).returns.get(req.path_params.get("return_id", ""))
    if r is None:
        raise _err(INVALID, "Unknown return_id.")
    if r.shop_id != req.shop.id:
        raise _err(NO_PERMISSION)
    return r


def return_records(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    r = _return(sb, req)
    return {"records": [dict(rec, images=[], videos=[]) for rec in r.records]}


APPROVE_DECISIONS = {
    "APPROVE_REFUND": ("REFUND",),
    "APPROVE_RETURN": ("RETURN_AND_REFUND",),
    "APPROVE_RECEIVED_PACKAGE": ("RETURN_AND_REFUND",),
    "APPROVE_REPLACEMENT": ("REPLACEMENT",),
    "ISSUE_REPLACEMENT_REFUND": ("REPLACEMENT",),
    "OFFER_PARTIAL_REFUND": ("REFUND", "RETURN_AND_REFUND"),
}
REJECT_DECISIONS = {
    "REJECT_REFUND": ("REFUND",),
    "REJECT_RETURN": ("RETURN_AND_REFUND",),
    "REJECT_RECEIVED_PACKAGE": ("RETURN_AND_REFUND",),
    "REJECT_REPLACEMENT": ("REPLACEMENT",),
}


def _check_approvable(r: A.ReturnRequest, decision: str) -> None:
    if r.status in (A.R_CANCEL, A.X_CANCEL):
        raise _err(ALREADY_CANCELLED)
    if decision == "APPROVE_RECEIVED_PACKAGE":
        if r.status != A.R_SHIPPED or not r.received_time:
            raise _err(CANNOT_APPROVE_RECEIVE)
        return
    if decision == "OFFER_PARTIAL_REFUND" and r.status != A.R_PENDING:
        raise _err(PARTIAL_STATUS)
    if r.status not in (A.R_PENDING, A.X_PENDING):
        raise _err(CANNOT_APPROVE)


def _partial(body: dict[str, Any], r: A.ReturnRequest, currency: str, refundable: str) -> dict[str, str]:
    p = body.get("partial_refund")
    if not isinstance(p, dict) or not isinstance(p.get("amount"), str):
        raise _err(INVALID, "partial_refund.amount is required for OFFER_PARTIAL_REFUND.")
    try:
        amount = float(p["amount"])
    except ValueError as exc:
        raise _err(INVALID, "partial_refund.amount must be a decimal string.") from exc
    if p.get("currency", currency) != currency or not 0 < amount < float(refundable):
        raise _err(INVALID, "partial_refund must be less than the refundable amount, in the order's currency.")
    return {"currency": currency, "amount": f"{amount:.2f}"}


def approve_return(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    r = _return(sb, req)
    body = req.body_obj()
    decision = body.get("decision")
    if decision not in APPROVE_DECISIONS:
        raise _err(INVALID, f"decision: possible values are {', '.join(APPROVE_DECISIONS)}.")
    keep = body.get("buyer_keep_item", False)
    if not isinstance(keep, bool):
        raise _err(INVALID, "buyer_keep_item must be a boolean.")

    def decide() -> dict[str, Any]:
        if r.return_type not in APPROVE_DECISIONS[decision]:
            raise _err(DECISION_TYPE)
        _check_approvable(r, decision)
        partial = None
        if decision == "OFFER_PARTIAL_REFUND":
            o = sb.world.orders[r.order_id]
            refundable = A.refund_amount(sb.world, o, r.line_item_ids, include_shipping=False)["refund_total"]
            partial = _partial(body, r, o.currency, refundable)
        A.approve_return(sb.world, r, sb.clock.now(), decision, buyer_keep_item=keep, partial=partial)
        return {}

    result: dict[str, Any] = _idempotent(sb, req, decide)
    return result


def _check_rejectable(r: A.ReturnRequest, decision: str) -> None:
    if r.status in (A.R_CANCEL, A.X_CANCEL):
        raise _err(ALREADY_CANCELLED)
    if r.status in (A.R_SUCCESS, A.R_COMPLETE, A.X_COMPLETE, A.X_REFUND, A.R_AWAITING_SHIP):
        raise _err(ALREADY_APPROVED)
    if decision == "REJECT_RECEIVED_PACKAGE":
        if r.status == A.R_REJECT_RECEIVE:
            raise _err(CANNOT_REJECT_RECEIVE)
        if r.status != A.R_SHIPPED:
            raise _err(CANNOT_REJECT_RECEIVE)
        if not r.received_time:
            raise _err(CANNOT_REJECT_PARCEL_NOW)
        return
    if r.status == A.R_SHIPPED:
        raise _err(ALREADY_RECEIVED if r.received_time else CANNOT_REJECT)
    if r.status not in (A.R_PENDING, A.X_PENDING):
        raise _err(CANNOT_REJECT)


def reject_return(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    r = _return(sb, req)
    body = req.body_obj()
    decision = body.get("decision")
    if decision not in REJECT_DECISIONS:
        raise _err(INVALID, f"decision: possible values are {', '.join(REJECT_DECISIONS)}.")
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise _err(INVALID, "comment must be a string.")

    def decide() -> dict[str, Any]:
        if r.return_type not in REJECT_DECISIONS[decision]:
            raise _err(DECISION_TYPE)
        _check_rejectable(r, decision)
        kind = _reject_kind(r, decision)
        region = sb.world.shops[r.shop_id].region
        reason = reasons.check(
            region, kind, body.get("reject_reason"), None, other_kinds_code=reasons.REASON_NOT_MATCH_ACTION
        )
        A.reject_return(sb.world, r, sb.clock.now(), decision, reason[0], comment)
        return {}

    result: dict[str, Any] = _idempotent(sb, req, decide)
    return result


def _reject_kind(r: A.ReturnRequest, decision: str | None = None) -> str:
    if decision == "REJECT_RECEIVED_PACKAGE" or (decision is None and r.status == A.R_SHIPPED):
        return "seller_reject_receive"
    if r.return_type == "REFUND":
        return "seller_reject_refund"
    # Replacement: no reject list of its own in the appendix; the return list is used (guess).
    return "seller_reject_return"


def reject_reasons(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    rid = req.query.get("return_or_cancel_id", "")
    if not rid:
        raise _err(INVALID, "return_or_cancel_id is required.")
    b = A.book(sb.world)
    rec: A.Cancellation | A.ReturnRequest | None = b.cancellations.get(rid) or b.returns.get(rid)
    if rec is None:
        raise _err(INVALID, "Unknown return_or_cancel_id.")
    if rec.shop_id != req.shop.id:
        raise _err(NO_PERMISSION)
    kind = "seller_reject_cancel" if isinstance(rec, A.Cancellation) else _reject_kind(rec)
    region = sb.world.shops[rec.shop_id].region
    return {"reasons": [{"name": name, "text": text} for name, text, _ in reasons.table(region, kind)]}


# ---------------------------------------------------------------------- refunds and eligibility
def calculate_refund(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    body = req.body_obj()
    o = _shop_order(sb, req, body.get("order_id"), ORDER_NOT_FOUND)
    request_type = body.get("request_type")
    if request_type not in ("CANCEL", "REFUND", "RETURN_AND_REFUND"):
        raise _err(INVALID, "request_type: possible values are CANCEL, REFUND, RETURN_AND_REFUND.")
    if body.get("shipment_type") not in (None, "PLATFORM", "BUYER_ARRANGE"):
        raise _err(INVALID, "shipment_type: possible values are PLATFORM, BUYER_ARRANGE.")
    if body.get("handover_method") not in (None, "DROP_OFF", "PICKUP"):
        raise _err(INVALID, "handover_method: possible values are DROP_OFF, PICKUP.")
    if not isinstance(body.get("reason_name"), str) or not body["reason_name"]:
        raise _err(INVALID, "reason_name is required.")
    region = sb.world.shops[o.shop_id].region
    kinds = {
        "CANCEL": ("seller_cancel",),
        "REFUND": ("seller_refund",),
        "RETURN_AND_REFUND": ("seller_return",),
    }[request_type]
    if reasons.find(region, kinds[0], body["reason_name"]) is None:
        raise _err(INVALID, "reason_name is not a reason for this request_type.")
    lines = _requested_lines(o, body)
    live = [li.id for li in o.line_items if li.package_status != "CANCELLED"]
    chosen = lines if lines is not None else live
    whole = set(chosen) == set(live)
    amount = A.refund_amount(sb.world, o, chosen, include_shipping=whole and request_type in ("CANCEL", "REFUND"))
    amount.pop("buyer_service_fee")
    return {"order_refund_amount": amount}


def _eligibility(sb: TikTokSandbox, o: Order, request_type: str, user: str) -> tuple[bool, int, str]:
    """Policy table of the overview ("when Cancellation, Return and Refund can be used based on the order status")."""
    b = A.book(sb.world)
    s = o.status
    if s in ("CANCELLED", "COMPLETED"):
        return False, *FINISHED
    if b.pending_cancellation(o.id) is not None or b.open_return(o.id) is not None:
        return False, *IN_PROCESS
    allowed = {
        ("CANCEL", "BUYER"): ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"),
        ("CANCEL", "SELLER"): ("ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION"),
        ("REFUND", "BUYER"): ("AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"),
        ("REFUND", "SELLER"): ("AWAITING_COLLECTION", "DELIVERED"),
        ("RETURN_AND_REFUND", "BUYER"): ("DELIVERED",),
        ("RETURN_AND_REFUND", "SELLER"): ("IN_TRANSIT", "DELIVERED") if sb.world.shops[o.shop_id].is_us else (),
    }[(request_type, user)]
    if s in allowed:
        return True, 0, ""
    if request_type == "CANCEL" and s in ("IN_TRANSIT", "DELIVERED", "AWAITING_COLLECTION"):
        return False, *ALREADY_SHIPPED
    return False, INVALID_ORDER_STATUS[0], "invalid order status"


def aftersale_eligibility(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    o = _shop_order(sb, req, req.path_params.get("order_id"), ORDER_NOT_FOUND)
    user = req.query.get("initiate_aftersale_user", "SELLER")
    if user not in ("SELLER", "BUYER"):
        raise _err(INVALID, "initiate_aftersale_user: possible values are SELLER, BUYER.")
    by_sku: dict[str, list[str]] = {}
    for li in o.line_items:
        if li.package_status != "CANCELLED":
            by_sku.setdefault(li.sku_id, []).append(li.id)
    out = []
    for sku_id, line_ids in by_sku.items():
        rows = []
        for request_type in ("CANCEL", "REFUND", "RETURN_AND_REFUND"):
            ok, code, why = _eligibility(sb, o, request_type, user)
            row: dict[str, Any] = {"request_type": request_type, "order_line_items_ids": line_ids, "eligible": ok}
            if not ok:
                row.update({"ineligible_code": code, "ineligible_reason": why})
            rows.append(row)
        out.append({"sku_id": sku_id, "line_item_eligibility": rows})
    return {"sku_eligibility": out}


def create_return(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    """A return or refund the seller opens on the buyer's behalf; it then waits for the seller's decision."""
    body = req.body_obj()
    o = _shop_order(sb, req, body.get("order_id"), NO_PERMISSION)
    return_type = body.get("return_type")
    if return_type not in ("REFUND", "RETURN_AND_REFUND"):
        raise _err(INVALID, "return_type: possible values are REFUND, RETURN_AND_REFUND.")
    for key, allowed in (("shipment_type", ("PLATFORM", "BUYER_ARRANGE")), ("handover_method", ("DROP_OFF", "PICKUP"))):
        if body.get(key) not in (None, *allowed):
            raise _err(INVALID, f"{key}: possible values are {', '.join(allowed)}.")

    def decide() -> dict[str, Any]:
        if o.status == "CANCELLED":
            raise _err(FINISHED)
        b = A.book(sb.world)
        if b.open_return(o.id) is not None:
            raise _err(IN_PROCESS)
        if any(r.status in (A.R_SUCCESS, A.R_COMPLETE) for r in b.order_returns(o.id)):
            raise _err(RETURN_DONE)
        ok, _, _ = _eligibility(sb, o, return_type, "SELLER")
        if not ok:
            raise _err(INVALID_ORDER_STATUS)
        region = sb.world.shops[o.shop_id].region
        kind = "seller_refund" if return_type == "REFUND" else "seller_return"
        reason = reasons.check(
            region, kind, body.get("return_reason"), o.status, other_kinds_code=reasons.NOT_SELLER_REASON
        )
        lines = _requested_lines(o, body)
        chosen = lines if lines is not None else [li.id for li in o.line_items if li.package_status != "CANCELLED"]
        refund_total = body.get("refund_total")
        if refund_total is not None:
            refundable = A.refund_amount(sb.world, o, chosen, include_shipping=False)["refund_total"]
            try:
                too_much = float(refund_total) > float(refundable)
            except (TypeError, ValueError) as exc:
                raise _err(INVALID, "refund_total must be a decimal string.") from exc
            if too_much:
                raise _err(REFUND_TOO_LARGE)
        r = A.open_return(
            sb.world, o, sb.clock.now(), return_type=return_type, reason=reason[0], line_ids=chosen, role="SELLER"
        )
        if body.get("shipment_type"):
            r.shipment_type = body["shipment_type"]
        if body.get("handover_method"):
            r.handover_method = body["handover_method"]
        if refund_total is not None:
            r.refund_total_override = f"{float(refund_total):.2f}"
        return {"return_id": r.id, "return_status": r.status}

    result: dict[str, Any] = _idempotent(sb, req, decide)
    return result
