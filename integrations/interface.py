"""Dataclasses that cross app boundaries: what a platform adapter hands to the rest of Dropline.

Platform-neutral names; platform JSON never leaves `integrations/<platform>/`. Times are aware UTC datetimes, money
is `Decimal` with a currency, ids are strings (TikTok ids exceed 2**53 and must never pass through a float).
Order status, who fulfils an order and where its label comes from are Dropline's own enums below: each adapter's
translate functions map the platform's words to them, so the core never sees a platform's vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Generic, TypeVar

from integrations.errors import ErrorKind

T = TypeVar("T")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a cursor-paginated listing; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None
    total_count: int | None = None


# --- auth -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSet:
    """A seller's tokens; the Store row persists these (encrypted) and hands them back to build a client."""

    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime | None = None  # None: the platform does not say (the token lasts until revoked)
    open_id: str = ""
    seller_name: str = ""
    seller_base_region: str = ""
    granted_scopes: tuple[str, ...] = ()

    def access_expires_within(self, seconds: float, now: datetime) -> bool:
        return (self.access_token_expires_at - now).total_seconds() <= seconds


@dataclass(frozen=True)
class AuthorizedShop:
    """A shop a seller's consent covers. `settings` holds what only this platform needs back on every call of the
    shop (TikTok: its cipher); the core hands the shop to `ChannelAdapter.store_connected` and never reads them."""

    shop_id: str
    name: str
    region: str
    seller_type: str  # CROSS_BORDER | LOCAL
    code: str  # the shop code sellers see in Seller Center
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActiveShop:
    shop_id: str
    region: str


# --- orders ---------------------------------------------------------------------------------------------------------


class OrderStatus(StrEnum):
    """Where an order is in its life, in Dropline's words (the order app's OrderStatus choices use these values)."""

    UNPAID = "UNPAID"
    ON_HOLD = "ON_HOLD"  # paid, in the buyer's remorse window; the platform hides the address
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"
    AWAITING_COLLECTION = "AWAITING_COLLECTION"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    # A status the platform added that Dropline does not know yet: the order is imported and shown, never shipped by
    # guesswork; the adapter logs it so the mapping gets added.
    UNKNOWN = "UNKNOWN"


class FulfilledBy(StrEnum):
    """Who picks, packs and ships the order."""

    SELLER = "seller"  # the seller (or its supplier): Dropline's whole job
    PLATFORM = "platform"  # the platform from its own warehouse (TikTok FBT, Amazon FBA): nothing to do here


class LabelSource(StrEnum):
    """Where the order's shipping label comes from."""

    PLATFORM = "platform"  # an official label bought from the sales channel (TikTok Shipping)
    CARRIER = "carrier"  # bought from a carrier or an aggregator
    SELLER = "seller"  # the seller's own label; the tracking number is uploaded to the platform


@dataclass(frozen=True)
class AddressDistrict:
    level: str  # L0 (country) .. L4
    level_name: str  # e.g. "State", "City"
    name: str


@dataclass(frozen=True)
class Address:
    name: str = ""
    phone: str = ""
    full_address: str = ""
    line1: str = ""
    line2: str = ""
    line3: str = ""
    line4: str = ""
    postal_code: str = ""
    region_code: str = ""
    first_name: str = ""
    last_name: str = ""
    post_town: str = ""
    state: str = ""
    city: str = ""
    district: str = ""
    town: str = ""
    districts: tuple[AddressDistrict, ...] = ()
    # True when the platform masked the name/phone ("D**** K***", "(+1)213-***-1234"): never print these on a label.
    is_masked: bool = False


@dataclass(frozen=True)
class Deadlines:
    ship_by: datetime | None = None  # RTS SLA: reach AWAITING_COLLECTION by then or count as late dispatch
    collect_by: datetime | None = None  # TTS SLA: carrier collection by then
    shipping_due: datetime | None = None  # auto-cancel if not shipped by then
    collection_due: datetime | None = None  # auto-cancel if not collected by then
    delivery_by: datetime | None = None  # on-time delivery SLA
    delivery_due: datetime | None = None  # auto-cancel if not delivered by then
    cancel_unpaid_at: datetime | None = None  # platform auto-cancel time


