"""Shopify behind Dropline's channel contract (integrations.base): the adapter and a store's sales channel.

`ShopifyClient` owns the HTTP (tokens, the cost bucket, retries) and speaks GraphQL; the classes here say what its
operations are to Dropline and give every refusal its meaning (integrations.shopify.errors). Dropline's ids are
Shopify's numeric ids; global ids ("gid://shopify/Order/1") never leave this package. Shopify sells no labels.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

from integrations.base import (
    Authorization,
    Capability,
    FulfilmentProgram,
    InboundNotification,
    LabelProvider,
    NotificationRejected,
    TokensRefresher,
    TokensSaver,
)
from integrations.errors import NotSupported, PlatformAuthError, PlatformError
from integrations.interface import (
    AfterSaleStatus,
    AuthorizedShop,
    CombineResult,
    FbtStock,
    FbtWarehouse,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    ListedOrders,
    Money,
    PackageOrders,
    Page,
    PlatformCancellation,
    PlatformOrder,
    PlatformReturn,
    Product,
    Reason,
    ReturnDecision,
    ReturnEvent,
    SellerShipment,
    ShippingProvider,
    SplitAttributes,
    SplitGroup,
    SplitPackage,
    TokenSet,
    TrackingEvent,
    Warehouse,
    WebhookEvent,
)
from integrations.models import ShopifyStoreSettings, Store
from integrations.shopify import carriers, errors, translate, webhooks
from integrations.shopify.client import INVENTORY_SET_MAX, PLATFORM, ShopifyClient, batched, shared_http_client
from integrations.shopify.config import ShopifyConfig
from integrations.shopify.oauth import ShopifyAuth, normalise_shop, verify_callback

CAPABILITIES = frozenset(
    {
        Capability.ORDERS,
        Capability.STOCK_PUSH,
        Capability.SHIPMENT_REPORT,
        Capability.NOTIFICATIONS,
        Capability.LOCATIONS,
        Capability.CATALOG,
    }
)
# A page a person is waiting for asks Shopify once, briefly (a worker's patience is for workers).
WHILE_A_PERSON_WAITS = {
    "max_attempts": 1,
    "connect_timeout": 2.0,
    "read_timeout": 5.0,
    "throttle_max_wait_seconds": 2.0,
}
# Subscribed by API (§7.4). orders/updated also fires for edits, fulfilments and cancellations, so orders/edited,
# orders/fulfilled and orders/partially_fulfilled would only repeat it; they are read all the same when the app's
# configuration sends them. The privacy topics (customers/data_request, customers/redact, shop/redact) cannot be
# subscribed by API: the app's configuration points them at Dropline's webhook address (§7.5).
NOTIFICATION_TOPICS = {
    "orders/create": "ORDERS_CREATE",
    "orders/updated": "ORDERS_UPDATED",
    "orders/cancelled": "ORDERS_CANCELLED",
    "app/uninstalled": "APP_UNINSTALLED",
}
STALE_ROUNDS = 3  # inventorySetQuantities sent again after CHANGE_FROM_QUANTITY_STALE, re-reading each time


class ShopifyAdapter:
    """Shopify, the platform. The configuration is read from settings on each use (tests point it at the sandbox by
    overriding settings)."""

    platform = PLATFORM
    name = "Shopify"
    capabilities = CAPABILITIES
    fulfilment_program: FulfilmentProgram | None = None  # Shopify holds no stock of its own here
    connect_asks_for_shop = True  # every shop is its own host: the seller names it first

    @staticmethod
    def config() -> ShopifyConfig:
        return ShopifyConfig.from_settings()

    def _auth(self) -> ShopifyAuth:
        config = self.config()
        return ShopifyAuth(config, shared_http_client(config))

    # --- connecting
    def consent_origins(self) -> list[str]:
        return [self.config().consent_origin()]

    def authorization_url(self, state: str, *, shop: str = "") -> str:
        return self._auth().authorization_url(normalise_shop(shop), state)

    def authorize(self, code: str, *, callback: Mapping[str, str], shop: str = "") -> Authorization:
        """Verify the signed callback (§2.3) for the shop the connection was started for, exchange the code for an
        expiring offline token (§2.4), and read the shop with it."""
        config = self.config()
        domain = normalise_shop(shop)
        verify_callback(config, callback, shop=domain, code=code, now=time.time())
        tokens = self._auth().exchange_code(domain, code)
        info = ShopifyClient(config=config, shop=domain, tokens=tokens).shop_info()
        tokens = dataclasses.replace(tokens, seller_name=info.name, seller_base_region=info.country)
        shop_record = AuthorizedShop(
            shop_id=info.domain or domain,
            name=info.name,
            region=info.country,
            seller_type="LOCAL",
            code=(info.domain or domain).split(".", 1)[0][:32],
            settings={"scopes": ",".join(tokens.granted_scopes)},
        )
        return Authorization(tokens=tokens, shops=(shop_record,))

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """The refresh grant for `tokens.open_id`'s shop. The refresh token rotates: the caller saves the result at
        once."""
        return self._auth().refresh(tokens)

    def store_connected(self, store: Store, shop: AuthorizedShop) -> None:
        """Keep the scopes the merchant granted; `notify_customer` stays as the seller set it."""
        settings, _ = ShopifyStoreSettings.objects.update_or_create(
            store=store, defaults={"granted_scopes": shop.settings.get("scopes", "")}
        )
        store.shopify_settings = settings

    # --- notifications
    def receive_notification(self, headers: Mapping[str, str], body: bytes) -> InboundNotification:
        """Verified over the raw bytes with the client secret (§7.2); the headers reading needs are handed back to be
        kept with the body (`InboundNotification.headers`), since the body alone names neither topic nor event."""
        lowered = {key.lower(): value for key, value in headers.items()}
        if not webhooks.verify_signature(
            secret=self.config().client_secret, raw_body=body, signature=lowered.get(webhooks.HMAC_HEADER)
        ):
            raise NotificationRejected("webhook signature does not match")
        kept = webhooks.kept_headers(lowered)
        shop = kept.get(webhooks.SHOP_HEADER, "").strip().lower()
        try:
            event = webhooks.parse_event(body, kept)
        except PlatformError as error:
            return InboundNotification(event=None, shop_id=shop, seller_id=shop, unreadable=error.message, headers=kept)
        return InboundNotification(event=event, shop_id=event.shop_id, seller_id=event.seller_open_id, headers=kept)

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        return webhooks.parse_event(body, headers)

    # --- a connected store
    def client(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
        while_a_person_waits: bool = False,
    ) -> ShopifyClient:
        if tokens is None:
            raise PlatformAuthError(PLATFORM, "not_connected", f"{store} has no authorization", fix=errors.RECONNECT)
        config = self.config()
        if while_a_person_waits:
            config = dataclasses.replace(config, **WHILE_A_PERSON_WAITS)  # type: ignore[arg-type]
        return ShopifyClient(
            config=config,
            shop=store.external_id,
            tokens=tokens,
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
    ) -> ShopifySalesChannel:
        client = self.client(
            store,
            tokens=tokens,
            save_tokens=save_tokens,
            refresh_tokens=refresh_tokens,
            while_a_person_waits=while_a_person_waits,
        )
        settings = ShopifyStoreSettings.of(store)
        return ShopifySalesChannel(client, notify_customer=settings.notify_customer if settings else True)

    def label_provider(
        self,
        store: Store,
        *,
        tokens: TokenSet | None,
        save_tokens: TokensSaver,
        refresh_tokens: TokensRefresher | None = None,
    ) -> LabelProvider:
        raise NotSupported(PLATFORM, "labels")


class ShopifySalesChannel:
    """One Shopify store as a sales channel."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, client: ShopifyClient, *, notify_customer: bool = True) -> None:
        self.client = client
        self.notify_customer = notify_customer

    # --- orders
    def list_changed_orders(
        self, *, since: datetime, until: datetime | None = None, cursor: str | None = None
    ) -> ListedOrders:
        with errors.explained(errors.ORDERS):
            page = self.client.orders_page(since=since, until=until, cursor=cursor)
        return ListedOrders.translated(page.items, page.next_cursor, page.total_count)

    def count_changed_orders(self, *, since: datetime, until: datetime) -> int | None:
        return None  # the orders connection carries no count; a first import is not cut into windows here

    def get_orders(self, order_ids: Sequence[str]) -> list[PlatformOrder]:
        """One `order(id:)` query per id (a few ids at a time: webhooks and the adopt step), in the given order."""
        found: list[PlatformOrder] = []
        with errors.explained(errors.ORDERS):
            for order_id in dict.fromkeys(order_ids):
                order = self.client.order(order_id) if translate.is_numeric_id(order_id) else None
                if order is not None:
                    found.append(order)
        return found

    # --- catalogue
    def list_products(self, *, cursor: str | None = None) -> Page[Product]:
        with errors.explained(errors.READS):
            return self.client.product_variants_page(cursor)

    # --- stock
    def read_stock(self, sku_ids: Sequence[str]) -> list[InventoryLevel]:
        with errors.explained(errors.STOCK_PUSH):
            stocks = self.client.variant_stock(sku_ids)
        return [translate.inventory_level(stocks[s]) for s in dict.fromkeys(sku_ids) if s in stocks]

    def push_stock(self, product_id: str, updates: Sequence[InventoryUpdate]) -> list[ItemResult]:
        """Set `available` per location with compare-and-swap (§5.1): read what Shopify has, send it as each
        quantity's changeFromQuantity, and on CHANGE_FROM_QUANTITY_STALE read again and resend (a few rounds).
        `product_id` is not needed: a variant id names its stock record."""
        refused: dict[str, ItemResult] = {}
        pending: list[translate.StockRow] = []
        with errors.explained(errors.STOCK_PUSH):
            stocks = self.client.variant_stock([u.sku_id for u in updates])
            for update in updates:
                rows, code = translate.stock_rows(stocks.get(update.sku_id), update)
                if code:
                    refused[update.sku_id] = _refusal(update.sku_id, code, "")
                pending += rows
            for round_number in range(STALE_ROUNDS):
                pending = self._set_available(pending, refused, reread=round_number > 0)
                if not pending:
                    break
        for row in pending:  # still stale after every round: another writer keeps changing it
            refused.setdefault(
                row.sku_id, _refusal(row.sku_id, "CHANGE_FROM_QUANTITY_STALE", "the stock kept changing on Shopify")
            )
        return [refused.get(u.sku_id) or ItemResult(item_id=u.sku_id, ok=True) for u in updates]

    def _set_available(
        self, rows: list[translate.StockRow], refused: dict[str, ItemResult], *, reread: bool
    ) -> list[translate.StockRow]:
        """One round: send the rows, 250 at a time; returns the rows to send again (stale, or sent with a refused
        one: a refused mutation applies nothing)."""
        rows = [row for row in rows if row.sku_id not in refused]
        if reread and rows:
            stocks = self.client.variant_stock(sorted({row.sku_id for row in rows}))
            rows = [fresh for row in rows if (fresh := translate.restated(row, stocks.get(row.sku_id))) is not None]
        again: list[translate.StockRow] = []
        for batch in batched(rows, INVENTORY_SET_MAX):
            problems = self.client.inventory_set([row.as_input() for row in batch])
            for problem in problems:
                code, message = str(problem.get("code") or ""), str(problem.get("message") or "")
                index = _quantity_index(problem.get("field"), len(batch))
                if index is None:  # a refusal of the call itself (its reason, its key): nothing to retry here
                    raise PlatformError(PLATFORM, code or "user_error", message, request_id=self.client.last_request_id)
                if code != "CHANGE_FROM_QUANTITY_STALE":
                    refused.setdefault(batch[index].sku_id, _refusal(batch[index].sku_id, code, message))
            if problems:
                again += [row for row in batch if row.sku_id not in refused]
        return again

    # --- shipments on the seller's own label
    def list_shipment_carriers(self, *, delivery_option_id: str) -> list[ShippingProvider]:
        """Shopify's tracking companies (any order, any delivery option)."""
        return carriers.tracking_companies()

    def report_shipment(
        self, order_id: str, *, line_ids: Sequence[str], carrier_id: str, tracking_number: str
    ) -> SellerShipment:
        """UNSAFE: mark these line items (every one still to fulfil when empty) fulfilled with this carrier and
        tracking: one fulfillmentCreate per location their fulfillment orders are assigned to (§4.1).

        Looks first: a live fulfillment already carrying this tracking number with nothing of the lines left to fulfil
        raises ALREADY_DONE (an earlier call whose answer was lost; the core adopts it through get_orders); when some
        is left (that call reached one location of several), the rest is fulfilled under the same tracking."""
        with errors.explained(errors.SHIPMENT_REPORT):
            order = self.client.fulfillment_orders(order_id) if translate.is_numeric_id(order_id) else None
            if order is None:
                _refuse("not_found", f"order {order_id} not found")
            groups, why_not = translate.fulfillment_plan(order, line_ids)
            if why_not:
                used = why_not == "nothing_to_fulfil" and translate.tracking_used(order, tracking_number)
                code = "already_shipped" if used else why_not
                _refuse(code, f"order {order_id}: {code.replace('_', ' ')}")
            created = [
                self.client.fulfillment_create(
                    {
                        "lineItemsByFulfillmentOrder": list(group.by_fulfillment_order),
                        "notifyCustomer": self.notify_customer,
                        # A company from Shopify's list: Shopify builds the tracking link itself (§4.1).
                        "trackingInfo": {"company": carrier_id, "number": tracking_number},
                    }
                )
                for group in groups
            ]
        warning = (
            f"Shopify holds this parcel as {len(created)} fulfillments, one per location: {', '.join(created)}."
            if len(created) > 1
            else ""
        )
        return SellerShipment(
            order_id=order_id,
            package_id=created[0],
            line_ids=tuple(line_id for group in groups for line_id in group.line_ids),
            warning=warning,
        )

    # --- locations
    def list_locations(self) -> list[Warehouse]:
        """The shop's active locations, with their addresses."""
        with errors.explained(errors.READS):
            return [w for w in self.client.locations() if w.status == "ENABLED"]

    # --- notifications
    def subscribe_notifications(self, address: str) -> list[str]:
        """Subscribe `address` to the order topics and app/uninstalled, skipping those already subscribed there."""
        with errors.explained(errors.NOTIFICATIONS):
            existing = set(self.client.webhook_subscriptions())
            for topic in NOTIFICATION_TOPICS.values():
                if (topic, address) not in existing:
                    self.client.webhook_subscribe(topic, address)
        return list(NOTIFICATION_TOPICS)

    # --- outside Shopify's capabilities
    def get_tracking(self, order_id: str) -> list[TrackingEvent]:
        raise NotSupported(PLATFORM, "tracking events")

    def list_fulfilment_centres(self) -> list[FbtWarehouse]:
        raise NotSupported(PLATFORM, "platform fulfilment")

    def read_fulfilment_stock(self, *, centre_ids: Sequence[str]) -> Iterator[FbtStock]:
        raise NotSupported(PLATFORM, "platform fulfilment")

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
        raise NotSupported(PLATFORM, "cancelling orders")

    def order_cancel(self, order_id: str, *, reason_code: str) -> tuple[str, AfterSaleStatus]:
        raise NotSupported(PLATFORM, "cancelling orders")

    def refund_estimate(self, order_id: str, *, reason_code: str) -> Money | None:
        raise NotSupported(PLATFORM, "cancelling orders")

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


def _refuse(code: str, message: str) -> NoReturn:
    """A refusal Dropline makes after looking (errors.SHIPMENT_REPORT gives it its kind and fix)."""
    raise PlatformError(PLATFORM, code, message)


def _refusal(sku_id: str, code: str, message: str) -> ItemResult:
    return ItemResult(
        item_id=sku_id,
        ok=False,
        message=f"{code}: {message}" if message else code,
        fix=errors.refusal_fix(errors.STOCK_PUSH, code, message),
    )


_INDEX = re.compile(r"^\d+$")


def _quantity_index(field: Any, size: int) -> int | None:
    """Which quantity a userError names: its field path ["input", "quantities", "3", ...]."""
    if not isinstance(field, list) or len(field) < 3 or field[:2] != ["input", "quantities"]:
        return None
    index = str(field[2])
    return int(index) if _INDEX.match(index) and int(index) < size else None
