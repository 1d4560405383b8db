"""TikTok Shop open-API client: owns all HTTP (signing, tokens, retries, rate limit) and returns dataclasses.

One `httpx.Client` per process and config (connection pooling, explicit timeouts): `shared_http_client(config)`.
A `TikTokShopClient` is cheap: build one per store and call, e.g.

    client = TikTokShopClient(config=cfg, tokens=store.tokens(), shop_cipher=store.shop_cipher,
                              on_tokens_refreshed=store.save_tokens)
    page = client.search_orders(update_time_ge=since, page_size=100)

Retry policy per endpoint (endpoints.py): SAFE calls retry 429 / 5xx / 36009002 / 36009003 / transport errors with
exponential backoff and jitter; UNSAFE calls (buy, ship, tracking upload) retry only when the request provably was
not processed (HTTP 429 or 36009002, a connection that never opened) and otherwise raise PlatformOutcomeUnknown.
An expired access token (105002) is refreshed once and the call replayed once.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from erp.metrics import limiter_wait_observe, platform_call_timer
from integrations.base import TokensRefresher
from integrations.errors import PlatformAuthError, PlatformError, PlatformOutcomeUnknown
from integrations.interface import (
    ActiveShop,
    AfterSaleStatus,
    AuthorizedShop,
    CombineResult,
    DeliveryOption,
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
    ShippingDocument,
    ShippingProvider,
    ShippingServiceOptions,
    SplitAttributes,
    SplitGroup,
    SplitPackage,
    TimeSlot,
    TokenSet,
    TrackingEvent,
    Warehouse,
    WebhookSubscription,
    Weight,
)
from integrations.ratelimit import RateLimiter, Slot, limiter_for
from integrations.responses import response_json
from integrations.tiktok import endpoints as ep
from integrations.tiktok import translate
from integrations.tiktok.config import TikTokConfig
from integrations.tiktok.endpoints import Endpoint, RetryPolicy
from integrations.tiktok.oauth import TikTokAuth
from integrations.tiktok.signing import sign

log = logging.getLogger(__name__)

PLATFORM = "tiktok"
ORDER_DETAIL_MAX_IDS = 50  # Get Order Detail: ids max 50 per call (spec)
COMBINABLE_PAGE_MAX = 50  # Search Combinable Packages: page_size 1-50 (spec)
FBT_PAGE_SIZE = 100  # Search FBT Inventory: page_size 1-100 (spec)
FBT_MAX_IDS = 100  # Search FBT Inventory: sku_ids / goods_ids at most 100 (spec)
CANCELLATIONS_PAGE_RANGE = (1, 50)  # Search Cancellations: page_size 1-50 (spec)
RETURNS_PAGE_RANGE = (10, 50)  # Search Returns: page_size 10-50 (spec)
AFTERSALE_MAX_IDS = 50  # order ids per Search Cancellations / Returns call: the spec sets no limit (guess, as ids)

CODE_OK = 0
CODE_ACCESS_TOKEN_EXPIRED = 105002
CODE_RATE_LIMITED = 36009002
# TikTok counts "queries per second" per API per app + shop over any rolling second of arrivals (docs/adr/0028).
RATE_LIMIT_WINDOW_MS = 1000
CODE_INTERNAL_ERROR = 36009003
CODE_GATEWAY_TIMEOUT = 36009007
# Business codes whose documented meaning is "try again later": flagged retryable for the caller's task policy,
# but not retried inside the client (they can last minutes).
_RETRY_LATER_CODES = frozenset({10002014, 10002015, 10037002, 10037003, 10037004, 11034037, 11034023, 21023022})

TokensCallback = Callable[[TokenSet], None]
T = TypeVar("T")


@dataclass(frozen=True)
class _Envelope:
    data: Mapping[str, Any]
    request_id: str | None


_shared_lock = threading.Lock()
_shared_http: dict[tuple[Any, ...], httpx.Client] = {}
_shared_limiters: dict[str, RateLimiter] = {}


def shared_http_client(config: TikTokConfig) -> httpx.Client:
    """The process-wide pooled client for this config (create once, reuse across stores and tasks)."""
    key = (config.connect_timeout, config.read_timeout, config.write_timeout, config.pool_timeout)
    with _shared_lock:
        client = _shared_http.get(key)
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(
                    connect=config.connect_timeout,
                    read=config.read_timeout,
                    write=config.write_timeout,
                    pool=config.pool_timeout,
                ),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                follow_redirects=False,  # a redirect from an API host is a misconfiguration, not something to follow
            )
            _shared_http[key] = client
        return client


def shared_limiter(config: TikTokConfig) -> RateLimiter:
    with _shared_lock:
        limiter = _shared_limiters.get(config.redis_url)
        if limiter is None:
            limiter = limiter_for(config.redis_url)
            _shared_limiters[config.redis_url] = limiter
        return limiter


def _dumps(body: Mapping[str, Any]) -> bytes:
    # Serialised exactly once: these bytes are both signed and sent (README §1.3 "Body bytes").
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class TikTokShopClient:
    def __init__(
        self,
        *,
        config: TikTokConfig,
        tokens: TokenSet,
        shop_cipher: str | None = None,
        on_tokens_refreshed: TokensCallback | None = None,
        refresh_tokens: TokensRefresher | None = None,
        http: httpx.Client | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.shop_cipher = shop_cipher
        self._tokens = tokens
        self._on_tokens_refreshed = on_tokens_refreshed
        self._refresh_tokens = refresh_tokens
        self._http = http or shared_http_client(config)
        self._limiter = limiter or shared_limiter(config)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._refresh_lock = threading.Lock()
        self._auth = TikTokAuth(config, self._http, sleep=sleep)

    @property
    def tokens(self) -> TokenSet:
        return self._tokens

    def for_shop(self, shop_cipher: str) -> TikTokShopClient:
        """The same seller and connection pool, another of its shops (one token can cover several shops)."""
        return TikTokShopClient(
            config=self.config,
            tokens=self._tokens,
            shop_cipher=shop_cipher,
            on_tokens_refreshed=self._on_tokens_refreshed,
            refresh_tokens=self._refresh_tokens,
            http=self._http,
            limiter=self._limiter,
            sleep=self._sleep,
            clock=self._clock,
            rng=self._rng,
        )

    # --- authorization / seller -------------------------------------------------------------------------------------

    def get_authorized_shops(self) -> list[AuthorizedShop]:
        return translate.authorized_shops_from_json(self._call(ep.GET_AUTHORIZED_SHOPS).data)

    def get_active_shops(self) -> list[ActiveShop]:
        return translate.active_shops_from_json(self._call(ep.GET_ACTIVE_SHOPS).data)

    # --- orders -----------------------------------------------------------------------------------------------------

    def search_orders(
        self,
        *,
        update_time_ge: datetime | None = None,
        update_time_lt: datetime | None = None,
        create_time_ge: datetime | None = None,
        create_time_lt: datetime | None = None,
        order_status: str | None = None,
        shipping_type: str | None = None,
        warehouse_ids: Sequence[str] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
        sort_field: str | None = "update_time",
        sort_order: str | None = "ASC",
    ) -> ListedOrders:
        """One page of Search Orders, each order translated when asked for (`ListedOrders`). Paging/sorting in the
        query, filters in the JSON body (spec)."""
        envelope = self._call(
            ep.SEARCH_ORDERS,
            query={
                "page_size": page_size,
                "page_token": page_token,
                "sort_field": sort_field,
                "sort_order": sort_order,
            },
            body=translate.order_search_body(
                update_time_ge=update_time_ge,
                update_time_lt=update_time_lt,
                create_time_ge=create_time_ge,
                create_time_lt=create_time_lt,
                order_status=order_status,
                shipping_type=shipping_type,
                warehouse_ids=warehouse_ids,
            ),
        )
        return translate.listed_orders_from_json(envelope.data)

    def iter_orders(self, **filters: Any) -> Iterator[PlatformOrder]:
        """Every order matching `filters` (search_orders' keywords), following next_page_token to the end."""
        token: str | None = filters.pop("page_token", None)
        while True:
            page = self.search_orders(page_token=token, **filters)
            yield from page.orders()
            if not page.next_cursor:
                return
            token = page.next_cursor

    def get_orders(self, order_ids: Sequence[str]) -> list[PlatformOrder]:
        """Get Order Detail for any number of ids, in batches of 50 (the API's maximum), in the given order."""
        unique_ids = list(dict.fromkeys(order_ids))
        found: dict[str, PlatformOrder] = {}
        for start in range(0, len(unique_ids), ORDER_DETAIL_MAX_IDS):
            batch = unique_ids[start : start + ORDER_DETAIL_MAX_IDS]
            envelope = self._call(ep.GET_ORDER_DETAIL, query={"ids": ",".join(batch)})
            for order in translate.orders_from_json(envelope.data):
                found[order.order_id] = order
        return [found[order_id] for order_id in unique_ids if order_id in found]

    # --- fulfillment: TikTok Shipping labels ------------------------------------------------------------------------

    def get_eligible_shipping_services(
        self,
        order_id: str,
        *,
        line_ids: Sequence[str] | None = None,
        weight: Weight | None = None,
        dimensions: Dimensions | None = None,
    ) -> ShippingServiceOptions:
        envelope = self._call(
            ep.GET_ELIGIBLE_SHIPPING_SERVICE,
            path_params={"order_id": order_id},
            body=translate.package_request_body(line_ids=line_ids, weight=weight, dimensions=dimensions),
        )
        return translate.shipping_services_from_json(envelope.data)

    def create_package(
        self,
        order_id: str,
        *,
        line_ids: Sequence[str] | None = None,
        weight: Weight | None = None,
        dimensions: Dimensions | None = None,
        shipping_service_id: str | None = None,
    ) -> PurchasedLabel:
        """Create Packages: BUYS the label (US). UNSAFE: may raise PlatformOutcomeUnknown — look up before rebuying."""
        envelope = self._call(
            ep.CREATE_PACKAGES,
            body=translate.package_request_body(
                order_id=order_id,
                line_ids=line_ids,
                weight=weight,
                dimensions=dimensions,
                shipping_service_id=shipping_service_id,
            ),
        )
        return translate.purchased_label_from_json(envelope.data)

    def ship_package(self, request: ShipPackageRequest) -> None:
        """Ship Package (non-US TikTok Shipping, or SEA/LATAM seller shipping with self_shipment). UNSAFE."""
        self._call(
            ep.SHIP_PACKAGE,
            path_params={"package_id": request.package_id},
            body=translate.ship_package_body(request),
        )

    def batch_ship_packages(self, requests: Sequence[ShipPackageRequest]) -> list[ItemResult]:
        """Batch Ship Packages: per-package results (failures do not raise). UNSAFE as a whole."""
        envelope = self._call(
            ep.BATCH_SHIP_PACKAGES,
            body={"packages": [translate.ship_package_body(r, with_id=True) for r in requests]},
        )
        return translate.item_results_from_errors(envelope.data, [r.package_id for r in requests], "package_id")

    def get_handover_time_slots(self, package_id: str) -> HandoverOptions:
        envelope = self._call(ep.GET_HANDOVER_TIME_SLOTS, path_params={"package_id": package_id})
        return translate.handover_options_from_json(envelope.data)

    def get_shipping_document(
        self,
        package_id: str,
        *,
        document_type: str = "SHIPPING_LABEL",
        document_size: str | None = None,
        document_format: str | None = None,
    ) -> ShippingDocument:
        """The label / packing slip URL (valid 24 h); fetch it with download_document and store the file."""
        envelope = self._call(
            ep.GET_SHIPPING_DOCUMENT,
            path_params={"package_id": package_id},
            query={"document_type": document_type, "document_size": document_size, "document_format": document_format},
        )
        return translate.shipping_document_from_json(
            envelope.data,
            package_id=package_id,
            document_type=document_type,
            fetched_at=datetime.fromtimestamp(self._clock(), tz=UTC),
        )

    def download_document(self, doc_url: str) -> bytes:
        """A plain GET of doc_url: no signing, and no access token (it is a CDN, not the API)."""
        last: PlatformError | None = None
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                # Object storage may redirect; the API client itself never follows redirects.
                with platform_call_timer(platform=PLATFORM, api="Download Document") as call:
                    response = self._http.get(doc_url, follow_redirects=True)
                    call.outcome = "ok" if response.status_code == 200 else f"http_{response.status_code}"
            except httpx.TransportError as exc:
                last = PlatformError(PLATFORM, "transport", f"document download: {type(exc).__name__}", retryable=True)
            else:
                if response.status_code == 200:
                    if len(response.content) > self.config.document_download_max_bytes:
                        raise PlatformError(PLATFORM, "document_too_large", "document exceeds the size limit")
                    return response.content
                retryable = response.status_code == 429 or response.status_code >= 500
                last = PlatformError(
                    PLATFORM,
                    f"http_{response.status_code}",
                    # 403/404: expired (24 h) or unknown URL — ask for a new document URL, never re-buy.
                    "document download failed" + ("" if retryable else "; request a fresh document URL"),
                    http_status=response.status_code,
                    retryable=retryable,
                )
            if not last.retryable or attempt == self.config.max_attempts:
                raise last
            self._sleep(self._backoff(attempt, None))
        raise last or AssertionError("unreachable")

    def get_package(self, package_id: str) -> PlatformPackage:
        envelope = self._call(ep.GET_PACKAGE_DETAIL, path_params={"package_id": package_id})
        return translate.package_from_json(envelope.data)

    def search_packages(
        self,
        *,
        create_time_ge: datetime | None = None,
        create_time_lt: datetime | None = None,
        update_time_ge: datetime | None = None,
        update_time_lt: datetime | None = None,
        package_status: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        sort_field: str | None = "update_time",
        sort_order: str | None = "ASC",
    ) -> Page[PlatformPackage]:
        envelope = self._call(
            ep.SEARCH_PACKAGE,
            query={
                "page_size": page_size,
                "page_token": page_token,
                "sort_field": sort_field,
                "sort_order": sort_order,
            },
            body=translate.package_search_body(
                create_time_ge=create_time_ge,
                create_time_lt=create_time_lt,
                update_time_ge=update_time_ge,
                update_time_lt=update_time_lt,
                package_status=package_status,
            ),
        )
        return Page(
            items=tuple(translate.package_from_json(p) for p in envelope.data.get("packages") or ()),
            next_cursor=envelope.data.get("next_page_token") or None,
            total_count=envelope.data.get("total_count"),
        )

    def get_tracking(self, order_id: str) -> list[TrackingEvent]:
        envelope = self._call(ep.GET_TRACKING, path_params={"order_id": order_id})
        return translate.tracking_from_json(envelope.data)

    # --- fulfillment: combined and split packages -------------------------------------------------------------------

    def search_combinable_packages(
        self, *, page_size: int = COMBINABLE_PAGE_MAX, page_token: str | None = None
    ) -> Page[PackageOrders]:
        envelope = self._call(ep.SEARCH_COMBINABLE_PACKAGES, query={"page_size": page_size, "page_token": page_token})
        return Page(
            items=tuple(translate.combinable_packages_from_json(envelope.data)),
            next_cursor=envelope.data.get("next_page_token") or None,
            total_count=envelope.data.get("total_count"),
        )

    def iter_combinable_packages(self) -> Iterator[PackageOrders]:
        token: str | None = None
        while True:
            page = self.search_combinable_packages(page_token=token)
            yield from page.items
            if not page.next_cursor:
                return
            token = page.next_cursor

    def combine_package(self, groups: Sequence[PackageOrders]) -> CombineResult:
        """Combine Package. UNSAFE: may raise PlatformOutcomeUnknown — read the orders' packages before repeating."""
        envelope = self._call(ep.COMBINE_PACKAGE, body=translate.combine_body(groups))
        return translate.combine_result_from_json(envelope.data)

    def uncombine_packages(self, package_id: str, *, order_ids: Sequence[str]) -> list[PackageOrders]:
        """Uncombine Packages. UNSAFE."""
        envelope = self._call(
            ep.UNCOMBINE_PACKAGES, path_params={"package_id": package_id}, body={"order_ids": list(order_ids)}
        )
        return translate.uncombine_result_from_json(envelope.data)

    def get_order_split_attributes(self, order_ids: Sequence[str]) -> list[SplitAttributes]:
        # []string in the query: sent comma-separated, as Get Order Detail's ids (docs/platforms/tiktok.md, guesses).
        envelope = self._call(ep.GET_ORDER_SPLIT_ATTRIBUTES, query={"order_ids": ",".join(order_ids)})
        return translate.split_attributes_from_json(envelope.data)

    def split_orders(self, order_id: str, groups: Sequence[SplitGroup]) -> list[SplitPackage]:
        """Split Orders. UNSAFE: may raise PlatformOutcomeUnknown — read the order's packages before repeating."""
        envelope = self._call(ep.SPLIT_ORDERS, path_params={"order_id": order_id}, body=translate.split_body(groups))
        return translate.split_result_from_json(envelope.data)

    # --- after-sales: cancellations (Return & Refund API) -----------------------------------------------------------

    def search_cancellations(
        self,
        *,
        order_ids: Sequence[str] | None = None,
        cancel_ids: Sequence[str] | None = None,
        update_time_ge: datetime | None = None,
        update_time_lt: datetime | None = None,
        page_size: int = CANCELLATIONS_PAGE_RANGE[1],
        page_token: str | None = None,
        sort_field: str | None = "update_time",
        sort_order: str | None = "ASC",
    ) -> Page[PlatformCancellation]:
        """One page of Search Cancellations. Paging/sorting in the query, filters in the JSON body (spec)."""
        return self._search_aftersale(
            ep.SEARCH_CANCELLATIONS,
            CANCELLATIONS_PAGE_RANGE,
            translate.cancellations_from_json,
            body=translate.aftersale_search_body(
                order_ids=order_ids, cancel_ids=cancel_ids, update_time_ge=update_time_ge, update_time_lt=update_time_lt
            ),
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
        )

    def iter_cancellations(self, **filters: Any) -> Iterator[PlatformCancellation]:
        """Every cancellation matching `filters` (search_cancellations' keywords), to the last page; order_ids are
        asked AFTERSALE_MAX_IDS at a time."""
        yield from self._iter_by_orders(self.search_cancellations, filters)

    def approve_cancellation(self, cancel_id: str, *, idempotency_key: str) -> None:
        """Approve Cancellation. Keyed: the same key again answers the first answer and approves nothing twice."""
        self._call(
            ep.APPROVE_CANCELLATION,
            path_params={"cancel_id": cancel_id},
            query={"idempotency_key": _key(idempotency_key)},
            body={},
        )

    def reject_cancellation(
        self, cancel_id: str, *, reject_reason: str, idempotency_key: str, comment: str = ""
    ) -> None:
        """Reject Cancellation with a reason name from Get Reject Reasons. Keyed like approve_cancellation."""
        self._call(
            ep.REJECT_CANCELLATION,
            path_params={"cancel_id": cancel_id},
            query={"idempotency_key": _key(idempotency_key)},
            body=translate.reject_body(reject_reason, comment),
        )

    def cancel_order(
        self, order_id: str, *, cancel_reason: str, line_ids: Sequence[str] | None = None
    ) -> tuple[str, AfterSaleStatus]:
        """Cancel Order: the seller cancels the order (or, US/UK out of stock, some lines). UNSAFE, no key: may raise
        PlatformOutcomeUnknown — read the order's cancellations before cancelling again. Returns (cancel_id, status)."""
        body: dict[str, Any] = {"order_id": order_id, "cancel_reason": cancel_reason}
        if line_ids:
            body["order_line_item_ids"] = list(line_ids)
        envelope = self._call(ep.CANCEL_ORDER, body=body)
        return translate.cancel_order_result_from_json(envelope.data)

    def get_reject_reasons(self, return_or_cancel_id: str, *, locale: str | None = None) -> list[Reason]:
        """The reasons TikTok takes to reject this cancellation or return request now."""
        envelope = self._call(
            ep.GET_REJECT_REASONS, query={"return_or_cancel_id": return_or_cancel_id, "locale": locale}
        )
        return translate.reasons_from_json(envelope.data)

    def calculate_refund(
        self, order_id: str, *, request_type: str, reason_name: str, line_ids: Sequence[str] | None = None
    ) -> Money | None:
        """Calculate Refund (request_type CANCEL, REFUND or RETURN_AND_REFUND): what the buyer would get back."""
        body: dict[str, Any] = {"order_id": order_id, "request_type": request_type, "reason_name": reason_name}
        if line_ids:
            body["order_line_item_ids"] = list(line_ids)
        envelope = self._call(ep.CALCULATE_REFUND, body=body)
        return translate.refund_calculation_from_json(envelope.data)

    # --- after-sales: returns, refunds, replacements ----------------------------------------------------------------

    def search_returns(
        self,
        *,
        order_ids: Sequence[str] | None = None,
        return_ids: Sequence[str] | None = None,
        update_time_ge: datetime | None = None,
        update_time_lt: datetime | None = None,
        page_size: int = RETURNS_PAGE_RANGE[1],
        page_token: str | None = None,
        sort_field: str | None = "update_time",
        sort_order: str | None = "ASC",
    ) -> Page[PlatformReturn]:
        """One page of Search Returns (page_size 10-50). Paging/sorting in the query, filters in the body (spec)."""
        return self._search_aftersale(
            ep.SEARCH_RETURNS,
            RETURNS_PAGE_RANGE,
            translate.returns_from_json,
            body=translate.aftersale_search_body(
                order_ids=order_ids, return_ids=return_ids, update_time_ge=update_time_ge, update_time_lt=update_time_lt
            ),
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
        )

    def iter_returns(self, **filters: Any) -> Iterator[PlatformReturn]:
        """Every return matching `filters` (search_returns' keywords), to the last page."""
        yield from self._iter_by_orders(self.search_returns, filters)

    def get_return_records(self, return_id: str, *, locale: str | None = None) -> list[ReturnEvent]:
        envelope = self._call(ep.GET_RETURN_RECORDS, path_params={"return_id": return_id}, query={"locale": locale})
        return translate.return_records_from_json(envelope.data)

    def approve_return(self, return_id: str, decision: ReturnDecision, *, idempotency_key: str) -> None:
        """Approve Return at the step it is at (APPROVE_REFUND, _RETURN, _RECEIVED, _REPLACEMENT). Keyed."""
        if not decision.approves:
            raise ValueError(f"{decision} is a rejection: use reject_return")
        self._call(
            ep.APPROVE_RETURN,
            path_params={"return_id": return_id},
            query={"idempotency_key": _key(idempotency_key)},
            body={"decision": translate.RETURN_DECISIONS[decision]},
        )

    def reject_return(
        self, return_id: str, decision: ReturnDecision, *, reject_reason: str, idempotency_key: str, comment: str = ""
    ) -> None:
        """Reject Return at the step it is at, with a reason name from Get Reject Reasons. Keyed."""
        if decision.approves:
            raise ValueError(f"{decision} is an approval: use approve_return")
        self._call(
            ep.REJECT_RETURN,
            path_params={"return_id": return_id},
            query={"idempotency_key": _key(idempotency_key)},
            body=translate.reject_body(reject_reason, comment, decision=translate.RETURN_DECISIONS[decision]),
        )

    def _search_aftersale(
        self,
        endpoint: Endpoint,
        page_range: tuple[int, int],
        read: Callable[[Any], Iterable[T]],
        *,
        body: dict[str, Any],
        page_size: int,
        page_token: str | None,
        sort_field: str | None,
        sort_order: str | None,
    ) -> Page[T]:
        """Search Cancellations and Search Returns page alike: paging and sorting in the query, filters in the body."""
        _check_page_size(page_size, page_range)
        query = {"page_size": page_size, "page_token": page_token, "sort_field": sort_field, "sort_order": sort_order}
        envelope = self._call(endpoint, query=query, body=body)
        return Page(
            items=tuple(read(envelope.data)),
            next_cursor=envelope.data.get("next_page_token") or None,
            total_count=envelope.data.get("total_count"),
        )

    def _iter_by_orders(self, search: Callable[..., Page[T]], filters: dict[str, Any]) -> Iterator[T]:
        """Follow next_page_token to the end, once per batch of order ids (or once, without order ids)."""
        filters = dict(filters)
        order_ids = list(dict.fromkeys(filters.pop("order_ids", None) or ()))
        batches: list[list[str] | None] = (
            [order_ids[i : i + AFTERSALE_MAX_IDS] for i in range(0, len(order_ids), AFTERSALE_MAX_IDS)]
            if order_ids
            else [None]
        )
        token: str | None = filters.pop("page_token", None)  # continues the first batch only
        for batch in batches:
            while True:
                page = search(order_ids=batch, page_token=token, **filters)
                yield from page.items
                token = page.next_cursor
                if not token:
                    break

    # --- fulfillment: seller shipping (legacy / whitelisted) --------------------------------------------------------

    def mark_package_as_shipped(
        self,
        order_id: str,
        *,
        tracking_number: str,
        carrier_id: str,
        line_ids: Sequence[str] | None = None,
    ) -> SellerShipment:
        """Mark Package As Shipped (US/EU seller shipping: own label, tracking upload). UNSAFE."""
        body: dict[str, Any] = {"tracking_number": tracking_number, "shipping_provider_id": carrier_id}
        if line_ids:
            body["order_line_item_ids"] = list(line_ids)
        envelope = self._call(ep.MARK_PACKAGE_AS_SHIPPED, path_params={"order_id": order_id}, body=body)
        return translate.seller_shipment_from_json(envelope.data)

    def update_shipping_info(self, order_id: str, *, tracking_number: str, carrier_id: str) -> None:
        """Correct tracking/carrier of a seller-shipped order (allowed once, within 72 h). UNSAFE."""
        self._call(
            ep.UPDATE_SHIPPING_INFO,
            path_params={"order_id": order_id},
            body={"tracking_number": tracking_number, "shipping_provider_id": carrier_id},
        )

    def update_package_shipping_info(self, package_id: str, *, tracking_number: str, carrier_id: str) -> None:
        self._call(
            ep.UPDATE_PACKAGE_SHIPPING_INFO,
            path_params={"package_id": package_id},
            body={"tracking_number": tracking_number, "shipping_provider_id": carrier_id},
        )

    # --- logistics --------------------------------------------------------------------------------------------------

    def get_warehouses(self) -> list[Warehouse]:
        return translate.warehouses_from_json(self._call(ep.GET_WAREHOUSE_LIST).data)

    def get_warehouse_delivery_options(self, warehouse_id: str, *, scope: str | None = None) -> list[DeliveryOption]:
        envelope = self._call(
            ep.GET_WAREHOUSE_DELIVERY_OPTIONS, path_params={"warehouse_id": warehouse_id}, query={"scope": scope}
        )
        return translate.delivery_options_from_json(envelope.data)

    def get_shipping_providers(self, delivery_option_id: str) -> list[ShippingProvider]:
        envelope = self._call(ep.GET_SHIPPING_PROVIDERS, path_params={"delivery_option_id": delivery_option_id})
        return translate.shipping_providers_from_json(envelope.data)

    # --- products and inventory -------------------------------------------------------------------------------------

    def update_inventory(self, product_id: str, skus: Sequence[InventoryUpdate]) -> list[ItemResult]:
        """Set absolute per-warehouse quantities; per-SKU failures come back as results (top-level code is 0)."""
        envelope = self._call(
            ep.UPDATE_INVENTORY,
            path_params={"product_id": product_id},
            body=translate.inventory_update_body(skus),
        )
        return translate.item_results_from_errors(envelope.data, [s.sku_id for s in skus], "sku_id")

    def search_inventory(
        self, *, product_ids: Sequence[str] | None = None, sku_ids: Sequence[str] | None = None
    ) -> list[InventoryLevel]:
        if bool(product_ids) == bool(sku_ids):
            raise ValueError("pass product_ids (<=100) or sku_ids (<=600), not both (sku_ids would win)")
        body = {"sku_ids": list(sku_ids)} if sku_ids else {"product_ids": list(product_ids or ())}
        return translate.inventory_levels_from_json(self._call(ep.INVENTORY_SEARCH, body=body).data)

    def search_products(
        self,
        *,
        status: str | None = None,
        seller_skus: Sequence[str] | None = None,
        update_time_ge: datetime | None = None,
        update_time_le: datetime | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[Product]:
        body: dict[str, Any] = {}
        if status:
            body["status"] = status
        if seller_skus:
            body["seller_skus"] = list(seller_skus)
        if update_time_ge is not None:
            body["update_time_ge"] = translate.to_epoch(update_time_ge)
        if update_time_le is not None:
            body["update_time_le"] = translate.to_epoch(update_time_le)  # 202502 uses _le, not _lt
        envelope = self._call(ep.SEARCH_PRODUCTS, query={"page_size": page_size, "page_token": page_token}, body=body)
        return Page(
            items=tuple(translate.products_from_json(envelope.data)),
            next_cursor=envelope.data.get("next_page_token") or None,
            total_count=envelope.data.get("total_count"),
        )

    # --- Fulfilled by TikTok (read-only) ----------------------------------------------------------------------------

    def get_fbt_onboarded_regions(self) -> list[str]:
        """Regions where the seller is an FBT merchant; empty when not onboarded."""
        return translate.fbt_onboarded_regions_from_json(self._call(ep.GET_FBT_ONBOARDED_REGIONS).data)

    def get_fbt_warehouses(self) -> list[FbtWarehouse]:
        return translate.fbt_warehouses_from_json(self._call(ep.GET_FBT_WAREHOUSE_LIST).data)

    def search_fbt_inventory(
        self,
        *,
        sku_ids: Sequence[str] | None = None,
        fbt_warehouse_ids: Sequence[str] | None = None,
        page_size: int = FBT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[FbtStock]:
        """One page of Search FBT Inventory: paging in the query (page_size 1–100, required), filters in the body.
        Without sku_ids only goods with something on hand or in transit come back (spec)."""
        if sku_ids is not None and len(sku_ids) > FBT_MAX_IDS:
            raise ValueError(f"at most {FBT_MAX_IDS} sku_ids per call")
        envelope = self._call(
            ep.SEARCH_FBT_INVENTORY,
            query={"page_size": page_size, "page_token": page_token},
            body=translate.fbt_inventory_search_body(sku_ids=sku_ids, fbt_warehouse_ids=fbt_warehouse_ids),
        )
        return Page(
            items=tuple(translate.fbt_inventory_from_json(envelope.data)),
            next_cursor=envelope.data.get("next_page_token") or None,
            total_count=envelope.data.get("total_count"),
        )

    def iter_fbt_inventory(self, **filters: Any) -> Iterator[FbtStock]:
        """Every FBT inventory row matching `filters` (search_fbt_inventory's keywords), to the last page."""
        token: str | None = filters.pop("page_token", None)
        while True:
            page = self.search_fbt_inventory(page_token=token, **filters)
            yield from page.items
            if not page.next_cursor:
                return
            token = page.next_cursor

    # --- webhooks (Event API) ---------------------------------------------------------------------------------------

    def get_webhooks(self) -> list[WebhookSubscription]:
        return translate.webhook_subscriptions_from_json(self._call(ep.GET_SHOP_WEBHOOKS).data)

    def set_webhook(self, topic: str, address: str) -> None:
        """Create or replace the shop's webhook address for one event type (e.g. ORDER_STATUS_CHANGE)."""
        self._call(ep.UPDATE_SHOP_WEBHOOK, body={"address": address, "event_type": topic})

    def delete_webhook(self, topic: str) -> None:
        self._call(ep.DELETE_SHOP_WEBHOOK, body={"event_type": topic})

    # --- core -------------------------------------------------------------------------------------------------------

    def _call(
        self,
        endpoint: Endpoint,
        *,
        path_params: dict[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> _Envelope:
        if endpoint.shop_scoped and not self.shop_cipher:
            raise ValueError(f"{endpoint.name} is shop-scoped: build the client with shop_cipher")
        path = endpoint.render(path_params)
        body_bytes = _dumps(body) if body is not None else b""
        self._refresh_if_expiring()
        replayed_after_refresh = False
        attempt = 0
        while True:
            attempt += 1
            paused = 0.0  # seconds the limiter key is paused after a refusal of this attempt
            slot = self._throttle(endpoint)
            used_token = self._tokens.access_token
            request = self._build_request(endpoint, path, query, body_bytes, used_token)
            started = time.monotonic()
            try:
                with platform_call_timer(platform=PLATFORM, api=endpoint.name) as call:
                    succeeded = False
                    try:
                        response = self._http.send(request)
                        result = self._interpret(endpoint, response)  # raises PlatformOutcomeUnknown: timed, raised
                        succeeded = isinstance(result, _Envelope)
                    finally:
                        # The answer (or the failure) bounds when TikTok could have counted the request. Only a
                        # success surely went through TikTok's counter (a bad token may be refused before it), so
                        # only a success is a sample of the path's shortest round trip.
                        self._limiter.release(slot, window_ms=RATE_LIMIT_WINDOW_MS, answered=succeeded)
                    call.outcome = "ok" if isinstance(result, _Envelope) else result.code
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The connection never opened: nothing reached TikTok, safe to retry even a purchase.
                failure: PlatformError = PlatformError(
                    PLATFORM, "transport", f"{endpoint.name}: {type(exc).__name__}", retryable=True
                )
                retry_after = None
            except httpx.TransportError as exc:
                if endpoint.retry is RetryPolicy.UNSAFE:
                    raise PlatformOutcomeUnknown(
                        PLATFORM,
                        "transport",
                        f"{endpoint.name}: {type(exc).__name__} after the request was sent; "
                        "check whether it took effect before calling again",
                    ) from exc
                failure = PlatformError(PLATFORM, "transport", f"{endpoint.name}: {type(exc).__name__}", retryable=True)
                retry_after = None
            else:
                elapsed_ms = (time.monotonic() - started) * 1000
                if isinstance(result, _Envelope):
                    log.debug("tiktok %s ok request_id=%s %.0f ms", endpoint.key, result.request_id, elapsed_ms)
                    return result
                failure = result
                retry_after = _retry_after(response)
                if response.status_code == 429 or failure.code == CODE_RATE_LIMITED:
                    # Back off on the first refusal: every worker on this key waits one window (every arrival TikTok
                    # counted before refusing has left its window by then), not just this call.
                    paused = max(RATE_LIMIT_WINDOW_MS / 1000, min(retry_after or 0.0, self.config.backoff_max_seconds))
                    self._limiter.throttled(slot.key, pause_ms=round(paused * 1000))
                if failure.code == CODE_ACCESS_TOKEN_EXPIRED:
                    if replayed_after_refresh:
                        raise PlatformAuthError(
                            PLATFORM,
                            failure.code,
                            f"{failure.message} (still expired after a refresh)",
                            request_id=failure.request_id,
                            http_status=failure.http_status,
                        )
                    # The gateway rejected the call before any handler ran: replaying it is safe for every endpoint.
                    self._refresh(used_token)
                    replayed_after_refresh = True
                    attempt -= 1  # the replay is not a retry
                    continue
            log.info(
                "tiktok %s failed attempt %d/%d: code=%s request_id=%s",
                endpoint.key,
                attempt,
                self.config.max_attempts,
                failure.code,
                failure.request_id,
            )
            if not failure.retryable or attempt >= self.config.max_attempts:
                raise failure
            self._sleep(max(self._backoff(attempt, retry_after), paused))

    def _build_request(
        self,
        endpoint: Endpoint,
        path: str,
        query: Mapping[str, Any] | None,
        body_bytes: bytes,
        access_token: str,
    ) -> httpx.Request:
        params: dict[str, str] = {"app_key": self.config.app_key, "timestamp": str(int(self._clock()))}
        if endpoint.shop_scoped and self.shop_cipher:
            params["shop_cipher"] = self.shop_cipher
        for name, value in (query or {}).items():
            # Empty values are never sent: whether they are signed as `key` + "" is ambiguous (README §1.3).
            if value is None or value == "":
                continue
            params[name] = str(value).lower() if isinstance(value, bool) else str(value)
        params["sign"] = sign(self.config.app_secret, path, params, body_bytes)
        return self._http.build_request(
            endpoint.method,
            self.config.api_base_url + path,
            params=params,
            content=body_bytes or None,
            # content-type on every call, GET included: the spec lists it as a required header everywhere.
            headers={"x-tts-access-token": access_token, "content-type": "application/json"},
        )

    def _interpret(self, endpoint: Endpoint, response: httpx.Response) -> _Envelope | PlatformError:
        status = response.status_code
        try:
            payload = response_json(response)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        code = payload.get("code")
        message = str(payload.get("message") or "")
        request_id = str(payload.get("request_id") or "") or None

        if status == 429 or code == CODE_RATE_LIMITED:
            # Throttled by the gateway: provably not processed, so even a purchase may be retried.
            return PlatformError(
                PLATFORM,
                code if isinstance(code, int) else "http_429",
                message or "rate limited",
                request_id=request_id,
                http_status=status,
                retryable=True,
            )
        server_trouble = status >= 500 or code in (CODE_INTERNAL_ERROR, CODE_GATEWAY_TIMEOUT)
        if server_trouble or (status == 200 and not isinstance(code, int)):
            if endpoint.retry is RetryPolicy.UNSAFE:
                raise PlatformOutcomeUnknown(
                    PLATFORM,
                    code if isinstance(code, int) else f"http_{status}",
                    f"{endpoint.name}: {message or 'server error'}; check whether it took effect before calling again",
                    request_id=request_id,
                    http_status=status,
                )
            return PlatformError(
                PLATFORM,
                code if isinstance(code, int) else f"http_{status}",
                message or "server error",
                request_id=request_id,
                http_status=status,
                retryable=True,
            )
        if not isinstance(code, int):
            return PlatformError(
                PLATFORM, f"http_{status}", "response is not a TikTok envelope", http_status=status, retryable=False
            )
        if code == CODE_OK:
            data = payload.get("data")
            return _Envelope(data=data if isinstance(data, dict) else {}, request_id=request_id)
        error_class = PlatformAuthError if 105000 <= code < 106000 else PlatformError
        return error_class(
            PLATFORM,
            code,
            message,
            request_id=request_id,
            http_status=status,
            retryable=code in _RETRY_LATER_CODES,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Exponential with "equal jitter": at least half the step (spreads workers without collapsing to zero).
        step: float = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2 ** (attempt - 1))
        delay = step / 2 + self._rng() * step / 2
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max_seconds))
        return delay

    def _throttle(self, endpoint: Endpoint) -> Slot:
        # Keyed like TikTok counts: per API, per app + shop. Non-shop APIs (authorization/seller) share one key per
        # app, which is stricter than TikTok's per-seller count but those calls are rare.
        key = f"tiktok:{self.config.app_key}:{self.shop_cipher if endpoint.shop_scoped else '-'}:{endpoint.key}"
        deadline = time.monotonic() + self.config.rate_limit_max_wait_seconds
        # The longest a call can stay in flight: a worker that dies mid-call holds its slot no longer than this.
        config = self.config
        lease_ms = round(
            (config.pool_timeout + config.connect_timeout + config.write_timeout + config.read_timeout) * 1000
        )
        while True:
            granted = self._limiter.acquire(
                key, limit=config.rate_limit_qps, window_ms=RATE_LIMIT_WINDOW_MS, lease_ms=lease_ms
            )
            if isinstance(granted, Slot):
                return granted
            wait = granted
            if time.monotonic() + wait > deadline:
                raise PlatformError(
                    PLATFORM,
                    "rate_limit_wait",
                    f"{endpoint.name}: rate limit queue longer than {self.config.rate_limit_max_wait_seconds} s",
                    retryable=True,
                )
            # A little jitter so waiting workers do not all retry in the same millisecond.
            pause = wait + self._rng() * 0.005
            limiter_wait_observe(platform=PLATFORM, seconds=pause)
            self._sleep(pause)

    def _refresh_if_expiring(self) -> None:
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        tokens = self._tokens
        if not tokens.access_expires_within(self.config.token_refresh_margin_seconds, now):
            return
        if tokens.refresh_token_expires_at is not None and tokens.refresh_token_expires_at <= now:
            return  # nothing to refresh with; the call will fail with an auth error and the store must reconnect
        try:
            self._refresh(tokens.access_token)
        except PlatformError as exc:
            # Proactive only: while the current token still works, a failed refresh must not fail the call.
            if tokens.access_token_expires_at > now:
                log.warning("tiktok proactive token refresh failed (%s); using the current token", exc.code)
                return
            raise

    def _refresh(self, stale_access_token: str) -> None:
        with self._refresh_lock:
            if self._tokens.access_token != stale_access_token:
                return  # another thread of this client refreshed meanwhile
            if self._refresh_tokens is not None:  # one refresh across every worker, saved by the caller's keeper
                self._tokens = self._refresh_tokens(self._tokens, lambda stale: self._auth.refresh(stale.refresh_token))
                return
            new_tokens = self._auth.refresh(self._tokens.refresh_token)
            self._tokens = new_tokens
        log.info("tiktok access token refreshed for open_id=%s", new_tokens.open_id or "?")
        if self._on_tokens_refreshed is not None:
            self._on_tokens_refreshed(new_tokens)

    # Exposed for Get Package Handover Time Slots users: a pickup slot helper kept next to the API that needs it.
    @staticmethod
    def first_available_slot(options: HandoverOptions) -> TimeSlot | None:
        return next((slot for slot in options.pickup_slots if slot.available is not False), None)


def _key(idempotency_key: str) -> str:
    """The decisions' idempotency key: required, since their SAFE retry policy rests on it (at most 255 characters)."""
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("a decision needs an idempotency key of 1 to 255 characters")
    return idempotency_key


def _check_page_size(page_size: int, allowed: tuple[int, int]) -> None:
    if not allowed[0] <= page_size <= allowed[1]:
        raise ValueError(f"page_size must be in {allowed[0]}-{allowed[1]}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
