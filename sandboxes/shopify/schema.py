"""The GraphQL Admin API subset (SDL) and its resolvers over the sandbox world.

Nodes are plain dicts; graphql-core's default resolver calls a callable value with the field arguments,
which is how connections (`lineItems(first:)`) take their arguments.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, build_schema

from .state import Address, Location, Order, Shop, World, gid, iso

SDL = """
scalar DateTime
scalar Decimal
scalar URL

enum CurrencyCode { USD GBP CAD EUR }
enum OrderSortKeys { CREATED_AT UPDATED_AT ID PROCESSED_AT ORDER_NUMBER }
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
enum FulfillmentOrderAction { CREATE_FULFILLMENT HOLD MOVE CANCEL_FULFILLMENT_ORDER REQUEST_FULFILLMENT }

type Query {
  shop: Shop!
  locations(first: Int, after: String): LocationConnection!
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection!
  order(id: ID!): Order
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
type InventoryItem { id: ID! sku: String tracked: Boolean! }
type ProductVariant {
  id: ID!
  title: String!
  sku: String
  price: Decimal!
  product: Product!
  inventoryItem: InventoryItem!
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

type FulfillmentOrderLocation { location: Location }
type FulfillmentOrderSupportedAction { action: FulfillmentOrderAction! }
type FulfillmentOrderLineItem { id: ID! totalQuantity: Int! remainingQuantity: Int! lineItem: LineItem! }
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
  assignedLocation: FulfillmentOrderLocation!
  supportedActions: [FulfillmentOrderSupportedAction!]!
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!
}
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrderConnection { edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }

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
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }
"""

SCHEMA = build_schema(SDL)

# Scope needed per root field (§2.6); `shop` needs none.
ROOT_SCOPES = {"orders": "read_orders", "order": "read_orders", "locations": "read_locations"}


class Context:
    def __init__(self, world: World, shop: Shop, scopes: list[str], now: float, cfg: Any) -> None:
        self.world = world
        self.shop = shop
        self.scopes = scopes
        self.now = now
        self.cfg = cfg


def access_denied(field: str, scope: str) -> GraphQLError:
    return GraphQLError(
        f"Access denied for {field} field. Required access: `{scope}` access scope.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"`{scope}` access scope.",
        },
    )


def _check_scope(info: GraphQLResolveInfo, field: str) -> Context:
    ctx: Context = info.context
    scope = ROOT_SCOPES.get(field)
    # write_X implies read_X in Shopify's scope model.
    if scope and scope not in ctx.scopes and scope.replace("read_", "write_") not in ctx.scopes:
        raise access_denied(field, scope)
    return ctx


def _page_size(first: int | None, field: str, cfg: Any) -> int:
    if first is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST", "field": field})
    if first < 0 or first > cfg.max_page_size:
        raise GraphQLError(
            f"The maximum number of items in a single page is {cfg.max_page_size}; `first` was {first}.",
            extensions={"code": "MAX_PAGE_SIZE_EXCEEDED", "argumentName": "first", "maximum": cfg.max_page_size},
        )
    return first


def encode_cursor(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        if not isinstance(data, dict) or "last_id" not in data:
            raise ValueError(cursor)
        return data
    except ValueError as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}) from exc


def connection(
    items: list[Any], key: Any, first: int, after: str | None, render: Any, reverse: bool = False
) -> dict[str, Any]:
    """Relay connection over `items` ordered by key(item) -> (sort value, id)."""
    ordered = sorted(items, key=key, reverse=reverse)
    if after:
        c = decode_cursor(after)
        mark = (c.get("last_value"), c["last_id"])
        ordered = [i for i in ordered if (key(i) < mark if reverse else key(i) > mark)]
    page = ordered[:first]
    edges = []
    for item in page:
        value, ident = key(item)
        edges.append({"cursor": encode_cursor({"last_id": ident, "last_value": value}), "node": render(item)})
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": len(ordered) > first,
            "hasPreviousPage": bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# ---------------------------------------------------------------------------------------------- search syntax
TERM_RE = re.compile(r"""(?P<neg>-)?(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>'[^']*'|"[^"]*"|\S+)""")


def parse_time(value: str) -> float:
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00Z"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()
    except ValueError as exc:
        raise GraphQLError(f"Invalid date in search query: {value!r}", extensions={"code": "BAD_REQUEST"}) from exc


def _compare(left: float, op: str, right: float) -> bool:
    return {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
        "": left == right,
    }[op]


def order_filter(query: str | None) -> Any:
    """Shopify search syntax, the part an importer uses: created_at/updated_at ranges, status, id, name,
    fulfillment_status. Terms are ANDed; unknown fields are ignored (see docs)."""
    terms = []
    for m in TERM_RE.finditer(query or ""):
        value = m["value"].strip("'\"")
        terms.append((m["neg"] == "-", m["field"], m["op"] or "", value))

    def keep(order: Order) -> bool:
        for neg, field, op, value in terms:
            if field in ("updated_at", "created_at", "processed_at"):
                stamp = order.updated_at if field == "updated_at" else order.created_at
                ok = _compare(int(stamp), op, parse_time(value))
            elif field == "id":
                ok = _compare(order.id, op, float(value.rsplit("/", 1)[-1]))
            elif field == "name":
                ok = order.name == (value if value.startswith("#") else f"#{value}")
            elif field == "status":
                closed = order.display_fulfillment_status() == "FULFILLED"
                state = "cancelled" if order.cancelled_at is not None else ("closed" if closed else "open")
                ok = value == "any" or value == state
            elif field == "fulfillment_status":
                fs = order.display_fulfillment_status()
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


