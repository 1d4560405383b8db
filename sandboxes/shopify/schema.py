"""The GraphQL Admin API subset (SDL), one schema per rule set, and the root query resolvers.

Two schemas differ only in the inventory inputs: from 2026-04 `InventoryQuantityInput` has no `compareQuantity` and
`InventorySetQuantitiesInput` no `ignoreCompareQuantity` (§5.1: removed), so a client still sending them gets the
validation error Shopify gives for an unknown field; versions before 2026-04 keep them.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, build_schema

from .graph import (
    FO_READ_SCOPES,
    Context,
    compare,
    connection,
    id_key,
    node_id,
    page_size,
    parse_time,
    require,
    search_groups,
    search_terms,
    text_match,
    version_at_least,
)
from .mutations import MUTATIONS
from .render import render_fo, render_item, render_location, render_order, render_subscription, render_variant
from .state import FulfillmentOrder, InventoryItem, Order, Shop, Variant, World, gid
from .topics import ENUM_TO_TOPIC, enum_name

SDL = """
scalar DateTime
scalar Decimal
scalar URL

"Shopify's idempotency directive (§5.3): the same key answers the first result again."
directive @idempotent(key: String!) on FIELD

enum CurrencyCode { USD GBP CAD EUR }
enum OrderSortKeys { CREATED_AT UPDATED_AT ID PROCESSED_AT ORDER_NUMBER }
enum ProductVariantSortKeys { ID SKU TITLE }
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT RESTOCKED SCHEDULED UNFULFILLED
}
enum OrderDisplayFinancialStatus {
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum FulfillmentOrderStatus { CANCELLED CLOSED IN_PROGRESS INCOMPLETE ON_HOLD OPEN SCHEDULED }
enum FulfillmentOrderRequestStatus {
  ACCEPTED CANCELLATION_ACCEPTED CANCELLATION_REJECTED CANCELLATION_REQUESTED CLOSED REJECTED SUBMITTED UNSUBMITTED
}
enum FulfillmentOrderAction {
  CANCEL_FULFILLMENT_ORDER CREATE_FULFILLMENT EXTERNAL HOLD MARK_AS_OPEN MERGE MOVE RELEASE_HOLD
  REQUEST_CANCELLATION REQUEST_FULFILLMENT SPLIT
}
enum FulfillmentHoldReason {
  AWAITING_PAYMENT AWAITING_RETURN_ITEMS HIGH_RISK_OF_FRAUD INCORRECT_ADDRESS INVENTORY_OUT_OF_STOCK OTHER
  UNKNOWN_DELIVERY_DATE
}
enum FulfillmentStatus { CANCELLED ERROR FAILURE SUCCESS OPEN PENDING }
enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED INVALID_INVENTORY_ITEM INVALID_LOCATION
  INVALID_NAME INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH INVALID_QUANTITY_TOO_LOW INVALID_REASON
  INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
  NON_MUTABLE_INVENTORY_ITEM
}
enum InventoryAdjustQuantitiesUserErrorCode {
  ADJUST_QUANTITIES_FAILED CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH INTERNAL_LEDGER_DOCUMENT INVALID_AVAILABLE_DOCUMENT INVALID_INVENTORY_ITEM
  INVALID_LEDGER_DOCUMENT INVALID_LOCATION INVALID_QUANTITY_DOCUMENT INVALID_QUANTITY_NAME INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  MAX_ONE_LEDGER_DOCUMENT NON_MUTABLE_INVENTORY_ITEM
}
enum WebhookSubscriptionTopic { %(topics)s }
enum WebhookSubscriptionFormat { JSON XML }

