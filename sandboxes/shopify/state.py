"""The sandbox's own world: shops, locations, the catalogue, inventory, orders, their fulfillment orders and
fulfillments, webhook subscriptions and idempotency records, plus OAuth grants.

Derived states (a fulfillment order's status, an order's display status) are computed from the quantities rather
than stored, so that no code path can leave them disagreeing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

GID_RE = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(?:\?.*)?$")

# §5: the quantity names of an inventory level. on_hand = available + committed + the unavailable states.
UNAVAILABLE_NAMES = ("reserved", "damaged", "safety_stock", "quality_control")
QUANTITY_NAMES = ("available", "committed", "incoming", "on_hand", *UNAVAILABLE_NAMES)


def gid(kind: str, n: int) -> str:
    return f"gid://shopify/{kind}/{n}"


def parse_gid(value: Any) -> tuple[str, int] | None:
    """("Order", 5600000001) for "gid://shopify/Order/5600000001"; None for anything that is not a Shopify GID."""
    m = GID_RE.match(str(value or ""))
    return (m.group(1), int(m.group(2))) if m else None


def level_gid(location_id: int, item_id: int) -> str:
    # Shopify's InventoryLevel GIDs carry the item as a query parameter; the number is the location's [guess].
    return f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Address:
    name: str
    address1: str
    city: str
    province_code: str
    zip: str
    country_code: str
    company: str | None = None
    address2: str | None = None
    phone: str | None = None


@dataclass
class Location:
    id: int
    shop_id: int
    name: str
    address: Address
    is_active: bool = True


@dataclass
class Level:
    """One inventory item at one location (an InventoryLevel), by quantity name."""

    available: int = 0
    committed: int = 0
    incoming: int = 0
    reserved: int = 0
    damaged: int = 0
    safety_stock: int = 0
    quality_control: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def on_hand(self) -> int:
        return self.available + self.committed + sum(getattr(self, n) for n in UNAVAILABLE_NAMES)

    def get(self, name: str) -> int:
        if name == "on_hand":
            return self.on_hand
        value: int = getattr(self, name)
        return value


@dataclass
class InventoryItem:
    id: int
    sku: str
    levels: dict[int, Level] = field(default_factory=dict)  # location id -> level; a key = stocked there
    created_at: float = 0.0
    updated_at: float = 0.0
    variant_id: int = 0


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str
    price: Decimal
    inventory_item_id: int
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class Product:
    id: int
    shop_id: int
    title: str
    handle: str
    variant_ids: list[int] = field(default_factory=list)


@dataclass
class LineItem:
    id: int
    variant_id: int
    sku: str
    title: str
    quantity: int  # as ordered
    unit_price: Decimal
    current_quantity: int  # after edits (removals)
    fulfilled_quantity: int = 0
    fulfillment_order_line_item_id: int = 0  # one line lives in exactly one fulfillment order
    fulfillment_order_id: int = 0


@dataclass
class FulfillmentHold:
    id: int
    reason: str  # FulfillmentHoldReason: AWAITING_PAYMENT, HIGH_RISK_OF_FRAUD, INCORRECT_ADDRESS, ... OTHER
    reason_notes: str | None
    created_at: float


@dataclass
class FulfillmentOrder:
    """§4: one per assigned location, created with the order; the app never creates one."""

    id: int
    order_id: int
    shop_id: int
    location_id: int
    line_item_ids: list[int]
    created_at: float
    updated_at: float
    holds: list[FulfillmentHold] = field(default_factory=list)
    scheduled_at: float | None = None  # SCHEDULED until the merchant marks it open


@dataclass
class Tracking:
    company: str | None
    number: str | None
    url: str | None


@dataclass
class FulfillmentLine:
    id: int
    line_item_id: int
    fulfillment_order_line_item_id: int
    fulfillment_order_id: int
    quantity: int


@dataclass
class Fulfillment:
    id: int
    order_id: int
    shop_id: int
    location_id: int
    number: int  # n-th fulfillment of the order: the name is "#1001-F1" [guess]
    lines: list[FulfillmentLine]
    tracking: list[Tracking]
    created_at: float
    updated_at: float
    notify_customer: bool = False
    status: str = "SUCCESS"
    origin: str = "api"  # api (fulfillmentCreate) | admin (the merchant, via the control API) | seed


@dataclass
class Order:
    id: int
    shop_id: int
    number: int
    created_at: float
    updated_at: float
    currency: str
    shipping_address: Address | None
    line_items: list[LineItem]
    fulfillment_order_ids: list[int] = field(default_factory=list)
    fulfillment_ids: list[int] = field(default_factory=list)
    shipping_price: Decimal = Decimal("0.00")
    financial_status: str = "PAID"
    cancelled_at: float | None = None
    cancel_reason: str | None = None
    edited: bool = False
    email: str | None = None

    @property
    def name(self) -> str:
        return f"#{self.number}"

    def subtotal(self) -> Decimal:
        return sum((li.unit_price * li.current_quantity for li in self.line_items), Decimal("0.00"))

    def total(self) -> Decimal:
        return self.subtotal() + self.shipping_price

    def remaining(self, li: LineItem) -> int:
        """Units of a line still to ship (a FulfillmentOrderLineItem's remainingQuantity)."""
        return 0 if self.cancelled_at is not None else max(0, li.current_quantity - li.fulfilled_quantity)


@dataclass
class Shop:
    id: int
    name: str
    myshopify_domain: str
    currency: str
    email: str
    timezone: str
    location_ids: list[int] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    next_order_number: int = 1001

    @property
    def handle(self) -> str:
        return self.myshopify_domain.split(".", 1)[0]


@dataclass
class AuthCode:
    code: str
    shop_id: int
    client_id: str
    scopes: list[str]
    created_at: float
    used: bool = False


@dataclass
class Grant:
    """One installed app on one shop: the current access token and refresh-token chain."""

    shop_id: int
    client_id: str
    scopes: list[str]
    access_token: str
    access_expires_at: float | None  # None = non-expiring offline token
    refresh_token: str | None
    refresh_expires_at: float | None
    previous_refresh_token: str | None = None
    revoked: bool = False


@dataclass
class WebhookSubscription:
    """A subscription made through the Admin API (webhookSubscriptionCreate), per app and shop."""

    id: int
    client_id: str
    shop_id: int
    topic: str  # REST-style, "orders/create"
    uri: str
    api_version: str
    created_at: float
    updated_at: float
    format: str = "JSON"
    include_fields: list[str] = field(default_factory=list)
    filter: str | None = None


@dataclass
class InventoryChange:
    name: str
    delta: int
    quantity_after: int
    item_id: int
    location_id: int
    ledger_document_uri: str | None = None


@dataclass
class AdjustmentGroup:
    """An InventoryAdjustmentGroup: one applied inventory mutation (or a sale, an edit, a cancellation)."""

    id: int
    shop_id: int
    reason: str
    reference_document_uri: str | None
    created_at: float
    changes: list[InventoryChange]
    source: str  # the mutation name, or "order" / "control"


@dataclass
class IdempotencyRecord:
    """§5.3: the first result of a mutation sent with @idempotent(key:), answered again to a retry."""

    key: str
    mutation: str
    fingerprint: str
    result: dict[str, Any]
    created_at: float


class Ids:
    def __init__(self, start: int) -> None:
        self._next: dict[str, int] = {}
        self._start = start

    def next(self, kind: str) -> int:
        n = self._next.get(kind, self._start)
        self._next[kind] = n + 1
        return n


EventSink = Callable[[str, int, dict[str, Any]], None]


class World:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.ids = Ids(5_600_000_000 + seed)
        self.shops: dict[int, Shop] = {}
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.inventory_items: dict[int, InventoryItem] = {}
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: list[Grant] = []
        self.subscriptions: dict[int, WebhookSubscription] = {}
        self.adjustment_groups: list[AdjustmentGroup] = []
        self.idempotency: dict[tuple[str, int, str, str], IdempotencyRecord] = {}
        self.customers: dict[str, int] = {}  # buyer email -> a stable customer id
        # Set by the app: receives (topic, shop id, REST-style payload). None while seeding: no webhooks then.
        self.on_event: EventSink | None = None

    # The lock and the event sink are the running process's, not state: a snapshot leaves them out.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("lock", None)
        state["on_event"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()

    def emit(self, topic: str, shop_id: int, payload: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(topic, shop_id, payload)

    # ------------------------------------------------------------------ lookups
    def shop_by_domain(self, domain: str) -> Shop | None:
        domain = domain.strip().lower().rstrip("/")
        for shop in self.shops.values():
            if shop.myshopify_domain == domain:
                return shop
        return None

    def shop_variants(self, shop_id: int) -> list[Variant]:
        shop = self.shops[shop_id]
        return [self.variants[v] for p in shop.product_ids for v in self.products[p].variant_ids]

    def variant_by_sku(self, shop_id: int, sku: str) -> Variant | None:
        for variant in self.shop_variants(shop_id):
            if variant.sku == sku:
                return variant
        return None

    def item_shop(self, item: InventoryItem) -> int:
        return self.products[self.variants[item.variant_id].product_id].shop_id

    def grant_for_token(self, token: str) -> Grant | None:
        for g in self.grants:
            if g.access_token == token and not g.revoked:
                return g
        return None

    def installed(self, client_id: str, shop_id: int) -> bool:
        return any(g.client_id == client_id and g.shop_id == shop_id and not g.revoked for g in self.grants)

    def customer_id(self, email: str) -> int:
        email = email.strip().lower()
        if email not in self.customers:
            self.customers[email] = self.ids.next("customer")
        return self.customers[email]

    # ------------------------------------------------------------------ derived states
    def fo_lines(self, fo: FulfillmentOrder) -> list[LineItem]:
        order = self.orders[fo.order_id]
        return [li for li in order.line_items if li.id in fo.line_item_ids]

    def fo_status(self, fo: FulfillmentOrder) -> str:
        """FulfillmentOrderStatus (§3.2) from the quantities, the holds and the schedule."""
        order = self.orders[fo.order_id]
        lines = self.fo_lines(fo)
        shipped = any(li.fulfilled_quantity for li in lines)
        if order.cancelled_at is not None:
            return "CLOSED" if shipped else "CANCELLED"
        if sum(order.remaining(li) for li in lines) == 0:
            return "CLOSED"
        if fo.holds:
            return "ON_HOLD"
        if fo.scheduled_at is not None:
            return "SCHEDULED"
        return "IN_PROGRESS" if shipped else "OPEN"

    def order_status(self, order: Order) -> str:
        """OrderDisplayFulfillmentStatus (§3.2)."""
        open_qty = sum(li.current_quantity for li in order.line_items)
        done = sum(min(li.fulfilled_quantity, li.current_quantity) for li in order.line_items)
        if order.cancelled_at is not None:
            # A cancelled order with nothing shipped shows UNFULFILLED in Shopify admin [guess, see docs].
            return "FULFILLED" if open_qty and done >= open_qty else "UNFULFILLED"
        if open_qty and done >= open_qty:
            return "FULFILLED"
        if done:
            return "PARTIALLY_FULFILLED"
        unfinished = [
            self.fo_status(self.fulfillment_orders[i])
            for i in order.fulfillment_order_ids
            if self.fo_status(self.fulfillment_orders[i]) not in ("CLOSED", "CANCELLED")
        ]
        if unfinished and all(s == "ON_HOLD" for s in unfinished):
            return "ON_HOLD"
        if unfinished and all(s == "SCHEDULED" for s in unfinished):
            return "SCHEDULED"
        return "UNFULFILLED"
