"""The sandbox's own world: sellers, shops, catalogue, orders, packages, tokens — and its state machine.

Everything lives in memory behind one re-entrant lock (``World.lock``). Orders are indexed per shop in sorted
lists so that search pages are answered with bisect rather than scans. Time-driven transitions sit in a heap
keyed by due time and are applied lazily (``World.tick``) on every request and whenever the clock moves.
"""

from __future__ import annotations

import heapq
import random
import threading
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import data as ref

HOUR = 3600
DAY = 86400
REMORSE_SECONDS = HOUR  # ON_HOLD lasts about one hour (README §4.4)
UNPAID_CANCEL_SECONDS = DAY  # guess: unpaid orders auto-cancel after 24 h
COLLECTION_DELAY = 12 * HOUR  # carrier collects 12 h after the label is bought / package shipped
DELIVERY_DELAY = 3 * DAY
COMPLETE_DELAY = 7 * DAY
BUYER_CANCEL_AUTO_ACCEPT = 48 * HOUR

ORDER_STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
PRE_SHIPMENT = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING")


@dataclass
class Address:
    first_name: str
    last_name: str
    phone: str  # unmasked, e.g. "(+1)213-555-1234"
    line1: str
    line2: str
    city: str
    state: str
    state_code: str
    postal_code: str
    region_code: str
    country: str
    bad_reason: str = ""  # "", "unknown_postal", "po_box", "missing_line1"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_address(self) -> str:
        parts = [p for p in (self.line1, self.line2) if p]
        if self.region_code == "US":
            return ", ".join([*parts, self.city, f"{self.state_code} {self.postal_code}"])
        return ", ".join([*parts, self.city, self.postal_code])


@dataclass
class Warehouse:
    id: str
    shop_id: str
    name: str
    address: Address
    is_default: bool
    type: str = "SALES_WAREHOUSE"
    sub_type: str = "DOMESTIC_WAREHOUSE"
    effect_status: str = "ENABLED"


@dataclass
class DeliveryOption:
    id: str
    warehouse_id: str
    name: str
    type: str  # STANDARD | EXPRESS | ECONOMY | SEND_BY_SELLER
    description: str
    providers: list[tuple[str, str]]
    fulfilled_by_tiktok: bool = False


@dataclass
class Sku:
    id: str
    product_id: str
    name: str
    seller_sku: str
    price: str
    currency: str
    weight_lb: float
    dims_in: tuple[float, float, float]
    inventory: dict[str, int]  # warehouse_id -> quantity (the SKU's assigned warehouses)
    committed: dict[str, int] = field(default_factory=dict)


@dataclass
class Product:
    id: str
    shop_id: str
    title: str
    status: str
    skus: list[Sku]
    create_time: int
    update_time: int


@dataclass
class Shop:
    id: str
    cipher: str
    code: str
    name: str
    region: str
    seller_type: str
    seller_id: str
    currency: str
    warehouses: list[Warehouse] = field(default_factory=list)
    delivery_options: list[DeliveryOption] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    label_allocation: bool = False  # US "label allocation": exactly one eligible service
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # event_type -> {address, times}

    @property
    def is_us(self) -> bool:
        return self.region == "US"


@dataclass
class Seller:
    id: str  # open_id
    name: str
    base_region: str
    shop_ids: list[str]
    authorized: bool = True


@dataclass
class LineItem:
    id: str
    sku_id: str
    product_id: str
    product_name: str
    sku_name: str
    seller_sku: str
    original_price: str
    sale_price: str
    currency: str
    package_id: str = ""
    package_status: str = "TO_FULFILL"
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""
    rts_time: int = 0
    cancel_user: str = ""
    cancel_reason: str = ""
    is_gift: bool = False


