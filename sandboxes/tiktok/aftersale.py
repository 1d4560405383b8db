"""After-sale state machines on the sandbox clock: cancellations, returns / refunds / replacements, and recipient
address updates.

Source of the rules: spec/api-reference/return-and-refund/return-refund-and-cancel-api-overview.json (statuses, steps,
the 48 h seller response policy), the webhook pages 11 (cancellation status change), 12 (return status change) and 3
(recipient address update). Every guess is listed in docs/platforms/tiktok-sandbox.md.

Everything here runs with ``World.lock`` held. Deadlines sit in their own heap (``AfterSaleBook.heap``), applied by
``World.tick`` in time order together with the order transitions. Nothing here imports ``state`` at import time
(``state`` imports this module), so the world is only reached through the object passed in.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import reasons
from .errors import ApiError

if TYPE_CHECKING:
    from .state import LineItem, Order, World

HOUR = 3600
DAY = 86400
SELLER_RESPONSE_SECONDS = 48 * HOUR  # overview: the seller must respond within 48 h, else the platform approves
REPLACEMENT_RESPONSE_SECONDS = 24 * HOUR  # overview: "Seller has 24 hours to respond" to a replacement request
BUYER_SHIP_SECONDS = 7 * DAY  # guess: the buyer's time to ship an approved return back
RETURN_TRANSIT_SECONDS = 3 * DAY  # guess: a shipped-back parcel reaches the seller's warehouse after 3 days
ARBITRATION_SECONDS = 7 * DAY  # guess: a rejected request with no arbitration closes after 7 days
REFUND_SECONDS = 5 * 60  # guess: a successful request is refunded (COMPLETE) 5 minutes later

CANCEL_PENDING = "CANCELLATION_REQUEST_PENDING"
CANCEL_SUCCESS = "CANCELLATION_REQUEST_SUCCESS"
CANCEL_CANCELLED = "CANCELLATION_REQUEST_CANCELLED"
CANCEL_COMPLETE = "CANCELLATION_REQUEST_COMPLETE"
CANCEL_STATUSES = (CANCEL_PENDING, CANCEL_SUCCESS, CANCEL_CANCELLED, CANCEL_COMPLETE)
# The request filter of Search Cancellations and Cancel Order's response spell the closed state "..._CANCEL".
CANCEL_STATUS_ALIASES = {"CANCELLATION_REQUEST_CANCEL": CANCEL_CANCELLED}

R_PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
R_REJECT = "REFUND_OR_RETURN_REQUEST_REJECT"
R_AWAITING_SHIP = "AWAITING_BUYER_SHIP"
R_SHIPPED = "BUYER_SHIPPED_ITEM"
R_REJECT_RECEIVE = "REJECT_RECEIVE_PACKAGE"
R_SUCCESS = "RETURN_OR_REFUND_REQUEST_SUCCESS"
R_CANCEL = "RETURN_OR_REFUND_REQUEST_CANCEL"
R_COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"
R_AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"
X_PENDING = "REPLACEMENT_REQUEST_PENDING"
X_REJECT = "REPLACEMENT_REQUEST_REJECT"
X_REFUND = "REPLACEMENT_REQUEST_REFUND_SUCCESS"
X_CANCEL = "REPLACEMENT_REQUEST_CANCEL"
X_COMPLETE = "REPLACEMENT_REQUEST_COMPLETE"
RETURN_STATUSES = (
    R_PENDING,
    R_REJECT,
    R_AWAITING_SHIP,
    R_SHIPPED,
    R_REJECT_RECEIVE,
    R_SUCCESS,
    R_CANCEL,
    R_COMPLETE,
    R_AWAITING_BUYER_RESPONSE,
    X_PENDING,
    X_REJECT,
    X_REFUND,
    X_CANCEL,
    X_COMPLETE,
)
RETURN_TYPES = ("REFUND", "RETURN_AND_REFUND", "REPLACEMENT")
# A request is "open" (blocks Create Packages and friends with 21011007, and a second request) in these.
OPEN_RETURN = (R_PENDING, R_AWAITING_SHIP, R_SHIPPED, R_REJECT, R_REJECT_RECEIVE, R_AWAITING_BUYER_RESPONSE, X_PENDING)
FINAL_RETURN = (R_CANCEL, R_COMPLETE, X_REJECT, X_REFUND, X_CANCEL, X_COMPLETE)

PRE_SHIPMENT = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING")


# ---------------------------------------------------------------------- records
@dataclass
class Cancellation:
    id: str
    order_id: str
    shop_id: str
    cancel_type: str  # BUYER_CANCEL (needs the seller's answer) | CANCEL (direct)
    role: str  # BUYER | SELLER | SYSTEM | OPERATOR: who initiated it
    status: str
    reason: str  # reason name
    reason_text: str
    create_time: int
    update_time: int
    line_item_ids: list[str]
    cancel_line_ids: dict[str, str]  # order line item id -> cancellation line item id
    deadline: int = 0
    decided_by: str = ""  # SELLER | SYSTEM | BUYER (withdrawn)
    reject_reason: str = ""
    reject_comment: str = ""
    version: int = 0


@dataclass
class ReturnRequest:
    id: str
    order_id: str
    shop_id: str
    return_type: str  # REFUND | RETURN_AND_REFUND | REPLACEMENT
    role: str
    status: str
    reason: str
    reason_text: str
    create_time: int
    update_time: int
    line_item_ids: list[str]
    return_line_ids: dict[str, str]
    deadline: int = 0  # deadline of whatever comes next (seller's answer, the buyer's shipment, arbitration)
    next_action: str = ""  # seller's next action, "" when the seller has nothing to do
    shipment_type: str = ""
    handover_method: str = ""
    tracking_number: str = ""
    provider_id: str = ""
    provider_name: str = ""
    shipped_time: int = 0
    received_time: int = 0
    buyer_keep_item: bool = False
    partial_refund: dict[str, str] | None = None
    buyer_rejected_partial_refund: bool | None = None
    refund_total_override: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0


@dataclass
class AfterSaleBook:
    cancellations: dict[str, Cancellation] = field(default_factory=dict)
    returns: dict[str, ReturnRequest] = field(default_factory=dict)
    by_order: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # order id -> [(kind, id)]
    heap: list[tuple[int, int, str, str, int, str]] = field(default_factory=list)
    seq: int = 0
    idempotency: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    address_changes: list[dict[str, Any]] = field(default_factory=list)

    def next_due(self) -> int | None:
        return self.heap[0][0] if self.heap else None

    def order_cancellations(self, order_id: str) -> list[Cancellation]:
        return [self.cancellations[i] for k, i in self.by_order.get(order_id, []) if k == "cancel"]

    def order_returns(self, order_id: str) -> list[ReturnRequest]:
        return [self.returns[i] for k, i in self.by_order.get(order_id, []) if k == "return"]

    def pending_cancellation(self, order_id: str) -> Cancellation | None:
        return next((c for c in self.order_cancellations(order_id) if c.status == CANCEL_PENDING), None)

    def open_return(self, order_id: str) -> ReturnRequest | None:
        return next((r for r in self.order_returns(order_id) if r.status in OPEN_RETURN), None)


def book(world: World) -> AfterSaleBook:
    return world.aftersale


def has_open_request(world: World, o: Order) -> bool:
    """An open after-sale request on the order: what 21011007 refuses packages for."""
    b = book(world)
    return o.is_buyer_request_cancel or b.pending_cancellation(o.id) is not None or b.open_return(o.id) is not None


# ---------------------------------------------------------------------- scheduling
def _schedule(world: World, due: int, kind: str, rec: Cancellation | ReturnRequest, action: str) -> None:
    b = book(world)
    b.seq += 1
    heapq.heappush(b.heap, (due, b.seq, kind, rec.id, rec.version, action))


def apply_next(world: World) -> int:
    """Apply the earliest due after-sale transition (the caller checked it is due)."""
    b = book(world)
    due, _, kind, rec_id, version, action = heapq.heappop(b.heap)
    if kind == "cancel":
        c = b.cancellations.get(rec_id)
        if c is None or c.version != version:
            return 0
        _apply_cancel_action(world, c, action, due)
    else:
        r = b.returns.get(rec_id)
        if r is None or r.version != version:
            return 0
        _apply_return_action(world, r, action, due)
    return 1


def _apply_cancel_action(world: World, c: Cancellation, action: str, at: int) -> None:
    if action == "auto_approve" and c.status == CANCEL_PENDING:
        o = world.orders[c.order_id]
        if o.status in PRE_SHIPMENT:
            approve_cancellation(world, c, at, by="SYSTEM")
    elif action == "refund" and c.status == CANCEL_SUCCESS:
        _cancel_set(world, c, CANCEL_COMPLETE, at)


def _apply_return_action(world: World, r: ReturnRequest, action: str, at: int) -> None:
    if action == "auto_approve" and r.status in (R_PENDING, X_PENDING):
        _record(r, "SYSTEM", "The platform approved the request: the seller did not respond in time", at)
        if r.return_type == "RETURN_AND_REFUND":
            _return_to_awaiting_ship(world, r, at, role="SYSTEM")
        elif r.return_type == "REPLACEMENT":
            _return_set(world, r, X_COMPLETE, at, role="SYSTEM")
        else:
            _return_success(world, r, at, role="SYSTEM")
    elif action == "auto_approve" and r.status == R_SHIPPED and r.received_time:
        _record(r, "SYSTEM", "The platform approved the refund: the seller did not respond in time", at)
        _return_success(world, r, at, role="SYSTEM")
    elif action == "close_unshipped" and r.status == R_AWAITING_SHIP:
        _record(r, "SYSTEM", "The request was closed: the buyer did not ship the item(s) back in time", at)
        _return_set(world, r, R_CANCEL, at, role="SYSTEM")
    elif action == "arrive" and r.status == R_SHIPPED and not r.received_time:
        receive_return(world, r, at)
    elif action == "close_rejected" and r.status in (R_REJECT, R_REJECT_RECEIVE):
        _record(r, "SYSTEM", "The request was closed: no arbitration was raised", at)
        _return_set(world, r, R_CANCEL, at, role="SYSTEM")
    elif action == "refund" and r.status == R_SUCCESS:
        _record(r, "SYSTEM", "The refund was issued to the buyer", at)
        _return_set(world, r, R_COMPLETE, at, role="SYSTEM")


# ---------------------------------------------------------------------- money
def _money(x: float) -> str:
    return f"{x:.2f}"


def refund_amount(world: World, o: Order, line_ids: list[str], include_shipping: bool) -> dict[str, str]:
    """Refund of the given lines: their sale prices, their share of tax (US 7.25%, as the order shows) and, when asked,
    the shipping fee."""
    shop = world.shops[o.shop_id]
    lines = [li for li in o.line_items if li.id in set(line_ids)]
    sub = sum(float(li.sale_price) for li in lines)
    tax = round(sub * 0.0725, 2) if shop.is_us else 0.0
    ship = float(o.shipping_fee) if include_shipping else 0.0
    return {
        "currency": o.currency,
        "refund_total": _money(sub + tax + ship),
        "refund_subtotal": _money(sub),
        "refund_shipping_fee": _money(ship),
        "refund_tax": _money(tax),
        "retail_delivery_fee": "0.00",
        "buyer_service_fee": "0.00",
    }


def _live_lines(o: Order) -> list[LineItem]:
    return [li for li in o.line_items if li.package_status != "CANCELLED"]


# ---------------------------------------------------------------------- cancellations
def _emit_cancel(world: World, c: Cancellation) -> None:
    world.emit(
        c.shop_id,
        11,
        {
            "order_id": c.order_id,
            "cancellations_role": c.role,
            "cancel_status": c.status,
            "cancel_id": c.id,
            "create_time": c.create_time,
        },
    )


def _cancel_set(world: World, c: Cancellation, status: str, at: int) -> None:
    c.status = status
    c.update_time = max(at, c.update_time)
    c.version += 1
    if status == CANCEL_SUCCESS:
        _schedule(world, at + REFUND_SECONDS, "cancel", c, "refund")
    _emit_cancel(world, c)


def _new_cancellation(
    world: World, o: Order, at: int, *, cancel_type: str, role: str, status: str, reason: str, line_ids: list[str]
) -> Cancellation:
    region = world.shops[o.shop_id].region
    c = Cancellation(
        id=world.ids.next("cancel"),
        order_id=o.id,
        shop_id=o.shop_id,
        cancel_type=cancel_type,
        role=role,
        status=status,
        reason=reason,
        reason_text=reasons.text(region, reason),
        create_time=at,
        update_time=at,
        line_item_ids=list(line_ids),
        cancel_line_ids={lid: world.ids.next("cancel") for lid in line_ids},
    )
    b = book(world)
    b.cancellations[c.id] = c
    b.by_order.setdefault(o.id, []).append(("cancel", c.id))
    return c


def open_buyer_cancel(world: World, o: Order, at: int, reason: str, *, emit: bool = True) -> Cancellation:
    """A buyer asks to cancel an order awaiting shipment: the seller has 48 h to answer."""
    reason = reasons.resolve(world.shops[o.shop_id].region, ("buyer_cancel",), reason, o.status)
    c = _new_cancellation(
        world,
        o,
        at,
        cancel_type="BUYER_CANCEL",
        role="BUYER",
        status=CANCEL_PENDING,
        reason=reason,
        line_ids=[li.id for li in _live_lines(o)],
    )
    c.deadline = at + SELLER_RESPONSE_SECONDS
    o.is_buyer_request_cancel = True
    o.request_cancel_time = at
    o.cancel_reason = c.reason_text
    _schedule(world, c.deadline, "cancel", c, "auto_approve")
    if emit:
        world.touch(o, at)
        _emit_cancel(world, c)
    return c


def approve_cancellation(world: World, c: Cancellation, at: int, *, by: str) -> None:
    """Seller (or, at the deadline, the platform) accepts the buyer's request: the order is cancelled."""
    c.decided_by = by
    o = world.orders[c.order_id]
    world.cancel(o, at, "BUYER", c.reason_text)  # calls order_cancelled, which moves ``c`` to SUCCESS


