"""An in-memory sales channel that exists only in tests: the proof that Dropline's core reaches a marketplace only
through integrations.base. It is not a sandbox (no HTTP, no published contract): a market is a few dicts, and the
adapter implements the contract as a stranger would from integrations/base.py and docs/adding-a-channel.md.

It declares orders, stock push and shipment reports, and nothing else: notifications, locations, labels, tracking
and platform fulfilment raise NotSupported, as the contract asks of a channel that lacks them."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from integrations.base import (
    Authorization,
    Capability,
    FulfilmentProgram,
    InboundNotification,
    LabelDocument,
    LabelProvider,
    NotificationRejected,
    TokensSaver,
)
from integrations.errors import ErrorKind, NotSupported, PlatformAuthError, PlatformError, PlatformOutcomeUnknown
from integrations.interface import (
    Address,
    AfterSaleStatus,
    AuthorizedShop,
    CombineResult,
    Deadlines,
    Dimensions,
    FbtStock,
    FbtWarehouse,
    FulfilledBy,
    HandoverOptions,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    LabelSource,
    ListedOrders,
    Money,
    OrderStatus,
    PackageOrders,
    Page,
    PlatformCancellation,
    PlatformOrder,
    PlatformOrderLine,
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
    ShippingServiceQuote,
    SplitAttributes,
    SplitGroup,
    SplitPackage,
    TokenSet,
    TrackingEvent,
    Warehouse,
    WebhookEvent,
    Weight,
)

PLATFORM = "fakeshop"
PAGE_SIZE = 2  # small, so that an import has to follow the cursor
CARRIERS = (ShippingProvider(provider_id="fp", name="FakePost"), ShippingProvider(provider_id="ups", name="UPS"))


@dataclass
class Market:
    """The marketplace's own state: what the platform knows, and every write Dropline made to it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    shop_id: str = "fake-shop-1"
    orders: dict[str, PlatformOrder] = field(default_factory=dict)
    advertised: dict[str, int] = field(default_factory=dict)  # listing (platform SKU id) -> quantity shown
    stock_pushes: list[tuple[str, str, int]] = field(default_factory=list)  # (product, sku, quantity), each call
    shipments: list[tuple[str, str, str]] = field(default_factory=list)  # (order, carrier, tracking), each call
    codes: set[str] = field(default_factory=set)
    # Labels (FakeLabelAdapter): every label the platform sold, and faults to inject into the next purchase.
    labels: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (order, package, line ids)
    lose_next_answer: bool = False  # the next purchase is made, then its answer is lost on the way back
    fail_next_buy_temporarily: bool = False  # the next purchase is refused as a passing trouble (nothing bought)
    buy_latency: float = 0.0  # seconds a purchase takes (lets concurrent deliveries overlap)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def add_order(
        self, order_id: str, units: Mapping[str, int], *, buyer: str = "Ada Lovelace", platform_label: bool = False
    ) -> PlatformOrder:
        """A paid order to ship: `units` maps the listing's SKU id (also its seller SKU) to how many were bought.
        Like TikTok, the platform gives each unit its own line id; the adapter hands Dropline one line per SKU with
        its quantity and every unit's id. With `platform_label` the order ships on a label bought from the platform;
        otherwise on the seller's own."""
        when = self.tick()
        lines = tuple(
            PlatformOrderLine(
                line_ids=tuple(f"{order_id}-{sku}-{unit}" for unit in range(count)),
                quantity=count,
                sku_id=sku,
                product_id=f"product-{sku}",
                seller_sku=sku,
                product_name=f"Product {sku}",
                sale_price=Money(Decimal("12.50"), "GBP"),
            )
            for sku, count in units.items()
        )
        order = PlatformOrder(
            platform=PLATFORM,
            order_id=order_id,
            status=OrderStatus.AWAITING_SHIPMENT,
            label_source=LabelSource.PLATFORM if platform_label else LabelSource.SELLER,
            fulfilled_by=FulfilledBy.SELLER,
            lines=lines,
            address=Address(
                name=buyer, line1="1 Analytical Row", city="London", postal_code="N1 9GU", region_code="GB"
            ),
            created_at=when,
            updated_at=when,
            paid_at=when,
            deadlines=Deadlines(ship_by=when + timedelta(days=2)),
        )
        self.orders[order_id] = order
        return order