@dataclass(frozen=True)
class BundleComponent:
    sku_id: str
    product_id: str
    seller_sku: str
    count: int


@dataclass(frozen=True)
class PlatformOrderLine:
    """`quantity` units of one SKU in one state (package, status, prices). `line_ids` are the platform's own ids for
    them: one id for a platform with quantities, one per unit for a platform that repeats a line per unit (TikTok),
    which its adapter aggregates. Every id is kept: creating a package, buying its label and reporting a seller
    shipment must name each unit's line."""

    line_ids: tuple[str, ...]
    quantity: int
    sku_id: str
    product_id: str
    seller_sku: str
    product_name: str
    sku_name: str = ""
    sku_image: str = ""
    original_price: Money | None = None
    sale_price: Money | None = None
    seller_discount: Money | None = None
    platform_discount: Money | None = None
    package_id: str = ""
    package_status: str = ""  # TO_FULFILL | PROCESSING | FULFILLING | COMPLETED | CANCELLED
    display_status: str = ""
    tracking_number: str = ""
    carrier_id: str = ""
    carrier_name: str = ""
    is_gift: bool = False
    is_dangerous_good: bool = False
    cancel_user: str = ""
    cancel_reason: str = ""
    bundle_components: tuple[BundleComponent, ...] = ()


@dataclass(frozen=True)
class OrderTotals:
    currency: str
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    tax: Money | None = None
    total: Money | None = None
    seller_discount: Money | None = None
    platform_discount: Money | None = None


@dataclass(frozen=True)
class PlatformOrder:
    platform: str
    order_id: str
    status: OrderStatus
    label_source: LabelSource | None  # None: the platform did not say
    fulfilled_by: FulfilledBy
    lines: tuple[PlatformOrderLine, ...]
    address: Address | None  # None while UNPAID / ON_HOLD: the platform hides it
    created_at: datetime | None
    updated_at: datetime | None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    shipped_at: datetime | None = None  # rts_time
    collected_at: datetime | None = None
    delivered_at: datetime | None = None
    delivery_type: str = ""
    delivery_option_id: str = ""
    delivery_option_name: str = ""
    carrier_id: str = ""
    carrier_name: str = ""
    tracking_number: str = ""
    warehouse_id: str = ""
    package_ids: tuple[str, ...] = ()
    totals: OrderTotals | None = None
    deadlines: Deadlines = field(default_factory=Deadlines)
    buyer_message: str = ""
    seller_note: str = ""
    is_on_hold_order: bool = False
    is_buyer_request_cancel: bool = False
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    is_cod: bool = False
    is_sample_order: bool = False
    is_replacement_order: bool = False
    order_type: str = ""
    split_or_combine_tag: str = ""

    @property
    def is_seller_shipping(self) -> bool:
        """Seller Shipping (own label + tracking upload): legacy / whitelisted only under the 2026 US policy."""
        return self.label_source == LabelSource.SELLER

    @property
    def is_fulfilled_by_platform(self) -> bool:
        return self.fulfilled_by == FulfilledBy.PLATFORM


@dataclass(frozen=True)
class ListedOrder:
    """One order of a listing page as the platform gave it: its id and version read at once, the rest on demand."""

    order_id: str
    version: datetime | None  # the platform's update time (its creation time if it gives none); None: unknown
    translate: Callable[[], PlatformOrder]