def reject_cancellation(world: World, c: Cancellation, at: int, reason: str, comment: str) -> None:
    """Seller refuses: the request is closed and the order continues."""
    c.decided_by, c.reject_reason, c.reject_comment = "SELLER", reason, comment
    _close_request(world, c, at)


def withdraw_cancellation(world: World, c: Cancellation, at: int) -> None:
    c.decided_by = "BUYER"
    _close_request(world, c, at)


def _close_request(world: World, c: Cancellation, at: int) -> None:
    o = world.orders[c.order_id]
    o.is_buyer_request_cancel = False
    if o.status != "CANCELLED":
        o.cancel_reason = ""
    world.touch(o, at)
    _cancel_set(world, c, CANCEL_CANCELLED, at)


def order_cancelled(
    world: World, o: Order, at: int, initiator: str, reason_text: str, prior_status: str
) -> Cancellation:
    """Hook called by ``World.cancel`` after the order moved to CANCELLED: records the cancellation and emits 11.

    A pending buyer request is either the one being accepted (the initiator is the buyer) or is overtaken by a
    seller / system cancellation (then it closes, and the direct cancellation is recorded on its own)."""
    b = book(world)
    region = world.shops[o.shop_id].region
    pending = b.pending_cancellation(o.id)
    bought = {pid for pid in o.package_ids if world.packages[pid].service}  # only Create Packages buys labels
    if bought:
        for label in world.labels:
            if label.package_id in bought and not label.void_time:
                label.void_time = at
    if pending is not None and initiator == "BUYER":
        pending.decided_by = pending.decided_by or "SYSTEM"
        _cancel_set(world, pending, CANCEL_SUCCESS, at)
        return pending
    if pending is not None:
        pending.decided_by = "SYSTEM"
        _cancel_set(world, pending, CANCEL_CANCELLED, at)
    kinds = {
        "BUYER": ("buyer_cancel",),
        "SELLER": ("seller_cancel",),
        "SYSTEM": ("system_cancel",),
        "OPERATOR": ("operator_cancel",),
    }.get(initiator, ("system_cancel",))
    c = _new_cancellation(
        world,
        o,
        at,
        cancel_type="CANCEL",
        role=initiator if initiator in ("BUYER", "SELLER", "SYSTEM", "OPERATOR") else "SYSTEM",
        status=CANCEL_SUCCESS,
        reason=reasons.resolve(region, kinds, reason_text, prior_status),
        line_ids=[li.id for li in o.line_items],
    )
    c.decided_by = "SYSTEM"
    _cancel_set(world, c, CANCEL_SUCCESS, at)
    return c