class FakeAdapter:
    platform = PLATFORM
    name = "FakeShop"
    capabilities = frozenset({Capability.ORDERS, Capability.STOCK_PUSH, Capability.SHIPMENT_REPORT})
    # Named although this channel holds no stock, so a test can give a platform warehouse to it.
    fulfilment_program = FulfilmentProgram(name="Fulfilled by FakeShop", short="FFS")
    connect_asks_for_shop = False

    def __init__(self, market: Market) -> None:
        self.market = market

    def consent_origins(self) -> list[str]:
        return ["https://fakeshop.invalid"]

    def authorization_url(self, state: str, *, shop: str = "") -> str:
        return f"https://fakeshop.invalid/consent?state={state}"

    def authorize(self, code: str, *, callback: Mapping[str, str], shop: str = "") -> Authorization:
        if code not in self.market.codes:
            raise PlatformAuthError(PLATFORM, "bad_code", "unknown or used consent code")
        self.market.codes.discard(code)
        tokens = TokenSet(
            access_token="fake-access",
            access_token_expires_at=self.market.now + timedelta(hours=1),
            refresh_token="fake-refresh",
            refresh_token_expires_at=self.market.now + timedelta(days=365),
            open_id="fake-seller-1",
            seller_name="Fake Seller",
        )
        shop = AuthorizedShop(
            shop_id=self.market.shop_id, name="Fake Shop UK", region="GB", seller_type="LOCAL", code="FK1"
        )
        return Authorization(tokens=tokens, shops=(shop,))

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return replace(tokens, access_token_expires_at=self.market.now + timedelta(hours=1))

    def store_connected(self, store: Any, shop: AuthorizedShop) -> None:
        """FakeShop needs nothing back on its calls but the shop id the Store row has already."""

    def receive_notification(self, headers: Mapping[str, str], body: bytes) -> InboundNotification:
        raise NotificationRejected("FakeShop sends no notifications")

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        raise NotSupported(PLATFORM, "notifications")

    def sales_channel(
        self,
        store: Any,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: Any = None,
        while_a_person_waits: bool = False,
    ) -> FakeSalesChannel:
        if tokens is None:
            raise PlatformAuthError(PLATFORM, "not_connected", "reconnect the store")
        return FakeSalesChannel(self.market)

    def label_provider(
        self, store: Any, *, tokens: TokenSet | None, save_tokens: TokensSaver, refresh_tokens: Any = None
    ) -> LabelProvider:
        raise NotSupported(PLATFORM, "labels")