@dataclass(frozen=True)
class ListedOrders:
    """One page of a store's changed orders (`SalesChannel.list_changed_orders`); `next_cursor` is None on the last.

    Each order is translated only when asked for. An importer compares the versions with the copies it holds and
    translates only the orders that are new or newer, so a re-sync of a store it already holds translates nothing:
    translating the platform's JSON was most of a re-sync's work (docs/adr/0033)."""

    listed: tuple[ListedOrder, ...]
    next_cursor: str | None
    total_count: int | None = None

    @classmethod
    def translated(
        cls, orders: Iterable[PlatformOrder], next_cursor: str | None, total_count: int | None = None
    ) -> ListedOrders:
        """A page whose orders a platform's client has already translated (a GraphQL answer read in one piece)."""
        listed = tuple(ListedOrder(o.order_id, o.updated_at or o.created_at, partial(_as_given, o)) for o in orders)
        return cls(listed, next_cursor, total_count)

    @property
    def versions(self) -> dict[str, datetime | None]:
        return {entry.order_id: entry.version for entry in self.listed}

    def orders(self, only: Collection[str] | None = None) -> list[PlatformOrder]:
        """The page's orders translated, in page order; `only`: just these ids."""
        return [entry.translate() for entry in self.listed if only is None or entry.order_id in only]


def _as_given(order: PlatformOrder) -> PlatformOrder:
    return order


@dataclass(frozen=True)
class SkuQuantity:
    sku_id: str
    seller_sku: str
    product_id: str
    product_name: str
    quantity: int
    line_ids: tuple[str, ...]


def aggregate_lines_by_sku(lines: Iterable[PlatformOrderLine]) -> tuple[SkuQuantity, ...]:
    """Group lines into SKU x quantity for people (pick lists, packing slips): a SKU in two states (one unit
    shipped, one not) is one entry; keeps every line id."""
    grouped: dict[str, list[PlatformOrderLine]] = {}
    for line in lines:
        grouped.setdefault(line.sku_id, []).append(line)
    return tuple(
        SkuQuantity(
            sku_id=sku_id,
            seller_sku=group[0].seller_sku,
            product_id=group[0].product_id,
            product_name=group[0].product_name,
            quantity=sum(line.quantity for line in group),
            line_ids=tuple(line_id for line in group for line_id in line.line_ids),
        )
        for sku_id, group in grouped.items()
    )


# --- fulfillment ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weight:
    value: Decimal
    unit: str  # GRAM | POUND (TikTok spelling)


@dataclass(frozen=True)
class Dimensions:
    length: Decimal
    width: Decimal
    height: Decimal
    unit: str  # CM | INCH


def service_display_name(carrier_name: str, service_name: str) -> str:
    """How a shipping service is named to people: `USPS Ground Advantage` from carrier `USPS` and service `Ground
    Advantage` or `USPS Ground Advantage` alike (platforms often put the carrier in the service's name already)."""
    carrier, service = (carrier_name or "").strip(), (service_name or "").strip()
    if not carrier:
        return service
    if not service:
        return carrier
    head = service[: len(carrier)]
    rest = service[len(carrier) :]
    if head.casefold() == carrier.casefold() and (not rest or not rest[0].isalnum()):
        return service
    return f"{carrier} {service}"


@dataclass(frozen=True)
class ShippingServiceQuote:
    service_id: str
    name: str
    price: Money | None
    earliest_delivery_days: int | None
    latest_delivery_days: int | None
    is_default: bool
    carrier_id: str
    carrier_name: str

    @property
    def display_name(self) -> str:
        return service_display_name(self.carrier_name, self.name)


@dataclass(frozen=True)
class ShippingServiceOptions:
    order_id: str
    line_ids: tuple[str, ...]
    weight: Weight | None
    dimensions: Dimensions | None
    services: tuple[ShippingServiceQuote, ...]


@dataclass(frozen=True)
class PurchasedLabel:
    """The result of buying a platform label (TikTok: Create Packages)."""

    package_id: str
    order_id: str
    line_ids: tuple[str, ...]
    service: ShippingServiceQuote | None
    weight: Weight | None
    dimensions: Dimensions | None
    created_at: datetime | None