def seller_cancel_lines(world: World, o: Order, at: int, reason: str, line_ids: list[str]) -> Cancellation:
    """Partial seller cancellation (US / UK, out of stock): those lines are cancelled, the order goes on."""
    region = world.shops[o.shop_id].region
    c = _new_cancellation(
        world, o, at, cancel_type="CANCEL", role="SELLER", status=CANCEL_SUCCESS, reason=reason, line_ids=line_ids
    )
    text = reasons.text(region, reason)
    for li in o.line_items:
        if li.id in set(line_ids):
            li.package_status, li.cancel_user, li.cancel_reason = "CANCELLED", "SELLER", text
    c.decided_by = "SELLER"
    world.touch(o, at)
    _cancel_set(world, c, CANCEL_SUCCESS, at)
    return c


# ---------------------------------------------------------------------- returns
def _emit_return(world: World, r: ReturnRequest, role: str) -> None:
    world.emit(
        r.shop_id,
        12,
        {
            "order_id": r.order_id,
            "return_role": role,
            "return_type": r.return_type,
            "return_status": r.status,
            "return_id": r.id,
            "create_time": r.create_time,
            "update_time": r.update_time,
        },
    )


def _record(r: ReturnRequest, role: str, description: str, at: int, **extra: Any) -> None:
    rec: dict[str, Any] = {"event": "ORDER_RETURN", "role": role, "description": description, "create_time": at}
    rec.update({k: v for k, v in extra.items() if v})
    r.records.append(rec)


