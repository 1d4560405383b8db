"""Shopify GraphQL Admin API client: owns all HTTP (tokens, the cost bucket, retries) and speaks Shopify's operations.

One `httpx.Client` per process and config (`shared_http_client`); a `ShopifyClient` is cheap, one per shop:

    client = ShopifyClient(config=cfg, shop="dropline-demo.myshopify.com", tokens=tokens,
                           on_tokens_refreshed=save_tokens)
    data = client.call(ORDER, {"id": translate.gid("Order", "5600000001")})

Every answer is checked twice (§10.3): an HTTP 200 with top-level `errors` is an error, never data, and each
mutation's `userErrors` are read by the method that sent it. Retries (§6): reads, and mutations whose repeat is
harmless (an `@idempotent` key), are retried with backoff after 429, 5xx, THROTTLED and transport failures; any
other mutation is retried only when it certainly never reached Shopify (throttled, or the connection never opened)
and otherwise raises PlatformOutcomeUnknown: the caller looks before it writes again. A THROTTLED answer waits
(requestedQueryCost - currentlyAvailable) / restoreRate and does not count as an attempt.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from django.core.cache import caches

from erp.metrics import limiter_wait_observe, platform_call_timer
from integrations.base import TokensRefresher
from integrations.errors import ErrorKind, PlatformAuthError, PlatformError, PlatformOutcomeUnknown
from integrations.interface import Page, PlatformOrder, Product, TokenSet, Warehouse
from integrations.responses import response_json
from integrations.shopify import translate
from integrations.shopify.config import ShopifyConfig
from integrations.shopify.oauth import ShopifyAuth

log = logging.getLogger(__name__)

PLATFORM = "shopify"
TokensCallback = Callable[[TokenSet], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Operation:
    """One GraphQL document. `safe`: sending it twice does no harm (every query; a mutation under an `@idempotent`
    key or one Shopify refuses to repeat), so it is retried after a lost answer."""

    name: str  # the operationName, and the key under which its last requested cost is remembered
    document: str
    mutation: bool = False
    safe: bool = True


# ----------------------------------------------------------------------------------------------- documents (§3-§7)
LINE_FRAGMENT = """
fragment DroplineLine on LineItem {
  id title sku quantity currentQuantity unfulfilledQuantity
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  variant { id title product { id } }
}"""


def _fulfillment_fields(lines: int) -> str:
    return (
        "id status createdAt trackingInfo(first: 1) { number company } "
        f"fulfillmentLineItems(first: {lines}) {{ pageInfo {{ hasNextPage }} nodes {{ quantity lineItem {{ id }} }} }}"
    )


PAGE_FULFILLMENTS = 3  # an order's fulfillments in a page; with more, they are read again for that order
ORDER_FRAGMENTS = (
    """