type Query {
  shop: Shop!
  locations(first: Int, after: String): LocationConnection!
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection!
  order(id: ID!): Order
  productVariants(
    first: Int, after: String, query: String, sortKey: ProductVariantSortKeys, reverse: Boolean
  ): ProductVariantConnection!
  productVariant(id: ID!): ProductVariant
  inventoryItems(first: Int, after: String, query: String): InventoryItemConnection!
  inventoryItem(id: ID!): InventoryItem
  fulfillmentOrder(id: ID!): FulfillmentOrder
  fulfillmentOrders(first: Int, after: String, includeClosed: Boolean, query: String): FulfillmentOrderConnection!
  webhookSubscriptions(first: Int, after: String, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
  webhookSubscription(id: ID!): WebhookSubscription
}

type Mutation {
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
  webhookSubscriptionCreate(
    topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!
  ): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
}

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

type Shop {
  id: ID!
  name: String!
  myshopifyDomain: String!
  email: String!
  currencyCode: CurrencyCode!
  ianaTimezone: String!
}

type LocationAddress {
  address1: String
  city: String
  provinceCode: String
  zip: String
  countryCode: String
}
type Location { id: ID! name: String! isActive: Boolean! address: LocationAddress! }
type LocationEdge { cursor: String! node: Location! }
type LocationConnection { edges: [LocationEdge!]! nodes: [Location!]! pageInfo: PageInfo! }

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

type MailingAddress {
  name: String
  company: String
  address1: String
  address2: String
  city: String
  provinceCode: String
  zip: String
  countryCodeV2: String
  phone: String
}

type Product { id: ID! title: String! handle: String! }
type ProductVariant {
  id: ID!
  legacyResourceId: String!
  title: String!
  displayName: String!
  sku: String
  price: Decimal!
  inventoryQuantity: Int
  createdAt: DateTime!
  updatedAt: DateTime!
  product: Product!
  inventoryItem: InventoryItem!
}
type ProductVariantEdge { cursor: String! node: ProductVariant! }
type ProductVariantConnection { edges: [ProductVariantEdge!]! nodes: [ProductVariant!]! pageInfo: PageInfo! }

type InventoryQuantity { id: ID! name: String! quantity: Int! updatedAt: DateTime }
type InventoryLevel {
  id: ID!
  createdAt: DateTime!
  updatedAt: DateTime!
  location: Location!
  item: InventoryItem!
  quantities(names: [String!]!): [InventoryQuantity!]!
}
type InventoryLevelEdge { cursor: String! node: InventoryLevel! }
type InventoryLevelConnection { edges: [InventoryLevelEdge!]! nodes: [InventoryLevel!]! pageInfo: PageInfo! }
type InventoryItem {
  id: ID!
  legacyResourceId: String!
  sku: String
  tracked: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  variant: ProductVariant!
  inventoryLevels(first: Int, after: String): InventoryLevelConnection!
  inventoryLevel(locationId: ID!): InventoryLevel
}
type InventoryItemEdge { cursor: String! node: InventoryItem! }
type InventoryItemConnection { edges: [InventoryItemEdge!]! nodes: [InventoryItem!]! pageInfo: PageInfo! }

type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  item: InventoryItem
  location: Location
  ledgerDocumentUri: String
}
type InventoryAdjustmentGroup {
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: String
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}

type LineItem {
  id: ID!
  name: String!
  title: String!
  sku: String
  quantity: Int!
  currentQuantity: Int!
  unfulfilledQuantity: Int!
  originalUnitPriceSet: MoneyBag!
  variant: ProductVariant
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }

type FulfillmentOrderLocation {
  location: Location
  name: String!
  address1: String
  city: String
  provinceCode: String
  zip: String
  countryCode: String!
}
type FulfillmentOrderSupportedAction { action: FulfillmentOrderAction! }
type FulfillmentHold { id: ID! reason: FulfillmentHoldReason! reasonNotes: String }
type FulfillmentOrderLineItem {
  id: ID!
  totalQuantity: Int!
  remainingQuantity: Int!
  sku: String
  inventoryItemId: ID
  lineItem: LineItem!
}
type FulfillmentOrderLineItemEdge { cursor: String! node: FulfillmentOrderLineItem! }
type FulfillmentOrderLineItemConnection {
  edges: [FulfillmentOrderLineItemEdge!]!
  nodes: [FulfillmentOrderLineItem!]!
  pageInfo: PageInfo!
}
type FulfillmentOrder {
  id: ID!
  status: FulfillmentOrderStatus!
  requestStatus: FulfillmentOrderRequestStatus!
  createdAt: DateTime!
  updatedAt: DateTime!
  fulfillAt: DateTime
  orderId: ID!
  orderName: String!
  order: Order!
  assignedLocation: FulfillmentOrderLocation!
  supportedActions: [FulfillmentOrderSupportedAction!]!
  fulfillmentHolds: [FulfillmentHold!]!
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!
}
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrderConnection { edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }

type FulfillmentTrackingInfo { company: String number: String url: URL }
type FulfillmentLineItem { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentLineItemEdge { cursor: String! node: FulfillmentLineItem! }
type FulfillmentLineItemConnection {
  edges: [FulfillmentLineItemEdge!]!
  nodes: [FulfillmentLineItem!]!
  pageInfo: PageInfo!
}
type Fulfillment {
  id: ID!
  legacyResourceId: String!
  name: String!
  status: FulfillmentStatus!
  createdAt: DateTime!
  updatedAt: DateTime!
  totalQuantity: Int!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String): FulfillmentLineItemConnection!
  location: Location
  order: Order!
}

type Order {
  id: ID!
  legacyResourceId: String!
  name: String!
  email: String
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closed: Boolean!
  edited: Boolean!
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  displayFinancialStatus: OrderDisplayFinancialStatus
  currencyCode: CurrencyCode!
  subtotalPriceSet: MoneyBag!
  totalShippingPriceSet: MoneyBag!
  totalPriceSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  shippingAddress: MailingAddress
  lineItems(first: Int, after: String): LineItemConnection!
  fulfillmentOrders(first: Int, after: String): FulfillmentOrderConnection!
  fulfillments(first: Int): [Fulfillment!]!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

type ApiVersion { handle: String! displayName: String! supported: Boolean! }
type WebhookSubscription {
  id: ID!
  legacyResourceId: String!
  topic: WebhookSubscriptionTopic!
  uri: String!
  format: WebhookSubscriptionFormat!
  includeFields: [String!]!
  filter: String
  apiVersion: ApiVersion!
  createdAt: DateTime!
  updatedAt: DateTime!
}
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection {
  edges: [WebhookSubscriptionEdge!]!
  nodes: [WebhookSubscription!]!
  pageInfo: PageInfo!
}

type UserError { field: [String!] message: String! }
type InventorySetQuantitiesUserError { code: InventorySetQuantitiesUserErrorCode field: [String!] message: String! }
type InventoryAdjustQuantitiesUserError {
  code: InventoryAdjustQuantitiesUserErrorCode
  field: [String!]
  message: String!
}
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}
type InventoryAdjustQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventoryAdjustQuantitiesUserError!]!
}
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }

input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID!
  fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput { company: String number: String numbers: [String!] url: URL urls: [URL!] }