def _return_set(
    world: World, r: ReturnRequest, status: str, at: int, *, role: str, action: str = "", deadline: int = 0
) -> None:
    r.status = status
    r.update_time = max(at, r.update_time)
    r.version += 1
    r.next_action, r.deadline = action, deadline
    o = world.orders[r.order_id]
    o.has_after_sale = True
    world.touch(o, at)
    _emit_return(world, r, role)


def _return_success(world: World, r: ReturnRequest, at: int, *, role: str) -> None:
    _return_set(world, r, R_SUCCESS, at, role=role)
    _schedule(world, at + REFUND_SECONDS, "return", r, "refund")


def _return_to_awaiting_ship(world: World, r: ReturnRequest, at: int, role: str = "SELLER") -> None:
    _return_set(world, r, R_AWAITING_SHIP, at, role=role, deadline=at + BUYER_SHIP_SECONDS)
    r.shipment_type = r.shipment_type or "PLATFORM"
    r.handover_method = r.handover_method or "DROP_OFF"
    _schedule(world, r.deadline, "return", r, "close_unshipped")


def open_return(
    world: World,
    o: Order,
    at: int,
    *,
    return_type: str,
    reason: str,
    line_ids: list[str],
    role: str = "BUYER",
    emit: bool = True,
) -> ReturnRequest:
    region = world.shops[o.shop_id].region
    r = ReturnRequest(
        id=world.ids.next("cancel"),
        order_id=o.id,
        shop_id=o.shop_id,
        return_type=return_type,
        role=role,
        status=X_PENDING if return_type == "REPLACEMENT" else R_PENDING,
        reason=reason,
        reason_text=reasons.text(region, reason),
        create_time=at,
        update_time=at,
        line_item_ids=list(line_ids),
        return_line_ids={lid: world.ids.next("cancel") for lid in line_ids},
    )
    if return_type == "RETURN_AND_REFUND":
        r.shipment_type, r.handover_method = "PLATFORM", "DROP_OFF"
    action = {
        "REFUND": "SELLER_RESPOND_REFUND",
        "RETURN_AND_REFUND": "SELLER_RESPOND_RETURN",
        "REPLACEMENT": "SELLER_RESPOND_REPLACEMENT",
    }[return_type]
    r.next_action = action
    window = REPLACEMENT_RESPONSE_SECONDS if return_type == "REPLACEMENT" else SELLER_RESPONSE_SECONDS
    r.deadline = at + window
    b = book(world)
    b.returns[r.id] = r
    b.by_order.setdefault(o.id, []).append(("return", r.id))
    who = "Customer" if role == "BUYER" else "Seller"
    _record(
        r, role, f"{who} submitted a {return_type.lower().replace('_', ' ')} request", at, reason_text=r.reason_text
    )
    o.has_after_sale = True
    _schedule(world, r.deadline, "return", r, "auto_approve")
    if emit:
        world.touch(o, at)
        _emit_return(world, r, role)
    return r