# ---------------------------------------------------------------------------------------------- renderers
def money(amount: Decimal, currency: str) -> dict[str, Any]:
    m = {"amount": f"{amount:.2f}", "currencyCode": currency}
    return {"shopMoney": m, "presentmentMoney": dict(m)}


def mailing(addr: Address | None) -> dict[str, Any] | None:
    if addr is None:
        return None
    return {
        "name": addr.name,
        "company": addr.company,
        "address1": addr.address1,
        "address2": addr.address2,
        "city": addr.city,
        "provinceCode": addr.province_code,
        "zip": addr.zip,
        "countryCodeV2": addr.country_code,
        "phone": addr.phone,
    }


def render_location(loc: Location) -> dict[str, Any]:
    a = loc.address
    return {
        "id": gid("Location", loc.id),
        "name": loc.name,
        "isActive": loc.is_active,
        "address": {
            "address1": a.address1,
            "city": a.city,
            "provinceCode": a.province_code,
            "zip": a.zip,
            "countryCode": a.country_code,
        },
    }


def _id_key(item: Any) -> tuple[int, int]:
    return (item.id, item.id)


def render_order(world: World, order: Order, cfg: Any) -> dict[str, Any]:
    cur = order.currency

    def line(li: Any) -> dict[str, Any]:
        variant = world.variants[li.variant_id]
        product = world.products[variant.product_id]
        return {
            "id": gid("LineItem", li.id),
            "name": f"{li.title} - {variant.title}",
            "title": li.title,
            "sku": li.sku,
            "quantity": li.quantity,
            "currentQuantity": li.current_quantity,
            "unfulfilledQuantity": max(0, li.current_quantity - li.fulfilled_quantity)
            if order.cancelled_at is None
            else 0,
            "originalUnitPriceSet": money(li.unit_price, cur),
            "variant": {
                "id": gid("ProductVariant", variant.id),
                "title": variant.title,
                "sku": variant.sku,
                "price": f"{variant.price:.2f}",
                "product": {"id": gid("Product", product.id), "title": product.title, "handle": product.handle},
                "inventoryItem": {
                    "id": gid("InventoryItem", variant.inventory_item_id),
                    "sku": variant.sku,
                    "tracked": True,
                },
            },
        }

    def line_items(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
        return connection(order.line_items, _id_key, _page_size(first, "lineItems", cfg), after, line)

    def fo_line(li: Any) -> dict[str, Any]:
        remaining = 0 if order.cancelled_at is not None else max(0, li.current_quantity - li.fulfilled_quantity)
        return {
            "id": gid("FulfillmentOrderLineItem", li.fulfillment_order_line_item_id),
            "totalQuantity": li.current_quantity,
            "remainingQuantity": remaining,
            "lineItem": line(li),
        }

    def fulfillment_orders(
        info: GraphQLResolveInfo, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        status = order.fulfillment_order_status()
        actions = ["CREATE_FULFILLMENT", "HOLD", "MOVE"] if status in ("OPEN", "IN_PROGRESS") else []
        fo = {
            "id": gid("FulfillmentOrder", order.fulfillment_order_id),
            "status": status,
            "requestStatus": "UNSUBMITTED",
            "assignedLocation": {"location": render_location(world.locations[order.location_id])},
            "supportedActions": [{"action": a} for a in actions],
            "lineItems": lambda info, first=None, after=None: connection(
                order.line_items,
                _id_key,
                _page_size(first, "lineItems", cfg),
                after,
                fo_line,
            ),
        }
        page = _page_size(first, "fulfillmentOrders", cfg)
        edges = [{"cursor": encode_cursor({"last_id": order.fulfillment_order_id}), "node": fo}][:page]
        return {
            "edges": edges,
            "nodes": [e["node"] for e in edges],
            "pageInfo": {
                "hasNextPage": False,
                "hasPreviousPage": bool(after),
                "startCursor": edges[0]["cursor"] if edges else None,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }

    status = order.display_fulfillment_status()
    return {
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "email": order.email,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": iso(order.cancelled_at),
        "cancelReason": order.cancel_reason,
        "closed": order.cancelled_at is not None or status == "FULFILLED",
        "edited": order.edited,
        "displayFulfillmentStatus": status,
        "displayFinancialStatus": order.financial_status,
        "currencyCode": cur,
        "subtotalPriceSet": money(order.subtotal(), cur),
        "totalShippingPriceSet": money(order.shipping_price, cur),
        "totalPriceSet": money(order.total(), cur),
        "currentTotalPriceSet": money(Decimal("0.00") if order.cancelled_at else order.total(), cur),
        "shippingAddress": mailing(order.shipping_address),
        "lineItems": line_items,
        "fulfillmentOrders": fulfillment_orders,
    }


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
    ctx = _check_scope(info, "orders")
    size = _page_size(first, "orders", ctx.cfg)
    keep = order_filter(query)
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
    ctx = _check_scope(info, "order")
    m = re.fullmatch(r"gid://shopify/Order/(\d+)", id)
    if not m:
        raise GraphQLError(f"Invalid global id '{id}'", extensions={"code": "BAD_REQUEST"})
    for o in visible_orders(ctx):
        if o.id == int(m.group(1)):
            return render_order(ctx.world, o, ctx.cfg)
    return None


def resolve_locations(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
    ctx = _check_scope(info, "locations")
    locs = [ctx.world.locations[i] for i in ctx.shop.location_ids]
    return connection(locs, _id_key, _page_size(first, "locations", ctx.cfg), after, render_location)


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


ROOT_VALUE = {
    "shop": resolve_shop,
    "locations": resolve_locations,
    "orders": resolve_orders,
    "order": resolve_order,
}
