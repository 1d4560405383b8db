"""TikTok Shop behind Dropline's channel contract (integrations.base): the adapter, a store's sales channel, and
TikTok Shipping as a label provider.

`TikTokShopClient` owns the HTTP (signing, tokens, retries, rate limit) and speaks the API's own operations; the
classes here say what those operations are to Dropline, and give every refusal its meaning (integrations.tiktok.errors).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from integrations.base import (
    Authorization,
    Capability,
    FulfilmentProgram,
    InboundNotification,
    LabelDocument,
    NotificationRejected,
    TokensRefresher,
    TokensSaver,
)
from integrations.errors import PlatformAuthError, PlatformError
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
from integrations.models import Store, TikTokShopSettings
from integrations.tiktok import errors, reasons, translate, webhooks
from integrations.tiktok.client import PLATFORM, TikTokShopClient, shared_http_client
from integrations.tiktok.config import TikTokConfig
from integrations.tiktok.oauth import TikTokAuth

# A page a person is waiting for asks the platform once, briefly: a worker's patience (5 attempts with backoff, 30 s
# reads) made a warehouse page of a seller with 14 shops take 76 s while TikTok was unreachable.
WHILE_A_PERSON_WAITS = {
    "max_attempts": 1,
    "connect_timeout": 2.0,
    "read_timeout": 5.0,
    "rate_limit_max_wait_seconds": 2.0,
}
# Topics Dropline listens to; the poller catches anything a lost webhook would have told us, a minute later.
NOTIFICATION_TOPICS = (
    "ORDER_STATUS_CHANGE",
    "RECIPIENT_ADDRESS_UPDATE",
    "PACKAGE_UPDATE",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
    "SELLER_DEAUTHORIZATION",
    "UPCOMING_AUTHORIZATION_EXPIRATION",
)
# A line's package status before its label is bought / its package shipped.
NOT_ARRANGED = ("", "TO_FULFILL", "CANCELLED")
ORDERS_PAGE_SIZE = 100
PRODUCTS_PAGE_SIZE = 100  # Search Products: at most 100 a page
CAPABILITIES = frozenset(Capability)  # TikTok Shop offers every part of the contract


def shop_cipher(store: Store) -> str:
    """The shop selector every shop-scoped call needs (it is not the shop id), kept by `store_connected`."""
    settings = TikTokShopSettings.of(store)
    return settings.cipher if settings is not None else ""


class TikTokAdapter:
    """TikTok Shop, the platform. The configuration is read from settings on each use (tests point it at the sandbox
    by overriding settings)."""

    platform = PLATFORM
    name = "TikTok"
    capabilities = CAPABILITIES
    fulfilment_program: FulfilmentProgram | None = FulfilmentProgram(name="Fulfilled by TikTok", short="FBT")
    connect_asks_for_shop = False  # one consent covers every shop of the seller

    @staticmethod
    def config() -> TikTokConfig:
        return TikTokConfig.from_settings()

    def _auth(self) -> TikTokAuth:
        config = self.config()
        return TikTokAuth(config, shared_http_client(config))

    # --- connecting
    def consent_origins(self) -> list[str]:
        consent = urlsplit(self.config().authorize_url)
        return [f"{consent.scheme}://{consent.netloc}"] if consent.scheme and consent.netloc else []

    def authorization_url(self, state: str, *, shop: str = "") -> str:
        return self._auth().authorization_url(state)

    def authorize(self, code: str, *, callback: Mapping[str, str], shop: str = "") -> Authorization:
        """TikTok's redirect is not signed: the single-use state bound to the session (checked by the caller) and the
        code exchange, signed with the app secret, are what prove it."""
        tokens = self._auth().exchange_code(code)
        if not tokens.open_id:
            raise PlatformError(PLATFORM, "no_open_id", "the token response names no seller (open_id)")
        shops = TikTokShopClient(config=self.config(), tokens=tokens).get_authorized_shops()
        return Authorization(tokens=tokens, shops=tuple(shops))

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return self._auth().refresh(tokens.refresh_token)

    def store_connected(self, store: Store, shop: AuthorizedShop) -> None:
        """Keep the shop's cipher in its TikTokShopSettings (created on first connect; the policy dates a seller set
        survive a reconnect)."""
        settings, _ = TikTokShopSettings.objects.update_or_create(
            store=store, defaults={"cipher": shop.settings.get(translate.CIPHER, "")}
        )
        store.tiktok_settings = settings

    # --- notifications
    def receive_notification(self, headers: Mapping[str, str], body: bytes) -> InboundNotification:
        config = self.config()
        if not webhooks.verify_signature(
            app_key=config.app_key,
            app_secret=config.app_secret,
            raw_body=body,
            authorization=headers.get("authorization"),
        ):
            raise NotificationRejected("webhook signature does not match")
        try:
            event = webhooks.parse_event(body)
        except PlatformError as error:
            shop_id, seller_id = webhooks.shop_of(body)
            return InboundNotification(event=None, shop_id=shop_id, seller_id=seller_id, unreadable=error.message)
        return InboundNotification(event=event, shop_id=event.shop_id, seller_id=event.seller_open_id)

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        return webhooks.parse_event(body)

    # --- a connected store
    def client(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
        while_a_person_waits: bool = False,
    ) -> TikTokShopClient:
        if tokens is None:
            raise PlatformAuthError(PLATFORM, "not_connected", f"{store} has no authorization: reconnect it")
        config = self.config()
        if while_a_person_waits:
            config = dataclasses.replace(config, **WHILE_A_PERSON_WAITS)  # type: ignore[arg-type]
        return TikTokShopClient(
            config=config,
            tokens=tokens,
            shop_cipher=shop_cipher(store),
            on_tokens_refreshed=save_tokens,
            refresh_tokens=refresh_tokens,
        )

    def sales_channel(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
        while_a_person_waits: bool = False,
    ) -> TikTokSalesChannel:
        client = self.client(
            store,
            tokens=tokens,
            save_tokens=save_tokens,
            refresh_tokens=refresh_tokens,
            while_a_person_waits=while_a_person_waits,
        )
        return TikTokSalesChannel(client)

    def label_provider(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
    ) -> TikTokShipping:
        client = self.client(store, tokens=tokens, save_tokens=save_tokens, refresh_tokens=refresh_tokens)
        return TikTokShipping(client, region=store.region)


class TikTokSalesChannel:
    """One TikTok shop as a sales channel."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, client: TikTokShopClient) -> None:
        self.client = client

    def list_changed_orders(
        self, *, since: datetime, until: datetime | None = None, cursor: str | None = None
    ) -> ListedOrders:
        return self.client.search_orders(
            update_time_ge=since, update_time_lt=until, page_token=cursor, page_size=ORDERS_PAGE_SIZE
        )

    def count_changed_orders(self, *, since: datetime, until: datetime) -> int | None:
        # Search Orders reports the whole search's total_count with any page: a page of one is the cheap count.
        return self.client.search_orders(update_time_ge=since, update_time_lt=until, page_size=1).total_count

    def get_orders(self, order_ids: Sequence[str]) -> list[PlatformOrder]:
        return self.client.get_orders(order_ids)

    def list_products(self, *, cursor: str | None = None) -> Page[Product]:
        return self.client.search_products(page_token=cursor, page_size=PRODUCTS_PAGE_SIZE)

    def read_stock(self, sku_ids: Sequence[str]) -> list[InventoryLevel]:
        with errors.explained(errors.STOCK_PUSH):
            return self.client.search_inventory(sku_ids=sku_ids)

    def push_stock(self, product_id: str, updates: Sequence[InventoryUpdate]) -> list[ItemResult]:
        with errors.explained(errors.STOCK_PUSH):
            results = self.client.update_inventory(product_id, updates)
        return [
            result
            if result.ok
            else dataclasses.replace(result, fix=errors.stock_refusal_text(result.code, result.message, result.details))
            for result in results
        ]

    def list_shipment_carriers(self, *, delivery_option_id: str) -> list[ShippingProvider]:
        if not delivery_option_id:  # TikTok lists carriers per delivery option; an order without one has none
            return []
        return self.client.get_shipping_providers(delivery_option_id)

    def report_shipment(
        self, order_id: str, *, line_ids: Sequence[str], carrier_id: str, tracking_number: str
    ) -> SellerShipment:
        with errors.explained(errors.SHIPMENT_REPORT):
            return self.client.mark_package_as_shipped(
                order_id, tracking_number=tracking_number, carrier_id=carrier_id, line_ids=line_ids or None
            )

    def get_tracking(self, order_id: str) -> list[TrackingEvent]:
        return self.client.get_tracking(order_id)

    def list_locations(self) -> list[Warehouse]:
        """The shop's enabled sales warehouses: the addresses TikTok prints as the sender on labels."""
        return [w for w in self.client.get_warehouses() if w.type == "SALES_WAREHOUSE" and w.status != "DISABLED"]

    def list_fulfilment_centres(self) -> list[FbtWarehouse]:
        return self.client.get_fbt_warehouses()

    def read_fulfilment_stock(self, *, centre_ids: Sequence[str]) -> Iterator[FbtStock]:
        return self.client.iter_fbt_inventory(fbt_warehouse_ids=list(centre_ids))

    def subscribe_notifications(self, address: str) -> list[str]:
        for topic in NOTIFICATION_TOPICS:
            self.client.set_webhook(topic, address)
        return list(NOTIFICATION_TOPICS)

    def list_combinable(self) -> list[PackageOrders]:
        with errors.explained(errors.PACKAGE_COMBINE):
            return list(self.client.iter_combinable_packages())

    def combine_packages(self, groups: Sequence[PackageOrders]) -> CombineResult:
        with errors.explained(errors.PACKAGE_COMBINE):
            result = self.client.combine_package(groups)
        return dataclasses.replace(
            result, refused=tuple(errors.refusal_explained(r, errors.PACKAGE_COMBINE) for r in result.refused)
        )

    def uncombine_package(self, package_id: str, *, order_ids: Sequence[str]) -> list[PackageOrders]:
        with errors.explained(errors.PACKAGE_UNCOMBINE):
            return self.client.uncombine_packages(package_id, order_ids=order_ids)

    def split_attributes(self, order_ids: Sequence[str]) -> list[SplitAttributes]:
        with errors.explained(errors.ORDER_SPLIT):
            return self.client.get_order_split_attributes(order_ids)

    def split_order(self, order_id: str, groups: Sequence[SplitGroup]) -> list[SplitPackage]:
        with errors.explained(errors.ORDER_SPLIT):
            return self.client.split_orders(order_id, groups)

    # --- after-sales (Return & Refund API)
    def cancellations(
        self, *, updated_since: datetime | None = None, order_ids: Sequence[str] = ()
    ) -> Iterator[PlatformCancellation]:
        with errors.explained(errors.AFTER_SALE_READ):
            yield from self.client.iter_cancellations(order_ids=list(order_ids), update_time_ge=updated_since)

    def cancellation_decide(
        self, request_id: str, *, approve: bool, key: str, reason_code: str = "", comment: str = ""
    ) -> None:
        with errors.explained(errors.CANCELLATION_DECIDE):
            if approve:
                self.client.approve_cancellation(request_id, idempotency_key=key)
                return
            _require_reason(reason_code)
            self.client.reject_cancellation(request_id, reject_reason=reason_code, comment=comment, idempotency_key=key)

    def reject_reasons(self, request_id: str) -> list[Reason]:
        with errors.explained(errors.AFTER_SALE_READ):
            return self.client.get_reject_reasons(request_id)

    def seller_cancel_reasons(self, status: str) -> list[Reason]:
        return reasons.seller_cancel_reasons(status)

    def order_cancel(self, order_id: str, *, reason_code: str) -> tuple[str, AfterSaleStatus]:
        with errors.explained(errors.ORDER_CANCEL):
            _require_reason(reason_code)
            return self.client.cancel_order(order_id, cancel_reason=reason_code)

    def refund_estimate(self, order_id: str, *, reason_code: str) -> Money | None:
        with errors.explained(errors.REFUND_ESTIMATE):
            _require_reason(reason_code)
            return self.client.calculate_refund(order_id, request_type="CANCEL", reason_name=reason_code)

    def returns(
        self, *, updated_since: datetime | None = None, order_ids: Sequence[str] = ()
    ) -> Iterator[PlatformReturn]:
        with errors.explained(errors.AFTER_SALE_READ):
            yield from self.client.iter_returns(order_ids=list(order_ids), update_time_ge=updated_since)

    def return_decide(
        self, request_id: str, decision: ReturnDecision, *, key: str, reason_code: str = "", comment: str = ""
    ) -> None:
        with errors.explained(errors.RETURN_DECIDE):
            if decision.approves:
                self.client.approve_return(request_id, decision, idempotency_key=key)
                return
            _require_reason(reason_code)
            self.client.reject_return(
                request_id, decision, reject_reason=reason_code, comment=comment, idempotency_key=key
            )

    def return_history(self, request_id: str) -> list[ReturnEvent]:
        with errors.explained(errors.AFTER_SALE_READ):
            return self.client.get_return_records(request_id)