input FulfillmentOriginAddressInput {
  address1: String
  address2: String
  city: String
  countryCode: String!
  provinceCode: String
  zip: String
}
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  notifyCustomer: Boolean = false
  originAddress: FulfillmentOriginAddressInput
  trackingInfo: FulfillmentTrackingInput
}
input InventoryChangeInput {
  delta: Int!
  inventoryItemId: ID!
  locationId: ID!
  ledgerDocumentUri: String
  changeFromQuantity: Int
}
input InventoryAdjustQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  changes: [InventoryChangeInput!]!
}
input WebhookSubscriptionInput {
  uri: String
  callbackUrl: URL
  format: WebhookSubscriptionFormat
  includeFields: [String!]
  filter: String
  metafieldNamespaces: [String!]
}
"""

# §5.1, 2026-04 and later: compare-and-swap through changeFromQuantity only.
SET_INPUTS_2026_04 = """
input InventoryQuantityInput { inventoryItemId: ID! locationId: ID! quantity: Int! changeFromQuantity: Int }
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
}
"""

# Before 2026-04: compareQuantity / ignoreCompareQuantity, with changeFromQuantity added in 2026-01.
SET_INPUTS_LEGACY = """
input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  compareQuantity: Int
  changeFromQuantity: Int
}
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
  ignoreCompareQuantity: Boolean = false
}
"""

_BASE = SDL % {"topics": " ".join(sorted(ENUM_TO_TOPIC))}
SCHEMA = build_schema(_BASE + SET_INPUTS_2026_04)
SCHEMA_LEGACY = build_schema(_BASE + SET_INPUTS_LEGACY)


def schema_for(version: str) -> Any:
    return SCHEMA if version_at_least(version, "2026-04") else SCHEMA_LEGACY


# Scope needed per root field (§2.6); `shop` needs none.
ORDER_SCOPE = "read_orders"


# ---------------------------------------------------------------------------------------------- orders
def order_filter(world: World, query: str | None) -> Any:
    """Shopify search syntax, the part an importer uses: created_at/updated_at ranges, status, id, name,
    fulfillment_status. Terms are ANDed; unknown fields are ignored (see docs)."""
    terms = search_terms(query)

    def keep(order: Order) -> bool:
        for neg, field, op, value in terms:
            if field in ("updated_at", "created_at", "processed_at"):
                stamp = order.updated_at if field == "updated_at" else order.created_at
                ok = compare(int(stamp), op, parse_time(value))
            elif field == "id":
                ok = compare(order.id, op, float(value.rsplit("/", 1)[-1]))
            elif field == "name":
                ok = order.name == (value if value.startswith("#") else f"#{value}")
            elif field == "status":
                closed = world.order_status(order) == "FULFILLED"
                state = "cancelled" if order.cancelled_at is not None else ("closed" if closed else "open")
                ok = value == "any" or value == state
            elif field == "fulfillment_status":
                fs = world.order_status(order)
                ok = value == "any" or {
                    "unshipped": fs == "UNFULFILLED",
                    "unfulfilled": fs in ("UNFULFILLED", "PARTIALLY_FULFILLED"),
                    "partial": fs == "PARTIALLY_FULFILLED",
                    "shipped": fs == "FULFILLED",
                    "fulfilled": fs == "FULFILLED",
                }.get(value, True)
            else:
                continue
            if ok == neg:
                return False
        return True

    return keep


SORT_FIELDS = {
    "ID": lambda o: o.id,
    "CREATED_AT": lambda o: int(o.created_at),
    "PROCESSED_AT": lambda o: int(o.created_at),
    "UPDATED_AT": lambda o: int(o.updated_at),
    "ORDER_NUMBER": lambda o: o.number,
}


def visible_orders(ctx: Context) -> list[Order]:
    orders = [o for o in ctx.world.orders.values() if o.shop_id == ctx.shop.id]
    if "read_all_orders" not in ctx.scopes:
        # §3.3: older orders are simply absent, with no error.
        horizon = ctx.now - ctx.cfg.recent_orders_days * 86_400
        orders = [o for o in orders if o.created_at >= horizon]
    return orders


def resolve_orders(
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    query: str | None = None,
    sortKey: str | None = None,
    reverse: bool | None = False,
) -> dict[str, Any]:
    ctx = require(info, "orders", ORDER_SCOPE)
    size = page_size(first, "orders", ctx.cfg)
    keep = order_filter(ctx.world, query)
    sort = SORT_FIELDS[sortKey or "ID"]
    orders = [o for o in visible_orders(ctx) if keep(o)]
    return connection(
        orders,
        lambda o: (sort(o), o.id),
        size,
        after,
        lambda o: render_order(ctx.world, o, ctx.cfg),
        reverse=bool(reverse),
    )


def resolve_order(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    ctx = require(info, "order", ORDER_SCOPE)
    number = node_id(id, "Order")
    for o in visible_orders(ctx):
        if o.id == number:
            return render_order(ctx.world, o, ctx.cfg)
    return None


def resolve_locations(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
    ctx = require(info, "locations", "read_locations")
    locs = [ctx.world.locations[i] for i in ctx.shop.location_ids]
    return connection(locs, id_key, page_size(first, "locations", ctx.cfg), after, render_location)


def resolve_shop(info: GraphQLResolveInfo) -> dict[str, Any]:
    shop: Shop = info.context.shop
    return {
        "id": gid("Shop", shop.id),
        "name": shop.name,
        "myshopifyDomain": shop.myshopify_domain,
        "email": shop.email,
        "currencyCode": shop.currency,
        "ianaTimezone": shop.timezone,
    }


# ---------------------------------------------------------------------------------------------- catalogue (§5)
def _variant_matches(world: World, variant: Variant, query: str | None) -> bool:
    """productVariants(query:): `sku:` (exact, case-insensitive, `*` suffix for a prefix), `id:`, `product_id:`,
    `title:`; bare words match the SKU or title. Terms ANDed, `OR` between groups."""
    groups = search_groups(query)
    if not groups:
        return True
    product = world.products[variant.product_id]
    for terms, words in groups:
        ok = True
        for neg, field, _op, value in terms:
            if field == "sku":
                hit = text_match(variant.sku, value)
            elif field == "id":
                hit = str(variant.id) == value.rsplit("/", 1)[-1]
            elif field == "product_id":
                hit = str(product.id) == value.rsplit("/", 1)[-1]
            elif field == "title":
                hit = text_match(variant.title, value) or text_match(product.title, value)
            else:
                continue
            if hit == neg:
                ok = False
        for w in words:
            if w.lower() not in f"{variant.sku} {product.title} {variant.title}".lower():
                ok = False
        if ok:
            return True
    return False


def _item_matches(item: InventoryItem, query: str | None) -> bool:
    groups = search_groups(query)
    if not groups:
        return True
    for terms, words in groups:
        ok = not words or all(w.lower() in item.sku.lower() for w in words)
        for neg, field, _op, value in terms:
            if field == "sku":
                hit = text_match(item.sku, value)
            elif field == "id":
                hit = str(item.id) == value.rsplit("/", 1)[-1]
            else:
                continue
            if hit == neg:
                ok = False
        if ok:
            return True
    return False


VARIANT_SORT = {
    "ID": lambda v: (v.id, v.id),
    "SKU": lambda v: (v.sku, v.id),
    "TITLE": lambda v: (v.title, v.id),
}


def resolve_product_variants(
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    query: str | None = None,
    sortKey: str | None = None,
    reverse: bool | None = False,
) -> dict[str, Any]:
    ctx = require(info, "productVariants", "read_products")
    size = page_size(first, "productVariants", ctx.cfg)
    variants = [v for v in ctx.world.shop_variants(ctx.shop.id) if _variant_matches(ctx.world, v, query)]
    return connection(
        variants,
        VARIANT_SORT[sortKey or "ID"],
        size,
        after,
        lambda v: render_variant(ctx.world, v),
        reverse=bool(reverse),
    )


def resolve_product_variant(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    ctx = require(info, "productVariant", "read_products")
    number = node_id(id, "ProductVariant")
    variant = ctx.world.variants.get(number) if number is not None else None
    if variant is None or ctx.world.products[variant.product_id].shop_id != ctx.shop.id:
        return None
    return render_variant(ctx.world, variant)


def _shop_items(ctx: Context) -> list[InventoryItem]:
    return [ctx.world.inventory_items[v.inventory_item_id] for v in ctx.world.shop_variants(ctx.shop.id)]


def resolve_inventory_items(
    info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, query: str | None = None
) -> dict[str, Any]:
    ctx = require(info, "inventoryItems", "read_inventory")
    size = page_size(first, "inventoryItems", ctx.cfg)
    items = [i for i in _shop_items(ctx) if _item_matches(i, query)]
    return connection(items, id_key, size, after, lambda i: render_item(ctx.world, i))


def resolve_inventory_item(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    ctx = require(info, "inventoryItem", "read_inventory")
    number = node_id(id, "InventoryItem")
    item = ctx.world.inventory_items.get(number) if number is not None else None
    if item is None or ctx.world.item_shop(item) != ctx.shop.id:
        return None
    return render_item(ctx.world, item)


# ---------------------------------------------------------------------------------------------- fulfillment orders (§4)
def resolve_fulfillment_order(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    ctx = require(info, "fulfillmentOrder", *FO_READ_SCOPES)
    number = node_id(id, "FulfillmentOrder")
    fo = ctx.world.fulfillment_orders.get(number) if number is not None else None
    if fo is None or fo.shop_id != ctx.shop.id:
        return None
    return render_fo(ctx.world, fo, ctx.cfg)


def resolve_fulfillment_orders(
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    includeClosed: bool | None = False,
    query: str | None = None,
) -> dict[str, Any]:
    """The shop's fulfillment orders, open ones only unless includeClosed; `status:` and `location_id:` filters."""
    ctx = require(info, "fulfillmentOrders", *FO_READ_SCOPES)
    size = page_size(first, "fulfillmentOrders", ctx.cfg)
    terms = search_terms(query)

    def keep(fo: FulfillmentOrder) -> bool:
        status = ctx.world.fo_status(fo)
        if not includeClosed and status in ("CLOSED", "CANCELLED"):
            return False
        for neg, field, _op, value in terms:
            if field == "status":
                hit = status.lower() == value.lower()
            elif field == "location_id":
                hit = str(fo.location_id) == value.rsplit("/", 1)[-1]
            else:
                continue
            if hit == neg:
                return False
        return True

    fos = [fo for fo in ctx.world.fulfillment_orders.values() if fo.shop_id == ctx.shop.id and keep(fo)]
    return connection(fos, id_key, size, after, lambda fo: render_fo(ctx.world, fo, ctx.cfg))


