"""Control API events for the after-sale side: the buyer's (and the carrier's) part of cancellations, returns and
address changes, which a seller's app cannot do through the open API.

POST /sandbox/orders/{order_id}/events with {"type": ...}:
  cancel_request (alias buyer_cancel_request)  {reason?}                 buyer asks to cancel (48 h for the seller)
  buyer_cancel_withdraw                                                  buyer withdraws a pending request
  return_request   {return_type?: REFUND | RETURN_AND_REFUND | REPLACEMENT, reason?, order_line_item_ids?}
  return_shipped   {tracking_number?, provider_id?}                      buyer hands the return parcel to the carrier
  return_received                                                        the parcel reaches the seller's warehouse
  return_cancel                                                          buyer cancels the return / refund request
  partial_refund_response {accept: bool}                                 buyer answers a seller's partial refund offer
  address_update   {line1?, line2?, city?, state?, state_code?, postal_code?, first_name?, last_name?, phone?}
GET /sandbox/orders/{order_id}/aftersale: the order's cancellations, returns and address changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import aftersale as A
from . import reasons

if TYPE_CHECKING:
    from .app import TikTokSandbox
    from .state import Order

EVENTS = (
    "cancel_request",
    "buyer_cancel_request",
    "buyer_cancel_withdraw",
    "return_request",
    "return_shipped",
    "return_received",
    "return_cancel",
    "partial_refund_response",
    "address_update",
)
RETURN_PROVIDERS = {"US": ("7117858858072016686", "USPS"), "GB": ("6959574364372895749", "Royal Mail")}


class Conflict(Exception):
    """The event does not apply to the order in its current state (answered 409)."""


def aftersale_event(sb: TikTokSandbox, o: Order, kind: str, body: dict[str, Any]) -> None:
    world = sb.world
    now = sb.clock.now()
    b = A.book(world)
    region = world.shops[o.shop_id].region
    if kind in ("cancel_request", "buyer_cancel_request"):
        reason = str(body.get("reason", ""))
        if o.status in ("UNPAID", "ON_HOLD"):
            # Overview: unpaid orders are cancelled freely, and during the remorse window the platform accepts the
            # request on the seller's behalf (a direct CANCEL).
            text = reasons.text(region, reasons.resolve(region, ("buyer_cancel",), reason, o.status))
            world.cancel(o, now, "BUYER", text)
            return
        if o.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
            raise Conflict(f"order is {o.status}: the buyer can no longer ask to cancel")
        if b.pending_cancellation(o.id) is not None:
            raise Conflict("a cancellation request is already pending")
        A.open_buyer_cancel(world, o, now, reason)
    elif kind == "buyer_cancel_withdraw":
        c = b.pending_cancellation(o.id)
        if c is None:
            raise Conflict("no pending cancellation request")
        A.withdraw_cancellation(world, c, now)
    elif kind == "return_request":
        _return_request(sb, o, body)
    elif kind == "return_shipped":
        r = _open_return(b, o, (A.R_AWAITING_SHIP,))
        provider = RETURN_PROVIDERS[reasons.market(region)]
        if body.get("provider_id"):
            provider = (str(body["provider_id"]), str(body.get("provider_name", provider[1])))
        tracking = str(body.get("tracking_number") or world.new_tracking(provider[1]))
        A.ship_return(world, r, now, tracking, provider)
    elif kind == "return_received":
        r = _open_return(b, o, (A.R_SHIPPED,))
        if r.received_time:
            raise Conflict("the return parcel was already received")
        A.receive_return(world, r, now)
    elif kind == "return_cancel":
        r = _open_return(b, o, (A.R_PENDING, A.X_PENDING, A.R_AWAITING_SHIP, A.R_AWAITING_BUYER_RESPONSE))
        A.cancel_return(world, r, now)
    elif kind == "partial_refund_response":
        r = _open_return(b, o, (A.R_AWAITING_BUYER_RESPONSE,))
        A.answer_partial_refund(world, r, now, bool(body.get("accept", True)))
    elif kind == "address_update":
        if o.status not in A.ADDRESS_CHANGEABLE:
            raise Conflict(f"order is {o.status}: the address can no longer change")
        A.update_address(world, o, now, body)


def _open_return(b: A.AfterSaleBook, o: Order, statuses: tuple[str, ...]) -> A.ReturnRequest:
    r = next((r for r in reversed(b.order_returns(o.id)) if r.status in statuses), None)
    if r is None:
        raise Conflict(f"no return request in {', '.join(statuses)}")
    return r


def _return_request(sb: TikTokSandbox, o: Order, body: dict[str, Any]) -> A.ReturnRequest:
    world = sb.world
    b = A.book(world)
    return_type = str(body.get("return_type", "RETURN_AND_REFUND"))
    if return_type not in A.RETURN_TYPES:
        raise Conflict(f"return_type must be one of {', '.join(A.RETURN_TYPES)}")
    # Overview policy: buyers ask for a refund from AWAITING_COLLECTION, a return (or replacement) once DELIVERED.
    allowed = ("AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED") if return_type == "REFUND" else ("DELIVERED",)
    if o.status not in allowed:
        raise Conflict(f"order is {o.status}: a {return_type} request needs {' or '.join(allowed)}")
    if b.open_return(o.id) is not None:
        raise Conflict("a return request is already open")
    region = world.shops[o.shop_id].region
    kind = "buyer_refund" if return_type == "REFUND" else "buyer_return"
    reason = reasons.resolve(region, (kind,), str(body.get("reason", "")), o.status)
    line_ids = body.get("order_line_item_ids") or [li.id for li in o.line_items if li.package_status != "CANCELLED"]
    known = {li.id for li in o.line_items}
    if not isinstance(line_ids, list) or any(lid not in known for lid in line_ids):
        raise Conflict("order_line_item_ids must be line items of this order")
    return A.open_return(world, o, sb.clock.now(), return_type=return_type, reason=reason, line_ids=list(line_ids))