def _require_reason(reason_code: str) -> None:
    """TikTok refuses a rejection or a cancellation without a reason (25001014): said here, before asking it."""
    if not reason_code:
        meaning = errors.NO_REASON
        raise PlatformError(PLATFORM, "no_reason", "no reason given", kind=meaning.kind, fix=meaning.fix)


class TikTokShipping:
    """TikTok Shipping, the label provider. In the US the seller buys the label (Create Packages); elsewhere TikTok
    creates the package at payment and the seller ships it (Ship Package)."""

    platform = PLATFORM

    def __init__(self, client: TikTokShopClient, *, region: str) -> None:
        self.client = client
        self.creates_packages = not region or region == "US"

    def quote(
        self, order_id: str, *, line_ids: Sequence[str], weight: Weight | None, dimensions: Dimensions | None
    ) -> ShippingServiceOptions:
        with errors.explained(errors.LABEL_PURCHASE):
            options = self.client.get_eligible_shipping_services(
                order_id, line_ids=line_ids, weight=weight, dimensions=dimensions
            )
            if not options.services:
                raise PlatformError(PLATFORM, 21011037, "no eligible shipping service")
        return options

    def buy(
        self,
        order_id: str,
        *,
        line_ids: Sequence[str],
        service_id: str,
        weight: Weight | None,
        dimensions: Dimensions | None,
    ) -> PurchasedLabel:
        with errors.explained(errors.LABEL_PURCHASE):
            return self.client.create_package(
                order_id, line_ids=line_ids, weight=weight, dimensions=dimensions, shipping_service_id=service_id
            )

    def _packages(self, order_id: str, line_ids: Sequence[str], *, arranged: bool) -> list[str]:
        """Our lines' package ids on the platform: all of them, or only those already arranged (bought, shipped)."""
        orders = self.client.get_orders([order_id])
        if not orders:
            return []
        wanted = set(line_ids)
        return sorted(
            {
                line.package_id
                for line in orders[0].lines
                if wanted.intersection(line.line_ids)
                and line.package_id
                and (not arranged or line.package_status not in NOT_ARRANGED)
            }
        )

    def find_label(self, order_id: str, *, line_ids: Sequence[str]) -> str | None:
        packages = self._packages(order_id, line_ids, arranged=True)
        return packages[0] if packages else None

    def find_package(self, order_id: str, *, line_ids: Sequence[str]) -> str:
        packages = self._packages(order_id, line_ids, arranged=False)
        if not packages:
            meaning = errors.NO_PACKAGE_YET
            raise PlatformError(
                PLATFORM,
                "no_package",
                "TikTok has not created this order's package yet",
                kind=meaning.kind,
                fix=meaning.fix,
            )
        return packages[0]

    def get_package(self, package_id: str) -> PlatformPackage:
        return self.client.get_package(package_id)

    def handover_options(self, package_id: str) -> HandoverOptions:
        return self.client.get_handover_time_slots(package_id)

    def ship(self, request: ShipPackageRequest) -> None:
        with errors.explained(errors.PACKAGE_SHIP):
            self.client.ship_package(request)

    def get_document(self, package_id: str) -> LabelDocument:
        with errors.explained(errors.LABEL_DOCUMENT):
            document = self.client.get_shipping_document(package_id, document_type="SHIPPING_LABEL")
            pdf = self.client.download_document(document.url)
        return LabelDocument(pdf=pdf, tracking_number=document.tracking_number)