def approve_return(
    world: World, r: ReturnRequest, at: int, decision: str, *, buyer_keep_item: bool, partial: dict[str, str] | None
) -> None:
    """Seller's Approve Return decision (already checked against the request's type and status)."""
    if decision == "APPROVE_REFUND" or (decision == "APPROVE_RETURN" and buyer_keep_item):
        r.buyer_keep_item = decision == "APPROVE_RETURN"
        _record(r, "SELLER", "Seller approved the refund request", at)
        _return_success(world, r, at, role="SELLER")
    elif decision == "APPROVE_RETURN":
        _record(r, "SELLER", "Seller approved the return request", at)
        _return_to_awaiting_ship(world, r, at)
    elif decision == "APPROVE_RECEIVED_PACKAGE":
        _record(r, "SELLER", "Seller confirmed the returned package and approved the refund", at)
        _return_success(world, r, at, role="SELLER")
    elif decision == "APPROVE_REPLACEMENT":
        _record(r, "SELLER", "Seller approved the replacement request", at)
        _return_set(world, r, X_COMPLETE, at, role="SELLER")
    elif decision == "ISSUE_REPLACEMENT_REFUND":
        _record(r, "SELLER", "Seller refunded the buyer instead of a replacement", at)
        _return_set(world, r, X_REFUND, at, role="SELLER")
    elif decision == "OFFER_PARTIAL_REFUND":
        assert partial is not None
        r.partial_refund = partial
        r.buyer_rejected_partial_refund = False
        _record(r, "SELLER", f"Seller offered a partial refund of {partial['amount']} {partial['currency']}", at)
        _return_set(world, r, R_AWAITING_BUYER_RESPONSE, at, role="SELLER", deadline=at + SELLER_RESPONSE_SECONDS)


