"""The sandbox's own world: shops, locations, the catalogue, inventory and orders, plus OAuth grants."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal


def gid(kind: str, n: int) -> str:
    return f"gid://shopify/{kind}/{n}"


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
class InventoryItem:
    id: int
    sku: str
    levels: dict[int, int] = field(default_factory=dict)  # location id -> available


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str
    price: Decimal
    inventory_item_id: int


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
    fulfillment_order_line_item_id: int = 0


@dataclass
class Order:
    id: int
    shop_id: int
    number: int
    created_at: float
    updated_at: float
    currency: str
    location_id: int
    fulfillment_order_id: int
    shipping_address: Address | None
    line_items: list[LineItem]
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

    def display_fulfillment_status(self) -> str:
        open_qty = sum(li.current_quantity for li in self.line_items)
        done = sum(min(li.fulfilled_quantity, li.current_quantity) for li in self.line_items)
        if self.cancelled_at is not None:
            # A cancelled order with nothing shipped shows UNFULFILLED in Shopify admin [guess, see docs].
            return "FULFILLED" if open_qty and done >= open_qty else "UNFULFILLED"
        if open_qty and done >= open_qty:
            return "FULFILLED"
        if done:
            return "PARTIALLY_FULFILLED"
        return "UNFULFILLED"

    def fulfillment_order_status(self) -> str:
        if self.cancelled_at is not None:
            return "CANCELLED" if not any(li.fulfilled_quantity for li in self.line_items) else "CLOSED"
        status = self.display_fulfillment_status()
        return {"FULFILLED": "CLOSED", "PARTIALLY_FULFILLED": "IN_PROGRESS"}.get(status, "OPEN")


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


class Ids:
    def __init__(self, start: int) -> None:
        self._next: dict[str, int] = {}
        self._start = start

    def next(self, kind: str) -> int:
        n = self._next.get(kind, self._start)
        self._next[kind] = n + 1
        return n


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
        self.codes: dict[str, AuthCode] = {}
        self.grants: list[Grant] = []

    def shop_by_domain(self, domain: str) -> Shop | None:
        domain = domain.strip().lower().rstrip("/")
        for shop in self.shops.values():
            if shop.myshopify_domain == domain:
                return shop
        return None

    def variant_by_sku(self, shop_id: int, sku: str) -> Variant | None:
        for pid in self.shops[shop_id].product_ids:
            for vid in self.products[pid].variant_ids:
                if self.variants[vid].sku == sku:
                    return self.variants[vid]
        return None

    def grant_for_token(self, token: str) -> Grant | None:
        for g in self.grants:
            if g.access_token == token and not g.revoked:
                return g
        return None