fragment DroplineOrder on Order {
  id createdAt updatedAt processedAt cancelledAt cancelReason
  displayFulfillmentStatus displayFinancialStatus currencyCode
  subtotalPriceSet { shopMoney { amount currencyCode } }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  currentTotalPriceSet { shopMoney { amount currencyCode } }
  shippingAddress { name company address1 address2 city provinceCode zip countryCodeV2 phone }
  lineItems(first: 10) { pageInfo { hasNextPage endCursor } nodes { ...DroplineLine } }
"""
    + f"  fulfillments(first: {PAGE_FULFILLMENTS}) {{ {_fulfillment_fields(10)} }}\n}}"
    + LINE_FRAGMENT
)
# The page size follows from the requested cost (§6): about 132 points an order (10 lines, 3 fulfillments of 10
# lines), so 7 orders stay under the 1,000-point single-query maximum. Longer orders are completed one by one.
ORDERS_PAGE_SIZE = 7
ORDER_LINES_PAGE = 50
ORDER_FULFILLMENTS_MAX = 20

SHOP = Operation(
    "DroplineShop",
    "query DroplineShop { shop { name myshopifyDomain currencyCode } "
    "locations(first: 1) { nodes { address { countryCode } } } }",
)
ORDERS = Operation(
    "DroplineOrders",
    "query DroplineOrders($first: Int!, $after: String, $query: String!) { "
    "orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { "
    "pageInfo { hasNextPage endCursor } nodes { ...DroplineOrder } } }" + ORDER_FRAGMENTS,
)
ORDER = Operation(
    "DroplineOrder", "query DroplineOrder($id: ID!) { order(id: $id) { ...DroplineOrder } }" + ORDER_FRAGMENTS
)
ORDER_LINES = Operation(
    "DroplineOrderLines",
    "query DroplineOrderLines($id: ID!, $after: String) { order(id: $id) { "
    f"lineItems(first: {ORDER_LINES_PAGE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }} "
    "nodes { ...DroplineLine } } } }" + LINE_FRAGMENT,
)
ORDER_FULFILLMENTS = Operation(
    "DroplineOrderFulfillments",
    "query DroplineOrderFulfillments($id: ID!) { order(id: $id) { "
    f"fulfillments(first: {ORDER_FULFILLMENTS_MAX}) {{ {_fulfillment_fields(20)} }} }} }}",
)
FULFILLMENT_ORDERS = Operation(
    "DroplineFulfillmentOrders",
    "query DroplineFulfillmentOrders($id: ID!, $after: String) { order(id: $id) { id cancelledAt "
    "fulfillments(first: 20) { id status trackingInfo(first: 5) { number company } } "
    "fulfillmentOrders(first: 5, after: $after) { pageInfo { hasNextPage endCursor } nodes { "
    "id status requestStatus assignedLocation { location { id } } supportedActions { action } "
    "lineItems(first: 50) { pageInfo { hasNextPage } nodes { id remainingQuantity lineItem { id } } } } } } }",
)
# Not safe: a lost answer may have created the fulfillment; the adapter looks (FULFILLMENT_ORDERS) before again.
FULFILLMENT_CREATE = Operation(
    "DroplineFulfillmentCreate",
    "mutation DroplineFulfillmentCreate($fulfillment: FulfillmentInput!) { "
    "fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } } }",
    mutation=True,
    safe=False,
)
VARIANT_STOCK_FIELDS = (
    "id sku product { id } inventoryItem { id tracked inventoryLevels(first: 10) { nodes { location { id } "
    'quantities(names: ["available", "committed"]) { name quantity } } } }'
)
VARIANT_STOCK_BATCH = 20  # requested cost about 40 a variant
INVENTORY_SET_MAX = 250  # input arrays take at most 250 items (§3.3)
PRODUCT_VARIANTS = Operation(
    "DroplineProductVariants",
    "query DroplineProductVariants($first: Int!, $after: String) { shop { currencyCode } "
    "productVariants(first: $first, after: $after) { pageInfo { hasNextPage endCursor } "
    "nodes { id sku title price product { id title } } } }",
)
VARIANTS_PAGE_SIZE = 250  # requested cost about 500
LOCATIONS = Operation(
    "DroplineLocations",
    "query DroplineLocations($after: String) { locations(first: 100, after: $after) { "
    "pageInfo { hasNextPage endCursor } nodes { id name isActive "
    "address { address1 city provinceCode zip countryCode } } } }",
)
WEBHOOK_SUBSCRIPTIONS = Operation(
    "DroplineWebhookSubscriptions",
    "query DroplineWebhookSubscriptions($after: String) { webhookSubscriptions(first: 100, after: $after) { "
    "pageInfo { hasNextPage endCursor } nodes { id topic uri } } }",
)
# Safe: Shopify refuses a second subscription of the same topic and address ("already been taken").
WEBHOOK_CREATE = Operation(
    "DroplineWebhookCreate",
    "mutation DroplineWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) { "
    "webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { "
    "webhookSubscription { id topic uri } userErrors { field message } } }",
    mutation=True,
)


def variant_stock_operation(count: int) -> Operation:
    """`count` variants by id in one request: aliased productVariant(id:) fields (exact, unlike a search)."""
    variables = ", ".join(f"$v{i}: ID!" for i in range(count))
    fields = " ".join(f"v{i}: productVariant(id: $v{i}) {{ {VARIANT_STOCK_FIELDS} }}" for i in range(count))
    return Operation(f"DroplineVariantStock{count}", f"query DroplineVariantStock{count}({variables}) {{ {fields} }}")


def inventory_set_operation(key: str) -> Operation:
    """inventorySetQuantities under an idempotency key (§5.3). The key is written into the document as a literal,
    the form of the only example in the notes (a variable there is unconfirmed, §5.1); it is a UUID Dropline made,
    so nothing else can reach the query text. Safe: a repeat with the same key is answered, not applied again."""
    return Operation(
        "DroplineInventorySet",
        "mutation DroplineInventorySet($input: InventorySetQuantitiesInput!) { "
        f'inventorySetQuantities(input: $input) @idempotent(key: "{uuid.UUID(key)}") {{ '
        "inventoryAdjustmentGroup { id } userErrors { field message code } } }",
        mutation=True,
    )


# ---------------------------------------------------------------------------------------------- the cost bucket
@dataclass(frozen=True)
class BucketState:
    available: float
    maximum: float
    restore_rate: float
    at: float  # when Shopify reported it (or Dropline last reserved from it), Unix seconds


class CostBucket:
    """A shop's query-cost bucket (§6) as Shopify last reported it, shared by every worker process through Django's
    cache (Redis in production).

    Why not integrations.ratelimit: its sliding window counts requests per second, while Shopify meters points that
    differ per query and refill continuously, and it tells us its own level in every answer (`throttleStatus`). So
    the state kept is Shopify's report, restored at `restoreRate` since; a worker about to send a query whose last
    requested cost it knows waits until the bucket covers it, and writes its reservation back so the next worker
    sees it. The read-modify-write is not atomic: two workers racing may both send, and the loser's THROTTLED answer
    is waited out and retried (Shopify's bucket is the authority; this only keeps us from leaning on it). Without a
    cache (an outage) nothing waits beforehand and THROTTLED answers still pace the calls."""

    TTL_SECONDS = 600  # a state this old describes a bucket long refilled

    def __init__(self, cache_alias: str = "default") -> None:
        self._alias = cache_alias

    def reserve(self, key: str, cost: float, now: float) -> float:
        """Take `cost` from the bucket and return 0.0, or return the seconds until it can be taken."""
        state = self._get(key)
        if state is None or cost <= 0:
            return 0.0
        available = min(state.maximum, state.available + max(0.0, now - state.at) * state.restore_rate)
        if available >= cost:
            self._set(key, BucketState(available - cost, state.maximum, state.restore_rate, now))
            return 0.0
        return (cost - available) / state.restore_rate if state.restore_rate > 0 else 1.0

    def report(self, key: str, status: Mapping[str, Any], now: float) -> None:
        try:
            state = BucketState(
                available=float(status["currentlyAvailable"]),
                maximum=float(status["maximumAvailable"]),
                restore_rate=float(status["restoreRate"]),
                at=now,
            )
        except (KeyError, TypeError, ValueError):
            return
        self._set(key, state)

    def _get(self, key: str) -> BucketState | None:
        try:
            value = caches[self._alias].get(key)
        except Exception as exc:  # a cache outage must not stop order import; THROTTLED still paces us
            log.warning("shopify cost bucket unreadable (%s): not waiting beforehand", exc)
            return None
        return BucketState(*value) if isinstance(value, tuple | list) and len(value) == 4 else None

    def _set(self, key: str, state: BucketState) -> None:
        try:
            caches[self._alias].set(
                key, (state.available, state.maximum, state.restore_rate, state.at), self.TTL_SECONDS
            )
        except Exception as exc:
            log.warning("shopify cost bucket not written (%s)", exc)


# What each operation asked for last time (requestedQueryCost): the cost a request is expected to need. Per process;
# the first call of an operation in a process sends without waiting, and learns.
_expected_cost: dict[str, int] = {}

_shared_lock = threading.Lock()
_shared_http: dict[tuple[float, ...], httpx.Client] = {}


def shared_http_client(config: ShopifyConfig) -> httpx.Client:
    """The process-wide pooled client for this config (created once, reused across shops and tasks)."""
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
                follow_redirects=False,  # a redirect from the Admin API is a misconfiguration, never followed
            )
            _shared_http[key] = client
        return client


@dataclass(frozen=True)
class _Throttled:
    wait: float
    request_id: str | None


class ShopifyClient:
    def __init__(
        self,
        *,
        config: ShopifyConfig,
        shop: str,
        tokens: TokenSet,
        on_tokens_refreshed: TokensCallback | None = None,
        refresh_tokens: TokensRefresher | None = None,
        http: httpx.Client | None = None,
        bucket: CostBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.shop = shop
        self._tokens = tokens
        self._on_tokens_refreshed = on_tokens_refreshed
        self._refresh_tokens = refresh_tokens
        self._http = http or shared_http_client(config)
        self._bucket = bucket or CostBucket()
        self._bucket_key = f"shopify:bucket:{config.client_id}:{shop}"
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._refresh_lock = threading.Lock()
        self._auth = ShopifyAuth(config, self._http, sleep=sleep, clock=clock)
        self.last_request_id: str | None = None  # X-Request-Id of the last answer, for errors raised after it

    @property
    def tokens(self) -> TokenSet:
        return self._tokens

    # --- the shop ---------------------------------------------------------------------------------------------------
    def shop_info(self) -> translate.ShopInfo:
        return translate.shop_info_from_json(self.call(SHOP))

    # --- orders (§3) ------------------------------------------------------------------------------------------------
    def orders_page(self, *, since: datetime, until: datetime | None = None, cursor: str | None) -> Page[PlatformOrder]:
        """Orders updated at or after `since` (and before `until`), oldest update first; `next_cursor` is the
        endCursor while hasNextPage."""
        query = f"updated_at:>='{translate.iso(since)}'"
        if until is not None:
            query += f" updated_at:<'{translate.iso(until)}'"  # terms side by side are ANDed (search syntax)
        data = self.call(ORDERS, {"first": ORDERS_PAGE_SIZE, "after": cursor, "query": query})
        connection = translate.obj(data.get("orders"))
        page_info = connection.get("pageInfo") or {}
        return Page(
            items=tuple(translate.order_from_json(self._complete(node)) for node in translate.nodes(connection)),
            next_cursor=str(page_info["endCursor"])
            if page_info.get("hasNextPage") and page_info.get("endCursor")
            else None,
        )

    def order(self, order_id: str) -> PlatformOrder | None:
        """One order by its numeric id; None when the shop has no such order (or it is older than 60 days and the
        app lacks read_all_orders)."""
        node = self.call(ORDER, {"id": translate.gid("Order", order_id)}).get("order")
        return translate.order_from_json(self._complete(node)) if isinstance(node, Mapping) else None

    def _complete(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """An order as a page gave it, with the line items and fulfillments beyond the page's limits read for it."""
        order = dict(node)
        lines = translate.obj(order.get("lineItems"))
        collected = translate.nodes(lines)
        page_info = lines.get("pageInfo") or {}
        while page_info.get("hasNextPage"):
            found = self.call(ORDER_LINES, {"id": order["id"], "after": page_info.get("endCursor")}).get("order")
            more = found.get("lineItems") if isinstance(found, Mapping) else None
            if not isinstance(more, Mapping):
                break
            collected += translate.nodes(more)
            page_info = more.get("pageInfo") or {}
        order["lineItems"] = {"nodes": collected}
        fulfillments = translate.nodes(order.get("fulfillments"))
        if len(fulfillments) >= PAGE_FULFILLMENTS or any(map(translate.more_fulfilled_lines, fulfillments)):
            found = self.call(ORDER_FULFILLMENTS, {"id": order["id"]}).get("order")
            order["fulfillments"] = found.get("fulfillments") if isinstance(found, Mapping) else fulfillments
        return order

    # --- fulfilment (§4) --------------------------------------------------------------------------------------------
    def fulfillment_orders(self, order_id: str) -> Mapping[str, Any] | None:
        """The order's fulfillments (to look first) and every fulfillment order with what remains to fulfil."""
        order: dict[str, Any] | None = None
        collected: list[Mapping[str, Any]] = []
        after: str | None = None
        while True:
            found = self.call(FULFILLMENT_ORDERS, {"id": translate.gid("Order", order_id), "after": after}).get("order")
            if not isinstance(found, Mapping):
                return None
            order = order or dict(found)
            connection = translate.obj(found.get("fulfillmentOrders"))
            collected += translate.nodes(connection)
            page_info = connection.get("pageInfo") or {}
            if not page_info.get("hasNextPage"):
                order["fulfillmentOrders"] = {"nodes": collected}
                return order
            after = page_info.get("endCursor")

    def fulfillment_create(self, fulfillment: Mapping[str, Any]) -> str:
        """UNSAFE: one fulfillment (fulfillment orders of one order at one location); returns its numeric id.
        userErrors raise PlatformError code "user_error" with Shopify's words (errors.SHIPMENT_REPORT reads them)."""
        payload = self.call(FULFILLMENT_CREATE, {"fulfillment": dict(fulfillment)}).get("fulfillmentCreate")
        refused = user_errors(payload)
        if refused:
            raise PlatformError(
                PLATFORM, "user_error", _user_messages(refused), request_id=self.last_request_id, http_status=200
            )
        created = payload.get("fulfillment") if isinstance(payload, Mapping) else None
        fulfillment_id = translate.numeric(created.get("id")) if isinstance(created, Mapping) else ""
        if not fulfillment_id:
            raise PlatformOutcomeUnknown(
                PLATFORM,
                "bad_response",
                "fulfillmentCreate answered neither a fulfillment nor userErrors",
                request_id=self.last_request_id,
                http_status=200,
            )
        return fulfillment_id

    # --- stock (§5) -------------------------------------------------------------------------------------------------
    def variant_stock(self, variant_ids: Sequence[str]) -> dict[str, translate.VariantStock]:
        """Each variant's inventory item and its available/committed quantity per location; unknown ids left out."""
        wanted = [v for v in dict.fromkeys(variant_ids) if translate.is_numeric_id(v)]
        found: dict[str, translate.VariantStock] = {}
        for batch in batched(wanted, VARIANT_STOCK_BATCH):
            data = self.call(
                variant_stock_operation(len(batch)),
                {f"v{i}": translate.gid("ProductVariant", v) for i, v in enumerate(batch)},
            )
            for i in range(len(batch)):
                node = data.get(f"v{i}")
                if isinstance(node, Mapping):
                    stock = translate.variant_stock_from_json(node)
                    found[stock.variant_id] = stock
        return found

    def inventory_set(self, quantities: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """inventorySetQuantities of "available" (at most 250 quantities, each with its changeFromQuantity) under a
        fresh idempotency key; returns the userErrors (empty: all of it was applied)."""
        if len(quantities) > INVENTORY_SET_MAX:
            raise ValueError(f"at most {INVENTORY_SET_MAX} quantities per call")
        key = str(uuid.uuid4())
        payload = self.call(
            inventory_set_operation(key),
            {
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "referenceDocumentUri": f"gid://dropline/StockPush/{key}",
                    "quantities": [dict(q) for q in quantities],
                }
            },
        ).get("inventorySetQuantities")
        return user_errors(payload)

    # --- catalogue --------------------------------------------------------------------------------------------------
    def product_variants_page(self, cursor: str | None) -> Page[Product]:
        data = self.call(PRODUCT_VARIANTS, {"first": VARIANTS_PAGE_SIZE, "after": cursor})
        shop = translate.obj(data.get("shop"))
        connection = translate.obj(data.get("productVariants"))
        page_info = connection.get("pageInfo") or {}
        return Page(
            items=translate.products_from_variants(translate.nodes(connection), str(shop.get("currencyCode") or "")),
            next_cursor=str(page_info["endCursor"])
            if page_info.get("hasNextPage") and page_info.get("endCursor")
            else None,
        )

    # --- locations --------------------------------------------------------------------------------------------------
    def locations(self) -> list[Warehouse]:
        return [translate.warehouse_from_json(node) for node in self._every(LOCATIONS, "locations")]

    # --- webhooks (§7.4) --------------------------------------------------------------------------------------------
    def webhook_subscriptions(self) -> list[tuple[str, str]]:
        """(topic enum, uri) of every subscription this app has on the shop."""
        return [
            (str(node.get("topic") or ""), str(node.get("uri") or ""))
            for node in self._every(WEBHOOK_SUBSCRIPTIONS, "webhookSubscriptions")
        ]

    def webhook_subscribe(self, topic: str, uri: str) -> None:
        """Subscribe `uri` to `topic` (the enum, ORDERS_UPDATED); one already there is success."""
        payload = self.call(WEBHOOK_CREATE, {"topic": topic, "sub": {"uri": uri, "format": "JSON"}}).get(
            "webhookSubscriptionCreate"
        )
        refused = [e for e in user_errors(payload) if "already been taken" not in str(e.get("message", ""))]
        if refused:
            raise PlatformError(
                PLATFORM, "user_error", _user_messages(refused), request_id=self.last_request_id, http_status=200
            )

    def _every(self, operation: Operation, root: str) -> list[Mapping[str, Any]]:
        """Every node of a root connection, page after page."""
        collected: list[Mapping[str, Any]] = []
        after: str | None = None
        while True:
            data = self.call(operation, {"after": after})
            connection = translate.obj(data.get(root))
            collected += translate.nodes(connection)
            page_info = connection.get("pageInfo") or {}
            if not page_info.get("hasNextPage") or not page_info.get("endCursor"):
                return collected
            after = str(page_info["endCursor"])

    # --- the one way to ask -----------------------------------------------------------------------------------------
    def call(self, operation: Operation, variables: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """`data` of one GraphQL request. Raises PlatformError (PlatformAuthError for 401, PlatformOutcomeUnknown for
        an unsafe mutation whose answer was lost)."""
        # Serialised once: a retry sends the very same bytes (and so the same idempotency key).
        body = json.dumps(
            {"query": operation.document, "variables": dict(variables or {}), "operationName": operation.name},
            separators=(",", ":"),
        ).encode()
        self._refresh_if_expiring()
        deadline = time.monotonic() + self.config.throttle_max_wait_seconds
        attempt = 0
        replayed_after_refresh = False
        while True:
            self._wait_for_bucket(operation, deadline)
            used_token = self._tokens.access_token
            try:
                with platform_call_timer(platform=PLATFORM, api=operation.name) as call:
                    response = self._http.post(
                        self.config.graphql_url(self.shop),
                        content=body,
                        headers={
                            "X-Shopify-Access-Token": used_token,
                            "Content-Type": "application/json",
                            "Accept": "application/json",
                        },
                    )
                    answer = self._interpret(operation, response)  # raises PlatformOutcomeUnknown: timed, then raised
                    call.outcome = _outcome(answer)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The connection never opened: nothing reached Shopify, so even a fulfillment may be sent again.
                failure: PlatformError = PlatformError(
                    PLATFORM, "transport", f"{operation.name}: {type(exc).__name__}", retryable=True
                )
            except httpx.TransportError as exc:
                if not operation.safe:
                    raise PlatformOutcomeUnknown(
                        PLATFORM,
                        "transport",
                        f"{operation.name}: {type(exc).__name__} after the request was sent; check whether it took "
                        "effect before sending it again",
                    ) from exc
                failure = PlatformError(
                    PLATFORM, "transport", f"{operation.name}: {type(exc).__name__}", retryable=True
                )
            else:
                if isinstance(answer, Mapping):
                    return answer
                if isinstance(answer, _Throttled):
                    self._wait_throttled(operation, answer, deadline)
                    continue
                failure = answer
                if failure.http_status == 401 and not replayed_after_refresh and self._tokens.refresh_token:
                    # Rejected before anything ran: replaying after a refresh is safe for every operation.
                    self._refresh(used_token)
                    replayed_after_refresh = True
                    continue
            attempt += 1
            log.info(
                "shopify %s %s failed attempt %d/%d: code=%s request_id=%s",
                self.shop,
                operation.name,
                attempt,
                self.config.max_attempts,
                failure.code,
                failure.request_id,
            )
            if not failure.retryable or attempt >= self.config.max_attempts:
                raise failure
            self._sleep(self._backoff(attempt))

    def _interpret(
        self, operation: Operation, response: httpx.Response
    ) -> Mapping[str, Any] | _Throttled | PlatformError:
        status = response.status_code
        request_id = self.last_request_id = response.headers.get("x-request-id")
        try:
            payload: Any = response_json(response)
        except ValueError:
            payload = None
        payload = payload if isinstance(payload, dict) else {}
        cost = translate.obj(payload.get("extensions")).get("cost")
        if isinstance(cost, dict):
            self._learn_cost(operation, cost)
        if status == 401:
            return PlatformAuthError(
                PLATFORM,
                "http_401",
                _messages(payload) or "invalid API key or access token",
                request_id=request_id,
                http_status=status,
            )
        if status == 403:
            return PlatformAuthError(
                PLATFORM, "http_403", _messages(payload) or "forbidden", request_id=request_id, http_status=status
            )
        if status == 429 or _codes(payload) & {"THROTTLED"}:
            # Throttled: never executed, so even an unsafe mutation may be sent again.
            return _Throttled(self._throttle_wait(cost, response), request_id)
        if status >= 500 or (status == 200 and not payload) or _codes(payload) & {"INTERNAL_SERVER_ERROR"}:
            if operation.mutation and not operation.safe:
                raise PlatformOutcomeUnknown(
                    PLATFORM,
                    f"http_{status}" if status != 200 else "INTERNAL_SERVER_ERROR",
                    f"{operation.name}: {_messages(payload) or 'server error'}; check whether it took effect before "
                    "sending it again",
                    request_id=request_id,
                    http_status=status,
                )
            return PlatformError(
                PLATFORM,
                f"http_{status}" if status != 200 else "INTERNAL_SERVER_ERROR",
                _messages(payload) or "server error",
                request_id=request_id,
                http_status=status,
                retryable=True,
            )
        if status != 200:
            return PlatformError(
                PLATFORM, f"http_{status}", _messages(payload) or "refused", request_id=request_id, http_status=status
            )
        if payload.get("errors"):
            codes = _codes(payload)
            code = "ACCESS_DENIED" if "ACCESS_DENIED" in codes else (sorted(codes)[0] if codes else "graphql")
            error_class = PlatformAuthError if code == "ACCESS_DENIED" else PlatformError
            return error_class(PLATFORM, code, _messages(payload), request_id=request_id, http_status=status)
        data = payload.get("data")
        if not isinstance(data, dict):
            return PlatformError(PLATFORM, "bad_response", "answer without data", request_id=request_id)
        return data

    # --- the cost bucket --------------------------------------------------------------------------------------------
    def _learn_cost(self, operation: Operation, cost: Mapping[str, Any]) -> None:
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float) and not isinstance(requested, bool):
            _expected_cost[operation.name] = int(requested)
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            self._bucket.report(self._bucket_key, status, self._clock())

    def _throttle_wait(self, cost: Any, response: httpx.Response) -> float:
        """(requestedQueryCost - currentlyAvailable) / restoreRate (§6); Retry-After or 1 s without a cost report."""
        try:
            status = cost["throttleStatus"]
            missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
            return max(0.05, missing / float(status["restoreRate"]))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            pass
        try:
            return max(0.05, float(response.headers.get("retry-after", "")))
        except ValueError:
            return 1.0

    def _wait_for_bucket(self, operation: Operation, deadline: float) -> None:
        expected = _expected_cost.get(operation.name, 0)
        while True:
            wait = self._bucket.reserve(self._bucket_key, expected, self._clock())
            if wait <= 0:
                return
            self._wait(operation, wait, deadline)

    def _wait_throttled(self, operation: Operation, throttled: _Throttled, deadline: float) -> None:
        log.info("shopify %s %s throttled: waiting %.2f s", self.shop, operation.name, throttled.wait)
        self._wait(operation, throttled.wait, deadline, request_id=throttled.request_id)

    def _wait(self, operation: Operation, seconds: float, deadline: float, request_id: str | None = None) -> None:
        if time.monotonic() + seconds > deadline:
            raise PlatformError(
                PLATFORM,
                "THROTTLED",
                f"{operation.name}: the shop's query-cost budget stays exhausted",
                kind=ErrorKind.RATE_LIMITED,
                request_id=request_id,
                retryable=True,
            )
        # A little jitter so waiting workers do not all ask in the same millisecond.
        pause = seconds + self._rng() * 0.01
        limiter_wait_observe(platform=PLATFORM, seconds=pause)
        self._sleep(pause)

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": at least half the step.
        step: float = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2 ** (attempt - 1))
        return step / 2 + self._rng() * step / 2

    # --- tokens -----------------------------------------------------------------------------------------------------
    def _refresh_if_expiring(self) -> None:
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        tokens = self._tokens
        if not tokens.refresh_token or not tokens.access_expires_within(self.config.token_refresh_margin_seconds, now):
            return
        try:
            self._refresh(tokens.access_token)
        except PlatformError as exc:
            # Proactive only: while the current token still works, a failed refresh must not fail the call.
            if tokens.access_token_expires_at > now:
                log.warning("shopify proactive token refresh for %s failed (%s)", self.shop, exc.code)
                return
            raise

    def _refresh(self, stale_access_token: str) -> None:
        with self._refresh_lock:
            if self._tokens.access_token != stale_access_token:
                return  # another thread of this client refreshed meanwhile
            if self._refresh_tokens is not None:
                # One refresh across every worker (the core locks the seller's row, refreshes only if nobody did
                # meanwhile, and saves at once): a rotated refresh token is never used twice.
                self._tokens = self._refresh_tokens(self._tokens, self._auth.refresh)
                return
            new_tokens = self._auth.refresh(self._tokens)
            self._tokens = new_tokens
        log.info("shopify access token refreshed for %s", self.shop)
        if self._on_tokens_refreshed is not None:
            # The refresh token rotated: the old one dies once the new access token is used, so persist first.
            self._on_tokens_refreshed(new_tokens)


def _outcome(answer: Mapping[str, Any] | _Throttled | PlatformError) -> object:
    """An attempt's outcome for erp.metrics: ok, THROTTLED, or the error's code."""
    if isinstance(answer, Mapping):
        return "ok"
    return "THROTTLED" if isinstance(answer, _Throttled) else answer.code


def user_errors(payload: Any) -> list[Mapping[str, Any]]:
    """A mutation payload's userErrors (§10.3: an HTTP 200 with these is a refusal)."""
    errors = payload.get("userErrors") if isinstance(payload, Mapping) else None
    return [e for e in errors or () if isinstance(e, Mapping)]


def _user_messages(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(str(e.get("message", "")) for e in errors)[:500]


def _codes(payload: Mapping[str, Any]) -> set[str]:
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return set()
    return {
        str(e["extensions"]["code"])
        for e in errors
        if isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code")
    }


def _messages(payload: Mapping[str, Any]) -> str:
    """Shopify's words: `errors` is a list of {message} for GraphQL, a string or an object for HTTP refusals."""
    errors = payload.get("errors")
    if isinstance(errors, str):
        return errors[:500]
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))[:500]
    if isinstance(errors, dict):
        return json.dumps(errors)[:500]
    return ""


def batched(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
