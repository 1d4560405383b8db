"""The contract between Dropline and a sales channel: what an adapter implements, in neutral words.

Three protocols, in the way Sentry separates an integration's provider from its installation, and Karrio separates a
carrier's mapper (what it can do) from its proxy (the HTTP):

- `ChannelAdapter`: the platform itself, one per deployment, no shop yet. It connects a seller (OAuth or a key
  exchange), refreshes tokens, verifies inbound notifications, and hands out the two per-store protocols below.
- `SalesChannel`: one connected store (the installation). Orders in, stock out, shipments reported, locations read.
- `LabelProvider`: who sells a label for a store's orders. TikTok Shipping is one; Amazon Buy Shipping or a carrier
  aggregator can be others. The exactly-once money path (shipping/labels/purchase.py) talks only to this protocol.

Rules every adapter follows (docs/adding-a-channel.md walks through them):
- Speak only the dataclasses of `integrations.interface`: platform JSON never leaves the adapter's package. Times are
  aware UTC datetimes, money is Decimal with a currency, ids are strings.
- Raise only `integrations.errors.PlatformError` (or a subclass), with a neutral `kind` and, where the adapter knows
  it, a `fix` a person can follow. Write calls that may have happened without an answer raise
  `PlatformOutcomeUnknown`; the caller looks before it repeats.
- Declare what the channel offers in `capabilities`. An operation outside them raises `NotSupported`; it is never
  faked (an empty list that means "cannot" would read as "nothing there").
- Be safe to call twice: the core retries after crashes. Calls that buy or write say so in their docstring ("UNSAFE")
  and come with a way to find what an earlier call did (`find_label`, `get_orders`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from integrations.interface import (
    AfterSaleStatus,
    AuthorizedShop,
    CombineResult,
    Dimensions,
    FbtStock,
    FbtWarehouse,
    HandoverOptions,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    ListedOrders,
    Money,
    PackageOrders,
    Page,
    PlatformCancellation,
    PlatformOrder,
    PlatformPackage,
    PlatformReturn,
    Product,
    PurchasedLabel,
    Reason,
    ReturnDecision,
    ReturnEvent,
    SellerShipment,
    ShipPackageRequest,
    ShippingProvider,
    ShippingServiceOptions,
    SplitAttributes,
    SplitGroup,
    SplitPackage,
    TokenSet,
    TrackingEvent,
    Warehouse,
    WebhookEvent,
    Weight,
)

if TYPE_CHECKING:
    from integrations.models import Store


class Capability(StrEnum):
    """What a channel can do. The core asks before it calls; an adapter raises NotSupported outside its set."""

    ORDERS = "orders"  # list changed orders since a cursor, get orders by id
    STOCK_PUSH = "stock_push"  # set the quantity a listing advertises
    SHIPMENT_REPORT = "shipment_report"  # take a seller-shipped parcel's carrier and tracking
    TRACKING = "tracking"  # a shipped order's carrier scans
    NOTIFICATIONS = "notifications"  # push notifications (webhooks) on order changes
    LOCATIONS = "locations"  # the channel's own warehouses/locations (the sender address it prints)
    PLATFORM_FULFILMENT = "platform_fulfilment"  # the platform holds and ships stock itself (TikTok FBT, Amazon FBA)
    LABELS = "labels"  # sells official labels for its orders: `label_provider` returns one
    # TikTok's: one buyer's orders shipped as one platform package (Search Combinable Packages, Combine, Uncombine).
    COMBINE_PACKAGES = "combine_packages"
    # TikTok's: one order's lines shipped as several platform packages (Get Order Split Attributes, Split Orders).
    SPLIT_ORDERS = "split_orders"
    # Buyers ask to cancel; the seller approves or rejects, and may cancel an order itself (with the platform's
    # reasons).
    CANCELLATIONS = "cancellations"
    # Buyers ask for a refund, a return or a replacement; the seller approves or rejects (with reasons).
    RETURNS = "returns"
    # The store's catalogue: every product and its variants (the listings mapped to SKUs), not only those sold.
    CATALOG = "catalog"


@dataclass(frozen=True)
class FulfilmentProgram:
    """A platform's own fulfilment (Capability.PLATFORM_FULFILMENT) in the platform's words, for the people who know
    it by them: TikTok's "Fulfilled by TikTok" (FBT), Amazon's "Fulfillment by Amazon" (FBA)."""

    name: str  # "Fulfilled by TikTok"
    short: str = ""  # "FBT"; "" when the platform has no short name

    def __str__(self) -> str:
        return f"{self.name} ({self.short})" if self.short else self.name


# ------------------------------------------------------------------------------------------------- connecting
@dataclass(frozen=True)
class Authorization:
    """A seller's consent, exchanged: the tokens and every shop they cover (one token may cover several shops)."""

    tokens: TokenSet
    shops: tuple[AuthorizedShop, ...]