@dataclass(frozen=True)
class TimeSlot:
    start: datetime | None
    end: datetime | None
    available: bool | None = None


@dataclass(frozen=True)
class HandoverOptions:
    can_pickup: bool
    can_drop_off: bool
    can_van_collection: bool
    drop_off_point_url: str
    pickup_slots: tuple[TimeSlot, ...]


@dataclass(frozen=True)
class SelfShipment:
    tracking_number: str
    carrier_id: str


@dataclass(frozen=True)
class ShipPackageRequest:
    package_id: str
    handover_method: str | None = None  # PICKUP | DROP_OFF
    pickup_slot: TimeSlot | None = None
    self_shipment: SelfShipment | None = None  # seller shipping only


@dataclass(frozen=True)
class ItemError:
    code: int
    message: str
    ref: str = ""  # e.g. the warehouse id of a secondary inventory error


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one item of a batch call: batch endpoints succeed as a whole and list per-item failures."""

    item_id: str
    ok: bool
    code: int | None = None
    message: str = ""
    details: tuple[ItemError, ...] = ()
    fix: str = ""  # what a person does about a refusal, from the adapter (the core never reads `code`)


@dataclass(frozen=True)
class PlatformPackage:
    package_id: str
    status: str  # PROCESSING | FULFILLING | COMPLETED | CANCELLED
    order_ids: tuple[str, ...]
    line_ids: tuple[str, ...] = ()
    tracking_number: str = ""
    carrier_id: str = ""
    carrier_name: str = ""
    shipping_type: str = ""
    delivery_option_id: str = ""
    delivery_option_name: str = ""
    handover_method: str = ""
    pickup_slot: TimeSlot | None = None
    last_mile_tracking_number: str = ""
    recipient_address: Address | None = None
    sender_address: Address | None = None
    weight: Weight | None = None
    dimensions: Dimensions | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ShippingDocument:
    package_id: str
    document_type: str
    url: str  # expires 24 h after issue: fetch and store the file, never re-buy for a reprint
    tracking_number: str
    expires_at: datetime | None


@dataclass(frozen=True)
class TrackingEvent:
    description: str
    occurred_at: datetime | None


@dataclass(frozen=True)
class SellerShipment:
    """Result of reporting a seller-shipped (own label) package to the platform."""

    order_id: str
    package_id: str
    line_ids: tuple[str, ...]
    warning: str = ""


# --- logistics, catalogue, stock ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    name: str
    status: str  # ENABLED | DISABLED | RESTRICTED
    type: str  # SALES_WAREHOUSE | RETURN_WAREHOUSE
    sub_type: str
    is_default: bool
    address: Address | None


@dataclass(frozen=True)
class DeliveryOption:
    option_id: str
    name: str
    type: str  # STANDARD | EXPRESS | ECONOMY | SEND_BY_SELLER
    description: str = ""
    platforms: tuple[str, ...] = ()

    @property
    def is_seller_shipping(self) -> bool:
        return self.type == "SEND_BY_SELLER"


@dataclass(frozen=True)
class ShippingProvider:
    provider_id: str
    name: str


@dataclass(frozen=True)
class WarehouseQuantity:
    warehouse_id: str | None  # None: the SKU has a single warehouse
    quantity: int


@dataclass(frozen=True)
class InventoryUpdate:
    """Absolute quantities for one SKU; must list every warehouse the SKU is assigned to."""

    sku_id: str
    quantities: tuple[WarehouseQuantity, ...]


@dataclass(frozen=True)
class WarehouseStock:
    warehouse_id: str
    available: int
    committed: int


@dataclass(frozen=True)
class InventoryLevel:
    product_id: str
    sku_id: str
    seller_sku: str
    available: int
    committed: int
    by_warehouse: tuple[WarehouseStock, ...] = ()


@dataclass(frozen=True)
class ProductSku:
    sku_id: str
    seller_sku: str
    price: Money | None
    quantities: tuple[WarehouseQuantity, ...] = ()
    name: str = ""  # the variant's own name ("Red / M"); the product's title is on Product


@dataclass(frozen=True)
class Product:
    product_id: str
    title: str
    status: str
    skus: tuple[ProductSku, ...]
    created_at: datetime | None = None
    updated_at: datetime | None = None


# --- webhooks -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookEvent:
    """A verified platform notification. It only says *what* changed: fetch the object before acting."""

    platform: str
    notification_id: str
    topic_code: int  # the platform's own number for the topic, kept for support
    topic: str  # Dropline's name: ORDER_STATUS_CHANGE, PACKAGE_UPDATE, SELLER_DEAUTHORIZATION, ...; UNKNOWN_<code>
    shop_id: str  # platform shop id (not the cipher); empty for seller-level (FBT) topics
    seller_open_id: str
    sent_at: datetime | None
    order_id: str = ""
    order_status: str = ""  # normalised: the webhook's "CANCEL" becomes "CANCELLED" like the order API
    is_on_hold_order: bool | None = None
    package_ids: tuple[str, ...] = ()
    product_id: str = ""
    sku_id: str = ""
    status: str = ""  # topic-specific status (cancel_status, return_status, product status ...)
    message: str = ""
    updated_at: datetime | None = None
    # Privacy requests (CUSTOMER_DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT): the orders they name and the customer
    # they are about (the platform's customer id and e-mail, as the request gives them), and the request's own id.
    order_ids: tuple[str, ...] = ()
    customer_id: str = ""
    customer_email: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class WebhookSubscription:
    topic: str
    address: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


# --- Fulfilled by TikTok (FBT) ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FbtWarehouse:
    """A warehouse run by the platform (TikTok FBT): stock there is read from the platform, never pushed."""

    fbt_warehouse_id: str
    name: str
    type: str  # PLATFORM_WAREHOUSE
    subscribed: bool
    warehouse_ids: tuple[str, ...] = ()  # the shop-system warehouse ids related to it
    region_code: str = ""
    state: str = ""
    city: str = ""
    postal_code: str = ""
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class FbtSkuStock:
    """One shop SKU's share of an FBT goods' stock (physically in the warehouse: available + reserved)."""

    sku_id: str
    total: int
    available: int
    reserved: int


@dataclass(frozen=True)
class FbtStock:
    """One FBT goods in one FBT warehouse. on-hand total = available + reserved + unfulfillable; in transit apart."""

    goods_id: str
    reference_code: str
    name: str
    fbt_warehouse_id: str
    total: int
    available: int
    reserved: int
    unfulfillable: int
    in_transit: int
    skus: tuple[FbtSkuStock, ...] = ()


# ------------------------------------------------------------------------- combined and split packages (TikTok)
@dataclass(frozen=True)
class PackageOrders:
    """A platform package and the orders it carries: a combinable group (before combining, `package_id` is the id
    the platform pre-generated for it), a combined package, or what an uncombine left."""

    package_id: str
    order_ids: tuple[str, ...]


@dataclass(frozen=True)
class PackageRefusal:
    """One group a batch call refused, with what it means (the adapter fills `kind` and `fix`)."""

    package_id: str
    code: str
    message: str
    kind: ErrorKind = ErrorKind.REFUSED
    fix: str = ""


@dataclass(frozen=True)
class CombineResult:
    """Combine Package's answer: the packages made, and per-package refusals (the call as a whole succeeded)."""

    packages: tuple[PackageOrders, ...]
    refused: tuple[PackageRefusal, ...] = ()