# ---------------------------------------------------------------------------------------------- webhooks (§7.4)
def resolve_webhook_subscriptions(
    info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, topics: list[str] | None = None
) -> dict[str, Any]:
    ctx = require(info, "webhookSubscriptions")
    size = page_size(first, "webhookSubscriptions", ctx.cfg)
    subs = [
        s
        for s in ctx.world.subscriptions.values()
        if s.client_id == ctx.client_id and s.shop_id == ctx.shop.id and (not topics or enum_name(s.topic) in topics)
    ]
    return connection(subs, id_key, size, after, lambda s: render_subscription(s, ctx.supported))


def resolve_webhook_subscription(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    ctx = require(info, "webhookSubscription")
    number = node_id(id, "WebhookSubscription")
    sub = ctx.world.subscriptions.get(number) if number is not None else None
    if sub is None or sub.client_id != ctx.client_id or sub.shop_id != ctx.shop.id:
        return None
    return render_subscription(sub, ctx.supported)


ROOT_VALUE: dict[str, Any] = {
    "shop": resolve_shop,
    "locations": resolve_locations,
    "orders": resolve_orders,
    "order": resolve_order,
    "productVariants": resolve_product_variants,
    "productVariant": resolve_product_variant,
    "inventoryItems": resolve_inventory_items,
    "inventoryItem": resolve_inventory_item,
    "fulfillmentOrder": resolve_fulfillment_order,
    "fulfillmentOrders": resolve_fulfillment_orders,
    "webhookSubscriptions": resolve_webhook_subscriptions,
    "webhookSubscription": resolve_webhook_subscription,
    **MUTATIONS,
}