TokensSaver = Callable[[TokenSet], None]
# Refreshes a seller's tokens once across every worker: called with the tokens the caller holds and the adapter's own
# refresh; returns the current tokens (refreshed by this call, or by another worker meanwhile) after saving them.
# Platforms that rotate refresh tokens (Shopify) would otherwise see two workers refresh with the same one.
TokensRefresher = Callable[[TokenSet, Callable[[TokenSet], TokenSet]], TokenSet]


class NotificationRejected(Exception):
    """Not a notification of this platform (no or a wrong signature): answer 401 and record nothing."""


@dataclass(frozen=True)
class InboundNotification:
    """A verified notification. `event` is None when it verified but could not be read (`unreadable` says why): it is
    recorded and acknowledged, since the platform would only send the same unreadable body again. `shop_id` and
    `seller_id` say whose it is (best effort for an unreadable one)."""

    event: WebhookEvent | None
    shop_id: str
    seller_id: str
    unreadable: str = ""
    # Headers the adapter needs back to read the notification later (Shopify names the topic, the shop and the event
    # in headers, not in the body): kept with the body and handed to `parse_notification`.
    headers: Mapping[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------- protocols
@runtime_checkable
class SalesChannel(Protocol):
    """One connected store on a marketplace: the installation. Built by `ChannelAdapter.sales_channel`."""

    platform: str
    capabilities: frozenset[Capability]

    # orders (Capability.ORDERS)
    def list_changed_orders(
        self, *, since: datetime, until: datetime | None = None, cursor: str | None = None
    ) -> ListedOrders:
        """One page of orders updated at or after `since` (and before `until`, when given), oldest update first;
        `ListedOrders.next_cursor` continues. Each order is translated when asked for (`ListedOrders.orders`).
        `ListedOrders.total_count` is how many orders the whole listing holds, where the platform says (None
        otherwise): it is what lets a large first import be cut into windows (docs/adr/0037)."""
        ...

    def count_changed_orders(self, *, since: datetime, until: datetime) -> int | None:
        """How many orders were updated in [since, until), in one cheap call; None where the platform cannot say."""
        ...

    def get_orders(self, order_ids: Sequence[str]) -> list[PlatformOrder]:
        """These orders as the platform has them now (any number of ids; unknown ids are left out)."""
        ...

    # catalogue (Capability.CATALOG)
    def list_products(self, *, cursor: str | None = None) -> Page[Product]:
        """One page of the store's products with their variants (SKUs); `Page.next_cursor` continues."""
        ...

    # stock (Capability.STOCK_PUSH)
    def read_stock(self, sku_ids: Sequence[str]) -> list[InventoryLevel]:
        """What the channel advertises for these listings now, per channel warehouse."""
        ...

    def push_stock(self, product_id: str, updates: Sequence[InventoryUpdate]) -> list[ItemResult]:
        """Set absolute quantities for one product's listings. Per-listing refusals come back as results (with a
        `fix`), not as an exception; the call as a whole raises only when nothing was taken."""
        ...

    # shipments the seller ships on their own label (Capability.SHIPMENT_REPORT)
    def list_shipment_carriers(self, *, delivery_option_id: str) -> list[ShippingProvider]:
        """The carriers the channel accepts tracking from, for an order's delivery option."""
        ...

    def report_shipment(
        self, order_id: str, *, line_ids: Sequence[str], carrier_id: str, tracking_number: str
    ) -> SellerShipment:
        """UNSAFE: mark these lines shipped with this carrier and tracking. Raises ErrorKind.ALREADY_DONE when the
        lines were shipped already (then `get_orders` shows the package to adopt)."""
        ...

    def get_tracking(self, order_id: str) -> list[TrackingEvent]:
        """Carrier scans of a shipped order (Capability.TRACKING)."""
        ...

    # locations (Capability.LOCATIONS)
    def list_locations(self) -> list[Warehouse]:
        """The channel's own warehouses for this store, with the addresses it prints as the sender."""
        ...

    # stock the platform holds and ships (Capability.PLATFORM_FULFILMENT)
    def list_fulfilment_centres(self) -> list[FbtWarehouse]:
        """The platform's fulfilment centres the seller is subscribed to."""
        ...

    def read_fulfilment_stock(self, *, centre_ids: Sequence[str]) -> Iterator[FbtStock]:
        """Stock the platform holds for the seller in these centres (read only: never pushed)."""
        ...

    # notifications (Capability.NOTIFICATIONS)
    def subscribe_notifications(self, address: str) -> list[str]:
        """Point this store's notifications at `address`; returns the topics subscribed."""
        ...

    # one buyer's orders in one package (Capability.COMBINE_PACKAGES)
    def list_combinable(self) -> list[PackageOrders]:
        """Every group of orders the platform allows to ship as one package now, each with the package id it
        pre-generated for the group."""
        ...

    def combine_packages(self, groups: Sequence[PackageOrders]) -> CombineResult:
        """UNSAFE: combine each group into one package. Per-group refusals come back in `errors`; a lost answer
        raises PlatformOutcomeUnknown (read the orders' packages with `get_orders` before combining again)."""
        ...

    def uncombine_package(self, package_id: str, *, order_ids: Sequence[str]) -> list[PackageOrders]:
        """UNSAFE: take these orders out of a combined package; returns the packages left."""
        ...

    # one order's lines in several packages (Capability.SPLIT_ORDERS)
    def split_attributes(self, order_ids: Sequence[str]) -> list[SplitAttributes]:
        """Whether each order may (or must) be split into several packages."""
        ...

    def split_order(self, order_id: str, groups: Sequence[SplitGroup]) -> list[SplitPackage]:
        """UNSAFE: split the order into one package per group. A lost answer raises PlatformOutcomeUnknown (read the
        order's lines' packages with `get_orders` before splitting again)."""
        ...

    # after-sales (Capability.CANCELLATIONS)
    def cancellations(
        self, *, updated_since: datetime | None = None, order_ids: Sequence[str] = ()
    ) -> Iterator[PlatformCancellation]:
        """Cancellation requests changed since `updated_since` (every one when None), or those of `order_ids`."""
        ...

    def cancellation_decide(
        self, request_id: str, *, approve: bool, key: str, reason_code: str = "", comment: str = ""
    ) -> None:
        """Approve or reject a buyer's cancellation request (a rejection takes a `reject_reasons` code). Keyed: the
        same `key` again answers the first decision's result and decides nothing twice, so a lost answer is resolved
        by repeating with the same key."""
        ...

    def reject_reasons(self, request_id: str) -> list[Reason]:
        """The reasons the platform accepts to reject this cancellation or return request, as it stands now."""
        ...

    def seller_cancel_reasons(self, status: str) -> list[Reason]:
        """The reasons a seller may give to cancel an order in this (Dropline) order status; empty: it cannot."""
        ...

    def order_cancel(self, order_id: str, *, reason_code: str) -> tuple[str, AfterSaleStatus]:
        """UNSAFE: the seller cancels the whole order. Returns the platform's request id and its status. A lost
        answer raises PlatformOutcomeUnknown: read `cancellations(order_ids=...)` before cancelling again."""
        ...

    def refund_estimate(self, order_id: str, *, reason_code: str) -> Money | None:
        """What the buyer would be refunded if the seller cancelled the order now; None when the platform cannot say."""
        ...

    # after-sales (Capability.RETURNS)
    def returns(
        self, *, updated_since: datetime | None = None, order_ids: Sequence[str] = ()
    ) -> Iterator[PlatformReturn]:
        """Return, refund and replacement requests changed since `updated_since`, or those of `order_ids`."""
        ...

    def return_decide(
        self, request_id: str, decision: ReturnDecision, *, key: str, reason_code: str = "", comment: str = ""
    ) -> None:
        """Answer a return request at the step it is at (a rejection takes a `reject_reasons` code). Keyed like
        `cancellation_decide`."""
        ...

    def return_history(self, request_id: str) -> list[ReturnEvent]:
        """The request's steps so far, oldest first."""
        ...


@runtime_checkable
class LabelProvider(Protocol):
    """Who sells the labels for a store's orders. The money path (shipping/labels/purchase.py) calls, for one package:
    `find_label` (was it bought already? adopt it), else `quote` then `buy`; later `get_document` for the PDF.

    Where the platform creates the package itself at payment (`creates_packages` False, e.g. TikTok outside the US),
    the seller ships that package instead of buying one: `find_package` then `ship`."""

    platform: str
    creates_packages: bool  # True: `buy` creates the package and its label; False: `ship` the platform's own package

    def quote(
        self, order_id: str, *, line_ids: Sequence[str], weight: Weight | None, dimensions: Dimensions | None
    ) -> ShippingServiceOptions:
        """The services that can carry these lines, with prices. Raises ErrorKind.NO_SERVICE when none can."""
        ...

    def buy(
        self,
        order_id: str,
        *,
        line_ids: Sequence[str],
        service_id: str,
        weight: Weight | None,
        dimensions: Dimensions | None,
    ) -> PurchasedLabel:
        """UNSAFE, costs money: buy one label for these lines. Raises PlatformOutcomeUnknown when the answer was
        lost (call `find_label` before buying again) and ErrorKind.ALREADY_DONE when the lines have one."""
        ...

    def find_label(self, order_id: str, *, line_ids: Sequence[str]) -> str | None:
        """The package already bought (or shipped) for these lines, or None: the adopt step of the money path."""
        ...

    def find_package(self, order_id: str, *, line_ids: Sequence[str]) -> str:
        """The package the platform created for these lines, shipped or not (for `creates_packages` False).
        PlatformError kind NOT_READY while it has created none."""
        ...

    def get_package(self, package_id: str) -> PlatformPackage: ...

    def handover_options(self, package_id: str) -> HandoverOptions:
        """How the parcel may leave: pickup (with slots), drop-off."""
        ...

    def ship(self, request: ShipPackageRequest) -> None:
        """UNSAFE: hand the package over (pickup or drop-off). ErrorKind.ALREADY_DONE when it was shipped."""
        ...

    def get_document(self, package_id: str) -> LabelDocument:
        """The label PDF, fetched now (a platform's document links expire: store the bytes, never rebuy)."""
        ...


@dataclass(frozen=True)
class LabelDocument:
    pdf: bytes
    tracking_number: str


@runtime_checkable
class ChannelAdapter(Protocol):
    """A platform, registered once (integrations.registry). Everything that needs no connected store."""

    platform: str
    name: str  # as people read it: "TikTok Shop"
    capabilities: frozenset[Capability]
    fulfilment_program: FulfilmentProgram | None  # its own fulfilment's name; None when it holds no stock
    # Whether a connection starts from the shop's own address, typed by the seller (Shopify: every shop is its own
    # host, "your-store.myshopify.com"); the connect form then asks for it and hands it to `authorization_url`.
    connect_asks_for_shop: bool

    def consent_origins(self) -> list[str]:
        """The origins a seller's browser is sent to when connecting (the consent page): the Stores page lets its
        connect forms go there (a form's redirects are held to the page's CSP form-action). Wildcard hosts are CSP
        sources ("https://*.myshopify.com")."""
        ...

    def authorization_url(self, state: str, *, shop: str = "") -> str:
        """Where the seller consents; the platform sends them back with a code and this state. `shop` is what the
        seller typed when `connect_asks_for_shop`: PlatformError kind INVALID (with a fix) when it names no shop."""
        ...

    def authorize(self, code: str, *, callback: Mapping[str, str], shop: str = "") -> Authorization:
        """Exchange the consent code for tokens and the shops they cover. `callback` is every query parameter the
        platform sent the seller back with: a platform that signs its redirect is verified here (PlatformError kind
        INVALID when it does not verify). `shop` is the shop the connection was started for, when the adapter asks
        for one: a callback for another shop is refused. Not retried after the request left: codes are single use."""
        ...

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """Fresh tokens before these expire. PlatformAuthError when the seller must consent again."""
        ...

    def store_connected(self, store: Store, shop: AuthorizedShop) -> None:
        """`store` was saved for `shop` (connected or reconnected): keep what the platform needs back on every call
        of this store (`shop.settings`) in the adapter's own per-store record, never on `Store`. Runs in the
        transaction that saves the store, in its organization's scope; a channel with nothing to keep does nothing."""
        ...

    def receive_notification(self, headers: Mapping[str, str], body: bytes) -> InboundNotification:
        """Verify an inbound notification over its raw bytes (headers by lower-case name) and read it. Raises
        NotificationRejected when it is not signed by the platform."""
        ...

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Read a notification recorded earlier (already verified). PlatformError kind INVALID when unreadable."""
        ...

    def sales_channel(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
        while_a_person_waits: bool = False,
    ) -> SalesChannel:
        """A channel for one connected store. Tokens are refreshed through `refresh_tokens` when given (one refresh
        across every worker), else refreshed here and handed to `save_tokens`; `while_a_person_waits` asks once and
        briefly instead of with a worker's patience."""
        ...

    def label_provider(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
    ) -> LabelProvider:
        """The label seller for this store's orders; NotSupported when the channel has none (Capability.LABELS)."""
        ...