@dataclass(frozen=True)
class SplitLimit:
    """Why an order must be split: too many units of one category (`category_id`) or in total, per package."""

    kind: str  # CATEGORY_ITEM_LIMITATION | TOTAL_COUNT_LIMITATION
    category_id: str = ""
    max_count: int | None = None


@dataclass(frozen=True)
class SplitAttributes:
    order_id: str
    can_split: bool
    reason: str = ""  # why it cannot (only when can_split is False)
    must_split: bool = False
    must_split_reasons: tuple[SplitLimit, ...] = ()


@dataclass(frozen=True)
class SplitGroup:
    """One package to be made from an order's lines: `group_id` is ours (the platform echoes it back)."""

    group_id: str
    line_ids: tuple[str, ...]


@dataclass(frozen=True)
class SplitPackage:
    group_id: str
    package_id: str


# ------------------------------------------------------------------------------ after-sales: cancellations, returns
class AfterSaleStatus(StrEnum):
    """Where a buyer's (or the platform's) after-sale request stands, whatever the platform calls it."""

    PENDING = "pending"  # waiting for the seller's decision
    IN_PROGRESS = "in_progress"  # accepted; waiting for a step (the buyer ships the return, the refund is issued)
    PARCEL_RECEIVED = "parcel_received"  # the returned parcel arrived: the seller confirms (or disputes) receipt
    APPROVED = "approved"  # accepted and done: cancelled, refunded, replaced
    REJECTED = "rejected"  # the seller (or the platform) refused it
    WITHDRAWN = "withdrawn"  # closed by the buyer or the platform without effect
    UNKNOWN = "unknown"  # a status the platform added later: shown as the platform's word, never decided on