@dataclass
class Order:
    id: str
    shop_id: str
    status: str
    shipping_type: str  # TIKTOK | SELLER
    fulfillment_type: str  # FULFILLMENT_BY_SELLER | FULFILLMENT_BY_TIKTOK
    warehouse_id: str
    delivery_option_id: str
    delivery_option_name: str
    user_id: str
    buyer_email: str
    address: Address
    line_items: list[LineItem]
    create_time: int
    update_time: int
    currency: str
    shipping_fee: str
    paid_time: int = 0
    rts_sla_time: int = 0
    tts_sla_time: int = 0
    shipping_due_time: int = 0
    collection_due_time: int = 0
    delivery_due_time: int = 0
    delivery_sla_time: int = 0
    cancel_order_sla_time: int = 0
    rts_time: int = 0
    collection_time: int = 0
    delivery_time: int = 0
    cancel_time: int = 0
    request_cancel_time: int = 0
    buyer_message: str = ""
    seller_note: str = ""
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    is_buyer_request_cancel: bool = False
    is_on_hold_order: bool = True
    has_updated_recipient_address: bool = False
    has_after_sale: bool = False
    package_ids: list[str] = field(default_factory=list)
    version: int = 0  # bumped on every transition; heap entries carry it to discard stale schedules

    @property
    def id_int(self) -> int:
        return int(self.id)


@dataclass
class Package:
    id: str
    shop_id: str
    order_id: str
    line_item_ids: list[str]
    shipping_type: str
    status: str  # PROCESSING | FULFILLING | COMPLETED | CANCELLED
    create_time: int
    update_time: int
    shipped: bool = False  # Ship Package / Create Packages / Mark As Shipped done
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""
    service: dict[str, Any] | None = None
    weight: dict[str, str] | None = None
    dimension: dict[str, str] | None = None
    handover_method: str = ""
    pickup_slot: dict[str, int] | None = None
    rts_time: int = 0
    shipping_info_updated: bool = False
    tracking_events: list[tuple[int, str]] = field(default_factory=list)  # (epoch s, description)
    # Combined and split packages: every order the package holds lines of (``order_id`` is the first one), and the
    # Get Package Detail tag (DEFAULT | COMBINE | SPLIT).
    order_ids: list[str] = field(default_factory=list)
    split_and_combine_tag: str = "DEFAULT"

    @property
    def all_order_ids(self) -> list[str]:
        return getattr(self, "order_ids", None) or [self.order_id]  # getattr: snapshots from before combine

    @property
    def is_combined(self) -> bool:
        return len(self.all_order_ids) > 1


@dataclass
class FbtWarehouse:
    """A Fulfilled-by-TikTok warehouse a shop is subscribed to (Get FBT Warehouse List)."""

    fbt_warehouse_id: str
    shop_id: str
    warehouse_ids: list[str]  # TikTok Shop warehouse ids related to it
    name: str
    address: dict[str, str]
    logistics_services: list[dict[str, Any]]
    subscribed: bool = True
    type: str = "PLATFORM_WAREHOUSE"


@dataclass
class FbtGoods:
    """FBT goods: TikTok's own item, matched to shop SKUs (Search Goods Info)."""

    id: str
    shop_id: str
    reference_code: str
    name: str
    sku_ids: list[str]
    weight_lb: float
    dims_in: tuple[float, float, float]


@dataclass
class FbtStock:
    """One goods in one FBT warehouse (Search FBT Inventory)."""

    goods_id: str
    fbt_warehouse_id: str
    available: int
    reserved: int
    unfulfillable: int = 0
    in_transit: int = 0

    @property
    def total(self) -> int:
        return self.available + self.reserved + self.unfulfillable


@dataclass
class Token:
    access_token: str
    refresh_token: str
    seller_id: str
    access_expire: int
    refresh_expire: int
    granted_scopes: list[str]


@dataclass
class AuthCode:
    code: str
    seller_id: str
    expires: int
    used: bool = False


@dataclass
class LabelRecord:
    package_id: str
    order_id: str
    shop_id: str
    line_item_ids: list[str]
    service_id: str
    service_name: str
    provider: str
    price: str
    currency: str
    tracking_number: str
    sandbox_time: int
    order_ids: list[str] = field(default_factory=list)  # every order on the label (a combined package: several)