def reject_return(world: World, r: ReturnRequest, at: int, decision: str, reason: str, comment: str) -> None:
    region = world.shops[r.shop_id].region
    text = reasons.text(region, reason)
    if decision == "REJECT_RECEIVED_PACKAGE":
        _record(r, "SELLER", "Seller rejected the returned package", at, reason_text=text, note=comment)
        _return_set(world, r, R_REJECT_RECEIVE, at, role="SELLER", deadline=at + ARBITRATION_SECONDS)
        _schedule(world, r.deadline, "return", r, "close_rejected")
    elif decision == "REJECT_REPLACEMENT":
        _record(r, "SELLER", "Seller rejected the replacement request", at, reason_text=text, note=comment)
        _return_set(world, r, X_REJECT, at, role="SELLER")
    else:
        _record(r, "SELLER", "Seller rejected the request", at, reason_text=text, note=comment)
        _return_set(world, r, R_REJECT, at, role="SELLER", deadline=at + ARBITRATION_SECONDS)
        _schedule(world, r.deadline, "return", r, "close_rejected")


def ship_return(world: World, r: ReturnRequest, at: int, tracking: str, provider: tuple[str, str]) -> None:
    r.tracking_number, (r.provider_id, r.provider_name) = tracking, provider
    r.shipped_time = at
    _record(r, "BUYER", "Customer shipped the return package", at)
    _return_set(world, r, R_SHIPPED, at, role="BUYER")
    _schedule(world, at + RETURN_TRANSIT_SECONDS, "return", r, "arrive")


def receive_return(world: World, r: ReturnRequest, at: int) -> None:
    """The return parcel reached the seller's warehouse: the seller has 48 h to inspect and answer."""
    r.received_time = at
    r.version += 1
    r.next_action, r.deadline = "SELLER_RESPOND_RECEIVE_PACKAGE", at + SELLER_RESPONSE_SECONDS
    r.update_time = max(at, r.update_time)
    _record(r, "SYSTEM", "The return package was delivered to the seller", at)
    world.touch(world.orders[r.order_id], at)
    _schedule(world, r.deadline, "return", r, "auto_approve")