class FakeSalesChannel:
    platform = PLATFORM
    capabilities = FakeAdapter.capabilities

    def __init__(self, market: Market) -> None:
        self.market = market

    def list_changed_orders(
        self, *, since: datetime, until: datetime | None = None, cursor: str | None = None
    ) -> ListedOrders:
        changed = sorted(
            (
                o
                for o in self.market.orders.values()
                if o.updated_at and o.updated_at >= since and (until is None or o.updated_at < until)
            ),
            key=lambda o: (o.updated_at, o.order_id),
        )
        start = int(cursor or 0)
        page = changed[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(changed)
        return ListedOrders.translated(page, next_cursor=str(start + PAGE_SIZE) if more else None)

    def count_changed_orders(self, *, since: datetime, until: datetime) -> int | None:
        return None  # like a channel without counts: its first imports are never cut into windows

    def get_orders(self, order_ids: Sequence[str]) -> list[PlatformOrder]:
        return [self.market.orders[i] for i in order_ids if i in self.market.orders]

    def list_products(self, *, cursor: str | None = None) -> Page[Product]:
        raise NotSupported(PLATFORM, "a catalogue")

    def read_stock(self, sku_ids: Sequence[str]) -> list[InventoryLevel]:
        return [
            InventoryLevel(f"product-{s}", s, s, self.market.advertised.get(s, 0), 0)
            for s in sku_ids
            if s in self.market.advertised
        ]

    def push_stock(self, product_id: str, updates: Sequence[InventoryUpdate]) -> list[ItemResult]:
        results = []
        for update in updates:
            quantity = sum(q.quantity for q in update.quantities)
            if quantity < 0:
                results.append(ItemResult(update.sku_id, ok=False, code=400, message="negative", fix="Send 0 or more."))
                continue
            self.market.advertised[update.sku_id] = quantity
            self.market.stock_pushes.append((product_id, update.sku_id, quantity))
            results.append(ItemResult(update.sku_id, ok=True))
        return results

    def list_shipment_carriers(self, *, delivery_option_id: str) -> list[ShippingProvider]:
        return list(CARRIERS)

    def report_shipment(
        self, order_id: str, *, line_ids: Sequence[str], carrier_id: str, tracking_number: str
    ) -> SellerShipment:
        order = self.market.orders[order_id]
        if order.status != OrderStatus.AWAITING_SHIPMENT:
            raise PlatformError(
                PLATFORM, "shipped", "order already shipped", kind=ErrorKind.ALREADY_DONE, fix="Nothing to do."
            )
        package_id = f"pkg-{order_id}"
        self.market.shipments.append((order_id, carrier_id, tracking_number))
        carrier = next(c.name for c in CARRIERS if c.provider_id == carrier_id)
        shipped_lines = tuple(
            replace(
                line,
                package_id=package_id,
                package_status="COMPLETED",
                tracking_number=tracking_number,
                carrier_name=carrier,
            )
            for line in order.lines
        )
        when = self.market.tick()
        self.market.orders[order_id] = replace(
            order,
            status=OrderStatus.IN_TRANSIT,
            lines=shipped_lines,
            tracking_number=tracking_number,
            carrier_name=carrier,
            shipped_at=when,
            updated_at=when,
        )
        return SellerShipment(
            order_id=order_id, package_id=package_id, line_ids=tuple(i for line in order.lines for i in line.line_ids)
        )

    def get_tracking(self, order_id: str) -> list[TrackingEvent]:
        raise NotSupported(PLATFORM, "tracking")

    def list_locations(self) -> list[Warehouse]:
        raise NotSupported(PLATFORM, "locations")

    def list_fulfilment_centres(self) -> list[FbtWarehouse]:
        raise NotSupported(PLATFORM, "platform fulfilment")

    def read_fulfilment_stock(self, *, centre_ids: Sequence[str]) -> Iterator[FbtStock]:
        raise NotSupported(PLATFORM, "platform fulfilment")

    def subscribe_notifications(self, address: str) -> list[str]:
        raise NotSupported(PLATFORM, "notifications")

    def list_combinable(self) -> list[PackageOrders]:
        raise NotSupported(PLATFORM, "combining packages")

    def combine_packages(self, groups: Sequence[PackageOrders]) -> CombineResult:
        raise NotSupported(PLATFORM, "combining packages")

    def uncombine_package(self, package_id: str, *, order_ids: Sequence[str]) -> list[PackageOrders]:
        raise NotSupported(PLATFORM, "combining packages")

    def split_attributes(self, order_ids: Sequence[str]) -> list[SplitAttributes]:
        raise NotSupported(PLATFORM, "splitting orders")

    def split_order(self, order_id: str, groups: Sequence[SplitGroup]) -> list[SplitPackage]:
        raise NotSupported(PLATFORM, "splitting orders")

    def cancellations(
        self, *, updated_since: datetime | None = None, order_ids: Sequence[str] = ()
    ) -> Iterator[PlatformCancellation]:
        raise NotSupported(PLATFORM, "cancellation requests")

    def cancellation_decide(
        self, request_id: str, *, approve: bool, key: str, reason_code: str = "", comment: str = ""
    ) -> None:
        raise NotSupported(PLATFORM, "cancellation requests")

    def reject_reasons(self, request_id: str) -> list[Reason]:
        raise NotSupported(PLATFORM, "after-sale requests")

    def seller_cancel_reasons(self, status: str) -> list[Reason]:
        raise NotSupported(PLATFORM, "cancellation requests")

    def order_cancel(self, order_id: str, *, reason_code: str) -> tuple[str, AfterSaleStatus]:
        raise NotSupported(PLATFORM, "cancellation requests")

    def refund_estimate(self, order_id: str, *, reason_code: str) -> Money | None:
        raise NotSupported(PLATFORM, "cancellation requests")

    def returns(
        self, *, updated_since: datetime | None = None, order_ids: Sequence[str] = ()
    ) -> Iterator[PlatformReturn]:
        raise NotSupported(PLATFORM, "return requests")

    def return_decide(
        self, request_id: str, decision: ReturnDecision, *, key: str, reason_code: str = "", comment: str = ""
    ) -> None:
        raise NotSupported(PLATFORM, "return requests")

    def return_history(self, request_id: str) -> list[ReturnEvent]:
        raise NotSupported(PLATFORM, "return requests")


# ------------------------------------------------------------------------------------------------------ labels
LABEL_PLATFORM = "fakelabels"
SERVICE = ShippingServiceQuote(
    service_id="std",
    name="Standard",
    price=Money(Decimal("3.20"), "GBP"),
    earliest_delivery_days=2,
    latest_delivery_days=4,
    is_default=True,
    carrier_id="fp",
    carrier_name="FakePost",
)


class FakeLabelAdapter(FakeAdapter):
    """The same marketplace, also selling labels for its orders: a LabelProvider the money path can be tried on."""

    platform = LABEL_PLATFORM
    name = "FakeLabels"
    capabilities = FakeAdapter.capabilities | {Capability.LABELS}

    def label_provider(
        self, store: Any, *, tokens: TokenSet | None, save_tokens: TokensSaver, refresh_tokens: Any = None
    ) -> LabelProvider:
        return FakeLabelProvider(self.market)


class FakeLabelProvider:
    platform = LABEL_PLATFORM
    creates_packages = True

    def __init__(self, market: Market) -> None:
        self.market = market

    def quote(
        self, order_id: str, *, line_ids: Sequence[str], weight: Weight | None, dimensions: Dimensions | None
    ) -> ShippingServiceOptions:
        return ShippingServiceOptions(order_id, tuple(line_ids), weight, dimensions, (SERVICE,))

    def buy(
        self,
        order_id: str,
        *,
        line_ids: Sequence[str],
        service_id: str,
        weight: Weight | None,
        dimensions: Dimensions | None,
    ) -> PurchasedLabel:
        time.sleep(self.market.buy_latency)
        with self.market.lock:
            if self.find_label(order_id, line_ids=line_ids):
                raise PlatformError(LABEL_PLATFORM, "bought", "these lines have a label", kind=ErrorKind.ALREADY_DONE)
            if self.market.fail_next_buy_temporarily:
                self.market.fail_next_buy_temporarily = False
                raise PlatformError(LABEL_PLATFORM, "busy", "try again later", retryable=True)
            package_id = f"PKG-{len(self.market.labels) + 1}"
            self.market.labels.append((order_id, package_id, tuple(sorted(line_ids))))
            if self.market.lose_next_answer:
                self.market.lose_next_answer = False
                raise PlatformOutcomeUnknown(LABEL_PLATFORM, "timeout", "the answer never came back")
        return PurchasedLabel(package_id, order_id, tuple(line_ids), SERVICE, weight, dimensions, self.market.now)

    def find_label(self, order_id: str, *, line_ids: Sequence[str]) -> str | None:
        wanted = set(line_ids)
        return next((p for o, p, lines in self.market.labels if o == order_id and wanted & set(lines)), None)

    def find_package(self, order_id: str, *, line_ids: Sequence[str]) -> str:
        raise NotSupported(LABEL_PLATFORM, "platform-created packages")

    def get_package(self, package_id: str) -> PlatformPackage:
        order_id = next(o for o, p, _ in self.market.labels if p == package_id)
        return PlatformPackage(
            package_id=package_id,
            status="PROCESSING",
            order_ids=(order_id,),
            tracking_number=f"FP{package_id}",
            carrier_name="FakePost",
            delivery_option_name="Standard",
        )

    def handover_options(self, package_id: str) -> HandoverOptions:
        return HandoverOptions(
            can_pickup=False, can_drop_off=True, can_van_collection=False, drop_off_point_url="", pickup_slots=()
        )

    def ship(self, request: ShipPackageRequest) -> None:
        raise NotSupported(LABEL_PLATFORM, "shipping platform-created packages")

    def get_document(self, package_id: str) -> LabelDocument:
        buffer = io.BytesIO()
        page = canvas.Canvas(buffer, pagesize=(4 * inch, 6 * inch))
        page.drawString(20, 400, f"FakePost {package_id}")
        page.save()
        return LabelDocument(pdf=buffer.getvalue(), tracking_number=f"FP{package_id}")