class IdFactory:
    """Deterministic numeric-string ids (18-19 digits) per kind."""

    BASES = {
        "shop": 7_494_000_000_000_000_000,
        "seller": 7_010_736_000_000_000_000,
        "order": 576_461_000_000_000_000,
        "line": 577_086_000_000_000_000,
        "package": 1_152_321_000_000_000_000,
        "product": 1_729_582_000_000_000_000,
        "sku": 1_729_592_000_000_000_000,
        "warehouse": 7_068_517_000_000_000_000,
        "delivery": 7_091_146_000_000_000_000,
        "notification": 7_327_112_000_000_000_000,
        "buyer": 7_021_436_000_000_000_000,
        "cancel": 4_035_100_000_000_000_000,
        "fbt_warehouse": 7_232_382_000_000_000_000,
        "fbt_shop_warehouse": 7_068_600_000_000_000_000,
        "goods": 1_234_500_000_000_000_000,
        "pre_package": 1_152_400_000_000_000_000,
    }

    def __init__(self, seed: int) -> None:
        self._salt = (seed % 997) * 1_000_000_000
        self._counters: dict[str, int] = dict.fromkeys(self.BASES, 0)

    def next(self, kind: str) -> str:
        self._counters[kind] = self._counters.get(kind, 0) + 1  # .get: snapshots older than a kind lack it
        return str(self.BASES[kind] + self._salt + self._counters[kind] * 17)


class ShopIndex:
    """Sorted keys (time, id_int) per shop, overall and per status, by create_time and update_time."""

    def __init__(self) -> None:
        self.by_create: list[tuple[int, int]] = []
        self.by_update: list[tuple[int, int]] = []
        self.by_create_status: dict[str, list[tuple[int, int]]] = {s: [] for s in ORDER_STATUSES}
        self.by_update_status: dict[str, list[tuple[int, int]]] = {s: [] for s in ORDER_STATUSES}

    def add(self, o: Order) -> None:
        insort(self.by_create, (o.create_time, o.id_int))
        insort(self.by_update, (o.update_time, o.id_int))
        insort(self.by_create_status[o.status], (o.create_time, o.id_int))
        insort(self.by_update_status[o.status], (o.update_time, o.id_int))

    def bulk_add(self, orders: list[Order]) -> None:
        # Appending then sorting once is far cheaper than N insorts for bulk creation.
        for o in orders:
            self.by_create.append((o.create_time, o.id_int))
            self.by_update.append((o.update_time, o.id_int))
            self.by_create_status[o.status].append((o.create_time, o.id_int))
            self.by_update_status[o.status].append((o.update_time, o.id_int))
        for lst in (self.by_create, self.by_update, *self.by_create_status.values(), *self.by_update_status.values()):
            lst.sort()

    @staticmethod
    def _remove(lst: list[tuple[int, int]], key: tuple[int, int]) -> None:
        i = bisect_left(lst, key)
        if i < len(lst) and lst[i] == key:
            del lst[i]

    def change(self, o: Order, old_status: str, old_update: int) -> None:
        self._remove(self.by_update, (old_update, o.id_int))
        self._remove(self.by_update_status[old_status], (old_update, o.id_int))
        insort(self.by_update, (o.update_time, o.id_int))
        insort(self.by_update_status[o.status], (o.update_time, o.id_int))
        if old_status != o.status:
            self._remove(self.by_create_status[old_status], (o.create_time, o.id_int))
            insort(self.by_create_status[o.status], (o.create_time, o.id_int))


def mask_name(name: str) -> str:
    """TikTok masks recipient names on platform-shipped orders: keep the first letter of each word."""
    return " ".join(w[0] + "*" * max(len(w) - 1, 1) for w in name.split() if w)


def mask_phone(phone: str) -> str:
    # "(+1)213-555-1234" -> "(+1)213-***-1234"
    if "-" in phone:
        head, _, tail = phone.partition("-")
        return f"{head}-***-{tail.rsplit('-', 1)[-1]}"
    return phone[:4] + "***" + phone[-4:]


EventSink = Callable[[str, int, dict[str, Any]], None]