def cancel_return(world: World, r: ReturnRequest, at: int, role: str = "BUYER") -> None:
    _record(r, role, "Customer cancelled the request" if role == "BUYER" else "The request was closed", at)
    _return_set(world, r, X_CANCEL if r.return_type == "REPLACEMENT" else R_CANCEL, at, role=role)


def answer_partial_refund(world: World, r: ReturnRequest, at: int, accept: bool) -> None:
    if accept:
        assert r.partial_refund is not None
        r.refund_total_override = r.partial_refund["amount"]
        r.buyer_keep_item = True
        _record(r, "BUYER", "Customer accepted the partial refund", at)
        _return_success(world, r, at, role="BUYER")
    else:
        r.buyer_rejected_partial_refund = True
        _record(r, "BUYER", "Customer rejected the partial refund", at)
        action = "SELLER_RESPOND_RETURN" if r.return_type == "RETURN_AND_REFUND" else "SELLER_RESPOND_REFUND"
        _return_set(world, r, R_PENDING, at, role="BUYER", action=action, deadline=at + SELLER_RESPONSE_SECONDS)
        _schedule(world, r.deadline, "return", r, "auto_approve")


# ---------------------------------------------------------------------- address updates
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "state_code", "postal_code", "first_name", "last_name", "phone")
ADDRESS_CHANGEABLE = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION")


def update_address(world: World, o: Order, at: int, changes: dict[str, Any], *, emit: bool = True) -> dict[str, Any]:
    """The buyer changed the recipient address: the order's address and update_time change, webhook 3 is sent.

    Allowed until the carrier has the parcel (AWAITING_COLLECTION included: a label bought before the change still
    shows the old address; that is for the seller to fix)."""
    a = o.address
    before = {k: getattr(a, k) for k in ADDRESS_FIELDS}
    for key in ADDRESS_FIELDS:
        if key in changes:
            setattr(a, key, str(changes[key]))
    a.bad_reason = str(changes.get("bad_reason", ""))
    o.has_updated_recipient_address = True
    world.touch(o, at)
    entry = {
        "order_id": o.id,
        "shop_id": o.shop_id,
        "update_time": o.update_time,
        "before": before,
        "after": {k: getattr(a, k) for k in ADDRESS_FIELDS},
        "labels_with_old_address": [lr.tracking_number for lr in world.labels if lr.order_id == o.id],
    }
    book(world).address_changes.append(entry)
    if emit:
        world.emit(o.shop_id, 3, {"order_id": o.id, "update_time": o.update_time})
    return entry


# ---------------------------------------------------------------------- views for the control API
def describe_order(world: World, o: Order) -> dict[str, Any]:
    b = book(world)
    return {
        "order_id": o.id,
        "order_status": o.status,
        "is_buyer_request_cancel": o.is_buyer_request_cancel,
        "has_open_request": has_open_request(world, o),
        "cancellations": [_plain(c) for c in b.order_cancellations(o.id)],
        "returns": [_plain(r) for r in b.order_returns(o.id)],
        "address_changes": [e for e in b.address_changes if e["order_id"] == o.id],
    }


def _plain(rec: Cancellation | ReturnRequest) -> dict[str, Any]:
    out = dict(rec.__dict__)
    out.pop("version", None)
    return out


def require(cond: bool, code: int, message: str) -> None:
    if not cond:
        raise ApiError(code, message)


def seed_past_cancellation(world: World, o: Order) -> Cancellation:
    """A cancelled order made by a seed: its cancellation record, already refunded (no webhook)."""
    region = world.shops[o.shop_id].region
    role = o.cancellation_initiator or "SYSTEM"
    kind = {"BUYER": "buyer_cancel", "SELLER": "seller_cancel"}.get(role, "system_cancel")
    status_before = "AWAITING_SHIPMENT" if o.paid_time else "UNPAID"
    c = _new_cancellation(
        world,
        o,
        o.cancel_time,
        cancel_type="BUYER_CANCEL" if role == "BUYER" and o.paid_time else "CANCEL",
        role=role,
        status=CANCEL_COMPLETE,
        reason=reasons.resolve(region, (kind,), o.cancel_reason, status_before),
        line_ids=[li.id for li in o.line_items],
    )
    c.decided_by = "SELLER" if c.cancel_type == "BUYER_CANCEL" else "SYSTEM"
    return c