class AfterSaleInitiator(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"


class ReturnKind(StrEnum):
    REFUND_ONLY = "refund_only"  # the buyer keeps the item (or never got it)
    RETURN_AND_REFUND = "return_and_refund"
    REPLACEMENT = "replacement"


class ReturnDecision(StrEnum):
    """A seller's answer to a return request, at the step it is at (the platform checks it matches)."""

    APPROVE_REFUND = "approve_refund"  # a refund-only request
    APPROVE_RETURN = "approve_return"  # let the buyer send it back
    APPROVE_RECEIVED = "approve_received"  # the returned parcel arrived as expected: refund
    APPROVE_REPLACEMENT = "approve_replacement"
    REJECT_REFUND = "reject_refund"
    REJECT_RETURN = "reject_return"
    REJECT_RECEIVED = "reject_received"  # the parcel that came back is not what was promised
    REJECT_REPLACEMENT = "reject_replacement"

    @property
    def approves(self) -> bool:
        return self.value.startswith("approve_")


@dataclass(frozen=True)
class Reason:
    """A reason from the platform's own table: `code` is what the platform takes, `text` what a person reads."""

    code: str
    text: str


@dataclass(frozen=True)
class AfterSaleLine:
    """One order line (all its units in this request) a cancellation or return covers."""

    order_line_id: str  # the platform's line id (for TikTok, the first unit's line item id)
    seller_sku: str
    platform_sku_id: str
    quantity: int
    refund: Money | None = None


@dataclass(frozen=True)
class PlatformCancellation:
    request_id: str
    order_id: str
    initiator: AfterSaleInitiator
    status: AfterSaleStatus
    platform_status: str  # the platform's own word, shown beside ours
    reason: Reason
    needs_decision: bool  # the seller must approve or reject, by `respond_by`
    respond_by: datetime | None
    refund: Money | None
    lines: tuple[AfterSaleLine, ...]
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class PlatformReturn:
    request_id: str
    order_id: str
    kind: ReturnKind
    initiator: AfterSaleInitiator
    status: AfterSaleStatus
    platform_status: str
    reason: Reason
    decisions: tuple[ReturnDecision, ...]  # what the seller may answer now (empty: nothing to decide)
    respond_by: datetime | None
    refund: Money | None
    lines: tuple[AfterSaleLine, ...]
    return_tracking_number: str
    return_carrier: str
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ReturnEvent:
    """One step of a return's history (Get Return Records)."""

    at: datetime | None
    event: str
    description: str
    note: str = ""