class World:
    """All sandbox state plus the operations that change it (always called with ``lock`` held)."""

    def __init__(self, seed: int, now: int) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.rng = random.Random(seed)
        self.ids = IdFactory(seed)
        self.created_at = now
        self.sellers: dict[str, Seller] = {}
        self.shops: dict[str, Shop] = {}
        self.shops_by_cipher: dict[str, Shop] = {}
        self.orders: dict[str, Order] = {}
        self.index: dict[str, ShopIndex] = {}
        self.packages: dict[str, Package] = {}
        self.skus: dict[str, Sku] = {}
        self.products: dict[str, Product] = {}
        self.warehouses: dict[str, Warehouse] = {}
        self.delivery_options: dict[str, DeliveryOption] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.labels: list[LabelRecord] = []
        self.inventory_log: list[dict[str, Any]] = []
        self.tracking_use: dict[str, int] = {}
        # Every Mark Package As Shipped the platform committed (order, package, tracking): what a test counts.
        self.seller_shipments: list[dict[str, Any]] = []
        self._heap: list[tuple[int, int, str, int, str]] = []
        self._heap_seq = 0
        self.on_event: EventSink | None = None
        self.tracking_seq = 0
        # Fulfilled by TikTok: shop_id -> its FBT warehouses; goods by id; stock by (goods_id, fbt_warehouse_id).
        self.fbt_warehouses: dict[str, list[FbtWarehouse]] = {}
        self.fbt_goods: dict[str, FbtGoods] = {}
        self.fbt_stock: dict[tuple[str, str], FbtStock] = {}
        # Search Combinable Packages' pre-generated package ids: id -> {"shop_id", "order_ids"}; and the reverse.
        self.pre_packages: dict[str, dict[str, Any]] = {}
        self.pre_package_by_key: dict[tuple[str, ...], str] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Locks and callbacks do not pickle; snapshots carry data only.
        state = self.__dict__.copy()
        state.pop("lock", None)
        state["on_event"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("fbt_warehouses", {})  # snapshots from before FBT
        state.setdefault("fbt_goods", {})
        state.setdefault("fbt_stock", {})
        state.setdefault("pre_packages", {})  # snapshots from before combine/split
        state.setdefault("pre_package_by_key", {})
        self.__dict__.update(state)
        self.lock = threading.RLock()
        for lr in self.labels:  # snapshots from before combined packages: a label is for its one order
            if not hasattr(lr, "order_ids"):
                lr.order_ids = [lr.order_id]

    # ------------------------------------------------------------------ events and scheduling
    def emit(self, shop_id: str, type_code: int, payload: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(shop_id, type_code, payload)

    def schedule(self, due: int, order: Order, action: str) -> None:
        self._heap_seq += 1
        heapq.heappush(self._heap, (due, self._heap_seq, order.id, order.version, action))

    def tick(self, now: int) -> int:
        """Apply every transition due at or before ``now``. Returns how many were applied."""
        applied = 0
        while self._heap and self._heap[0][0] <= now:
            due, _, order_id, version, action = heapq.heappop(self._heap)
            order = self.orders.get(order_id)
            if order is None or order.version != version:
                continue  # the order moved on since this was scheduled
            self._apply_scheduled(order, action, due)
            applied += 1
        return applied

    def _apply_scheduled(self, o: Order, action: str, at: int) -> None:
        if action == "release_hold" and o.status == "ON_HOLD":
            self.set_status(o, "AWAITING_SHIPMENT", at)
        elif action == "auto_cancel_unpaid" and o.status == "UNPAID":
            self.cancel(o, at, "SYSTEM", "Payment timeout")
        elif action == "auto_cancel_sla" and o.status in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
            self.cancel(o, at, "SYSTEM", "Seller did not ship within the required time")
        elif action == "buyer_cancel_accept" and o.is_buyer_request_cancel and o.status in PRE_SHIPMENT:
            self.cancel(o, at, "BUYER", o.cancel_reason or "No longer needed")
        elif action == "collect" and o.status == "AWAITING_COLLECTION":
            o.collection_time = at
            for pid in o.package_ids:
                p = self.packages[pid]
                if p.status == "PROCESSING" and p.shipped:
                    p.status = "FULFILLING"
                    p.update_time = at
                    p.tracking_events.append((at, "Package picked up by carrier"))
                    p.tracking_events.append((at + 1800, "Package arrived at sort facility"))
            self._set_lines(o, "FULFILLING")
            self.set_status(o, "IN_TRANSIT", at)
        elif action == "deliver" and o.status == "IN_TRANSIT":
            o.delivery_time = at
            for pid in o.package_ids:
                p = self.packages[pid]
                if p.status == "FULFILLING":
                    p.status = "COMPLETED"
                    p.update_time = at
                    p.tracking_events.append((at - 3 * HOUR, "Out for delivery"))
                    p.tracking_events.append((at, "Your package was delivered!"))
            self._set_lines(o, "COMPLETED")
            self.set_status(o, "DELIVERED", at)
        elif action == "complete" and o.status == "DELIVERED":
            self.set_status(o, "COMPLETED", at)

    def _set_lines(self, o: Order, package_status: str) -> None:
        for li in o.line_items:
            if li.package_status not in ("CANCELLED", "TO_FULFILL"):
                li.package_status = package_status

    # ------------------------------------------------------------------ transitions
    def touch(self, o: Order, at: int, new_status: str | None = None) -> None:
        """Bump update_time (and maybe status) keeping the indexes right."""
        old_status, old_update = o.status, o.update_time
        if new_status is not None:
            o.status = new_status
        o.update_time = max(at, o.update_time)
        self.index[o.shop_id].change(o, old_status, old_update)

    def set_status(self, o: Order, status: str, at: int) -> None:
        self.touch(o, at, status)
        o.version += 1  # invalidates transitions scheduled for the previous status
        self._schedule_for_status(o)
        self.emit(
            o.shop_id,
            1,
            {
                "order_id": o.id,
                "order_status": "CANCEL" if status == "CANCELLED" else status,
                "is_on_hold_order": o.is_on_hold_order,
                "update_time": o.update_time,
            },
        )

    def _schedule_for_status(self, o: Order) -> None:
        s = o.status
        if s == "UNPAID":
            self.schedule(o.cancel_order_sla_time, o, "auto_cancel_unpaid")
        elif s == "ON_HOLD":
            self.schedule(o.paid_time + REMORSE_SECONDS, o, "release_hold")
        elif s in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
            self.schedule(o.shipping_due_time, o, "auto_cancel_sla")
            if o.is_buyer_request_cancel:
                self.schedule(o.request_cancel_time + BUYER_CANCEL_AUTO_ACCEPT, o, "buyer_cancel_accept")
        elif s == "AWAITING_COLLECTION":
            self.schedule(max(o.rts_time, o.update_time) + COLLECTION_DELAY, o, "collect")
        elif s == "IN_TRANSIT":
            self.schedule(o.collection_time + DELIVERY_DELAY, o, "deliver")
        elif s == "DELIVERED":
            self.schedule(o.delivery_time + COMPLETE_DELAY, o, "complete")

    def pay(self, o: Order, at: int) -> None:
        o.paid_time = at
        self._set_deadlines(o, at)
        self.set_status(o, "ON_HOLD", at)
        self._create_row_packages(o, at)

    def cancel(self, o: Order, at: int, initiator: str, reason: str) -> None:
        o.cancel_time = at
        o.cancellation_initiator = initiator
        o.cancel_reason = reason
        was_request = o.is_buyer_request_cancel
        o.is_buyer_request_cancel = False
        for li in o.line_items:
            li.package_status = "CANCELLED"
            li.cancel_user = initiator
            li.cancel_reason = reason
        self.cancel_order_packages(o, at, initiator)
        self.set_status(o, "CANCELLED", at)
        if was_request:
            self.emit(
                o.shop_id,
                11,
                {
                    "order_id": o.id,
                    "cancellations_role": "BUYER",
                    "cancel_status": "CANCELLATION_REQUEST_COMPLETE",
                    "cancel_id": self.ids.next("cancel"),
                    "create_time": at,
                },
            )

    def _set_deadlines(self, o: Order, paid: int) -> None:
        o.rts_sla_time = paid + 2 * DAY
        o.tts_sla_time = paid + 3 * DAY
        o.shipping_due_time = paid + 5 * DAY
        o.collection_due_time = paid + 7 * DAY
        o.delivery_due_time = paid + 20 * DAY
        o.delivery_sla_time = paid + 8 * DAY

    def _create_row_packages(self, o: Order, at: int) -> None:
        """Non-US markets: the package exists from payment (README §4.3 ``packages[]``)."""
        shop = self.shops[o.shop_id]
        if shop.is_us or o.package_ids or o.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
            return
        pkg = Package(
            id=self.ids.next("package"),
            shop_id=shop.id,
            order_id=o.id,
            line_item_ids=[li.id for li in o.line_items],
            shipping_type=o.shipping_type,
            status="PROCESSING",
            create_time=at,
            update_time=at,
        )
        if o.shipping_type == "TIKTOK":
            prov = ref.UK_PROVIDERS[int(o.id) % len(ref.UK_PROVIDERS)]
            pkg.shipping_provider_id, pkg.shipping_provider_name = prov
        self.packages[pkg.id] = pkg
        o.package_ids.append(pkg.id)
        for li in o.line_items:
            li.package_id = pkg.id

    # ------------------------------------------------------------------ tracking numbers
    def new_tracking(self, provider: str) -> str:
        self.tracking_seq += 1
        n = self.rng.randrange(10**9, 10**10)
        if provider == "USPS":
            return f"9400111{n:010d}{self.tracking_seq % 100000:05d}"
        if provider == "UPS":
            return f"1Z{self.rng.randrange(16**6):06X}03{n:010d}"
        if provider == "FedEx":
            return f"{self.rng.randrange(10**11, 10**12)}"
        if provider == "Royal Mail":
            return f"RM{n:09d}GB"[:13]
        return f"H{n:010d}{self.tracking_seq % 100000:05d}"

    # ------------------------------------------------------------------ lookup helpers
    def shop_orders_in_order(self, shop_id: str, ids: list[int]) -> list[Order]:
        return [self.orders[str(i)] for i in ids]

    def add_order(self, o: Order, index: bool = True) -> None:
        self.orders[o.id] = o
        if index:
            self.index[o.shop_id].add(o)
        self._schedule_for_status(o)

    # ------------------------------------------------------------------ combined and split packages
    def package_members(self, p: Package) -> list[tuple[Order, list[LineItem]]]:
        """Each order of a package with its lines in the package (one entry unless combined)."""
        ids = set(p.line_item_ids)
        out = []
        for oid in p.all_order_ids:
            o = self.orders[oid]
            out.append((o, [li for li in o.line_items if li.id in ids]))
        return out

    def cancel_order_packages(self, o: Order, at: int, initiator: str) -> None:
        """The order is cancelled: its own packages are cancelled; a combined package loses only this order.

        Guess (the docs name the PACKAGE_UPDATE ``sc_type`` FULFILL_UNCOMBINE but say nothing more): the cancelled
        order leaves the combined package, which keeps its id, its label (if bought) and the other orders; left with
        one order it is tagged DEFAULT again. Webhook 4 tells the seller.
        """
        for pid in list(o.package_ids):
            p = self.packages[pid]
            if not p.is_combined:
                p.status = "CANCELLED"
                p.update_time = at
                continue
            mine = {li.id for li in o.line_items}
            p.order_ids = [x for x in p.all_order_ids if x != o.id]
            p.order_id = p.order_ids[0]
            p.line_item_ids = [x for x in p.line_item_ids if x not in mine]
            if len(p.order_ids) == 1:
                p.split_and_combine_tag = "DEFAULT"
            p.update_time = at
            o.package_ids.remove(pid)
            for li in o.line_items:
                if li.package_id == pid:
                    li.package_id = ""
            role = {"BUYER": "ROLE_USER", "SELLER": "ROLE_SELLER", "SYSTEM": "ROLE_SYSTEM"}.get(
                initiator, "ROLE_OPERATOR"
            )
            self.emit_package_update("FULFILL_UNCOMBINE", role, [p], at)

    def emit_package_update(self, sc_type: str, role: str, pkgs: list[Package], at: int) -> None:
        if not pkgs:
            return
        self.emit(
            pkgs[0].shop_id,
            4,
            {
                "sc_type": sc_type,
                "role_type": role,
                "package_list": [{"package_id": p.id, "order_id_list": list(p.all_order_ids)} for p in pkgs],
                "update_time": at,
            },
        )
