"""Pure functions: Shopify GraphQL Admin JSON <-> Dropline dataclasses. No I/O, no Django.

Ids: Dropline holds Shopify's numeric ids ("5600000001"); Shopify's GraphQL speaks global ids
("gid://shopify/Order/5600000001"). `gid` and `numeric` convert at the adapter's edge, nowhere else.
Tolerant on input: a field Shopify leaves null (a redacted address, a deleted variant) becomes "" / None.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.interface import (
    Address,
    FulfilledBy,
    InventoryLevel,
    InventoryUpdate,
    LabelSource,
    Money,
    OrderStatus,
    OrderTotals,
    PlatformOrder,
    PlatformOrderLine,
    Product,
    ProductSku,
    TokenSet,
    Warehouse,
    WarehouseStock,
)

log = logging.getLogger(__name__)

PLATFORM = "shopify"
_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(?:\?.*)?$")

# OrderDisplayFulfillmentStatus (§3.2) -> Dropline. ON_HOLD (the merchant's hold on its fulfillment orders) and
# SCHEDULED (a prepaid order fulfilled later) are not to ship yet: Dropline's ON_HOLD keeps them off the to-ship list,
# the routing and the supplier's page until Shopify releases them (report_shipment says NOT_SHIPPABLE_YET meanwhile;
# found in Chromium, where a supplier's tracking for a held order was refused). RESTOCKED: every unit was refunded and
# restocked, nothing is left to ship, so Dropline releases it like a cancelled order.
FULFILLMENT_STATUSES = {
    "UNFULFILLED": OrderStatus.AWAITING_SHIPMENT,
    "OPEN": OrderStatus.AWAITING_SHIPMENT,  # "replaced by UNFULFILLED"
    "IN_PROGRESS": OrderStatus.AWAITING_SHIPMENT,
    "SCHEDULED": OrderStatus.ON_HOLD,
    "PENDING_FULFILLMENT": OrderStatus.AWAITING_SHIPMENT,
    "ON_HOLD": OrderStatus.ON_HOLD,
    "REQUEST_DECLINED": OrderStatus.AWAITING_SHIPMENT,  # a fulfillment service declined: the merchant ships it
    "PARTIALLY_FULFILLED": OrderStatus.PARTIALLY_SHIPPING,
    "FULFILLED": OrderStatus.IN_TRANSIT,
    "RESTOCKED": OrderStatus.CANCELLED,
}
# OrderDisplayFinancialStatus: money not (fully) in yet. AUTHORIZED is not among them: the payment is reserved and
# Shopify captures it at fulfilment when the shop captures manually, so the order ships.
UNPAID_FINANCIAL = frozenset({"PENDING", "PARTIALLY_PAID", "EXPIRED", "VOIDED"})
PAID_FINANCIAL = frozenset({"AUTHORIZED", "PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
# A fulfillment in these states shipped units (FulfillmentStatus, §3.2; OPEN/PENDING are deprecated but live ones).
LIVE_FULFILLMENTS = frozenset({"SUCCESS", "OPEN", "PENDING"})
COMPLETED = "COMPLETED"  # a line's package status once a fulfillment holds it
CANCELLED_LINE = "CANCELLED"


# ---------------------------------------------------------------------------------------------------------- ids
def gid(kind: str, numeric_id: str | int) -> str:
    return f"gid://shopify/{kind}/{numeric_id}"


def numeric(global_id: Any) -> str:
    """The numeric id of a GID ("gid://shopify/Order/5600000001" -> "5600000001"); "" for anything else."""
    match = _GID.match(global_id) if isinstance(global_id, str) else None
    return match.group(2) if match else ""


def is_numeric_id(value: str) -> bool:
    return value.isascii() and value.isdigit()


# ---------------------------------------------------------------------------------------------------- scalars
def parse_time(value: Any) -> datetime | None:
    """Shopify's DateTime ("2026-08-02T10:11:12Z", or with an offset in webhook bodies) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """A search-syntax time: "2026-08-01T00:00:00Z" (whole seconds, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(bag: Any) -> Money | None:
    """A MoneyBag's shop money (the shop's own currency, as the seller accounts)."""
    shop_money = bag.get("shopMoney") if isinstance(bag, Mapping) else None
    if not isinstance(shop_money, Mapping):
        return None
    amount = decimal(shop_money.get("amount"))
    return Money(amount, str(shop_money.get("currencyCode") or "")) if amount is not None else None


def nodes(connection: Any) -> list[Mapping[str, Any]]:
    """A connection's (or a plain list's) objects."""
    if isinstance(connection, list):
        return [n for n in connection if isinstance(n, Mapping)]
    if not isinstance(connection, Mapping):
        return []
    if isinstance(connection.get("nodes"), list):
        return [n for n in connection["nodes"] if isinstance(n, Mapping)]
    return [e["node"] for e in connection.get("edges") or () if isinstance(e, Mapping) and e.get("node")]


def obj(value: Any) -> Mapping[str, Any]:
    """A JSON object, or an empty one for null (or anything else)."""
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return str(value) if value is not None else ""


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


# ------------------------------------------------------------------------------------------------------ tokens
def token_set_from_json(payload: Mapping[str, Any], *, shop: str, now: float) -> TokenSet:
    """§2.4's token response. A non-expiring token (no expires_in) is read as lasting ten years: the core refreshes
    only what expires, and Shopify rejects such tokens for public apps after 2027-01-01 anyway."""
    issued = datetime.fromtimestamp(now, tz=UTC)
    expires_in = payload.get("expires_in")
    refresh_in = payload.get("refresh_token_expires_in")
    return TokenSet(
        access_token=str(payload["access_token"]),
        access_token_expires_at=issued + timedelta(seconds=int(expires_in) if expires_in else 3650 * 86400),
        refresh_token=_text(payload.get("refresh_token")),
        refresh_token_expires_at=issued + timedelta(seconds=int(refresh_in)) if refresh_in else None,
        open_id=shop,
        granted_scopes=tuple(s for s in _text(payload.get("scope")).split(",") if s),
    )


def carry_over(fresh: TokenSet, previous: TokenSet) -> TokenSet:
    """A refresh answer names no shop: keep who it is for, and the scopes when Shopify did not repeat them."""
    return replace(
        fresh,
        seller_name=previous.seller_name,
        seller_base_region=previous.seller_base_region,
        granted_scopes=fresh.granted_scopes or previous.granted_scopes,
    )


# -------------------------------------------------------------------------------------------------------- shop
@dataclass(frozen=True)
class ShopInfo:
    name: str
    domain: str  # the myshopify domain: the Store's external id and the authorization's seller id
    currency: str
    country: str  # where it ships from: its first location's country (ISO 3166-1 alpha-2)


def shop_info_from_json(data: Mapping[str, Any]) -> ShopInfo:
    shop = obj(data.get("shop"))
    first = nodes(data.get("locations"))[:1]
    address = obj(first[0].get("address")) if first else {}
    return ShopInfo(
        name=_text(shop.get("name")),
        domain=_text(shop.get("myshopifyDomain")).lower(),
        currency=_text(shop.get("currencyCode")),
        country=_text(address.get("countryCode")),
    )


# ------------------------------------------------------------------------------------------------------ orders
def order_status(node: Mapping[str, Any]) -> OrderStatus:
    """cancelledAt wins; then what has shipped; then whether it is paid; else what is left to ship."""
    if node.get("cancelledAt"):
        return OrderStatus.CANCELLED
    shipping = node.get("displayFulfillmentStatus")
    financial = node.get("displayFinancialStatus")
    mapped = FULFILLMENT_STATUSES.get(shipping) if isinstance(shipping, str) else None
    if mapped is None:
        log.warning("shopify order %s: unknown displayFulfillmentStatus %r", node.get("id"), shipping)
        return OrderStatus.UNKNOWN
    if mapped in (OrderStatus.IN_TRANSIT, OrderStatus.PARTIALLY_SHIPPING, OrderStatus.CANCELLED):
        return mapped
    if financial is not None and financial not in UNPAID_FINANCIAL | PAID_FINANCIAL:
        log.warning("shopify order %s: unknown displayFinancialStatus %r", node.get("id"), financial)
        return OrderStatus.UNKNOWN
    return OrderStatus.UNPAID if financial in UNPAID_FINANCIAL else mapped


@dataclass(frozen=True)
class _Shipped:
    """Units of one line item in one fulfillment (a parcel)."""

    fulfillment_id: str
    quantity: int
    tracking_number: str
    company: str


def _live_fulfillments(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [f for f in nodes(node.get("fulfillments")) if f.get("status") in LIVE_FULFILLMENTS]


def _tracking(fulfillment: Mapping[str, Any]) -> tuple[str, str]:
    infos = nodes(fulfillment.get("trackingInfo"))
    first = infos[0] if infos else {}
    return _text(first.get("number")), _text(first.get("company"))


def _shipped_by_line(node: Mapping[str, Any]) -> dict[str, list[_Shipped]]:
    shipped: dict[str, list[_Shipped]] = {}
    for fulfillment in sorted(_live_fulfillments(node), key=lambda f: _text(f.get("createdAt"))):
        number, company = _tracking(fulfillment)
        for item in nodes(fulfillment.get("fulfillmentLineItems")):
            line_id = numeric((item.get("lineItem") or {}).get("id"))
            quantity = int(item.get("quantity") or 0)
            if not line_id or quantity <= 0:
                continue
            parts = shipped.setdefault(line_id, [])
            fulfillment_id = numeric(fulfillment.get("id"))
            if parts and parts[-1].fulfillment_id == fulfillment_id:  # one parcel, one part
                parts[-1] = replace(parts[-1], quantity=parts[-1].quantity + quantity)
            else:
                parts.append(_Shipped(fulfillment_id, quantity, number, company))
    return shipped


def more_fulfilled_lines(fulfillment: Mapping[str, Any]) -> bool:
    """Whether a fulfillment holds more line items than the page listed."""
    items = fulfillment.get("fulfillmentLineItems")
    page_info = items.get("pageInfo") if isinstance(items, Mapping) else None
    return bool(isinstance(page_info, Mapping) and page_info.get("hasNextPage"))


def order_lines(node: Mapping[str, Any]) -> tuple[PlatformOrderLine, ...]:
    """One line per line item still counted (currentQuantity > 0: units removed by an edit or refunded are gone),
    split by state: the units each fulfillment shipped (package_status COMPLETED, the fulfillment as the package),
    then the units still to ship (Shopify's unfulfilledQuantity; package_status "", or CANCELLED on a cancelled
    order). A cancelled order whose refund zeroed currentQuantity keeps its ordered quantity, as cancelled.

    Ids: a line item split in parts is still one line item, but the core keys an order's lines by their id, so only
    one part may carry the bare line item id: the units still to ship, else the newest parcel's. Every other part
    carries "<line item id>:<fulfillment id>" (`line_item_id` reads both). Each part keeps its id for as long as it
    exists, so re-imports update rows rather than replace them."""
    cancelled = bool(node.get("cancelledAt"))
    shipped = _shipped_by_line(node)
    lines: list[PlatformOrderLine] = []
    for item in nodes(node.get("lineItems")):
        line_id = numeric(item.get("id"))
        count = int(item.get("currentQuantity") or 0)
        if cancelled and count <= 0:
            count = int(item.get("quantity") or 0)
        if not line_id or count <= 0:
            continue
        parts = shipped.get(line_id, [])
        if cancelled:
            unshipped = max(0, count - sum(p.quantity for p in parts))
        else:
            unshipped = min(count, max(0, int(item.get("unfulfilledQuantity") or 0)))
        base = _line_base(item, line_id)
        here = _shipped_parts(base, parts, count - unshipped)
        if unshipped:
            here.append(replace(base, quantity=unshipped, package_status=CANCELLED_LINE if cancelled else ""))
        bare = len(here) - 1  # the units still to ship, or else the newest parcel
        lines += [
            part if index == bare else replace(part, line_ids=(f"{line_id}:{part.package_id or 'shipped'}",))
            for index, part in enumerate(here)
        ]
    return tuple(lines)


def line_item_id(line_id: str) -> str:
    """The Shopify line item id of one of Dropline's line ids ("123" or "123:456", see `order_lines`)."""
    return line_id.split(":", 1)[0]


def _shipped_parts(base: PlatformOrderLine, parts: Sequence[_Shipped], units: int) -> list[PlatformOrderLine]:
    """`units` shipped units of one line, parcel by parcel (oldest first). Units Shopify counts as fulfilled but no
    fulfillment listed (beyond what was read) go with the newest parcel; units a parcel carried that no longer
    count (shipped, then refunded) are left out."""
    lines: list[PlatformOrderLine] = []
    for index, part in enumerate(parts):
        quantity = units if index == len(parts) - 1 else min(part.quantity, units)
        if quantity <= 0:
            break
        units -= quantity
        lines.append(
            replace(
                base,
                quantity=quantity,
                package_id=part.fulfillment_id,
                package_status=COMPLETED,
                tracking_number=part.tracking_number,
                carrier_id=part.company,
                carrier_name=part.company,
            )
        )
    if units > 0:  # fulfilled on Shopify, with no fulfillment read for it
        log.warning("shopify line %s: %d fulfilled units without a fulfillment read", base.line_ids[0], units)
        lines.append(replace(base, quantity=units, package_status=COMPLETED))
    return lines


def _line_base(item: Mapping[str, Any], line_id: str) -> PlatformOrderLine:
    variant = obj(item.get("variant"))
    product = obj(variant.get("product"))
    original = money(item.get("originalUnitPriceSet"))
    return PlatformOrderLine(
        line_ids=(line_id,),
        quantity=0,
        sku_id=numeric(variant.get("id")),
        product_id=numeric(product.get("id")),
        seller_sku=_text(item.get("sku")),
        product_name=_text(item.get("title")),
        sku_name=_text(variant.get("title")),
        original_price=original,
        sale_price=original,  # discounts are not read (docs/platforms/shopify.md, guesses)
    )


def address_from_json(value: Any) -> Address | None:
    """The shipping address. Without protected customer data access Shopify redacts the buyer's name, street and
    phone to null and keeps the rest: that reads as masked (never printed on a label). None: no address at all."""
    if not isinstance(value, Mapping):
        return None
    line1, line2, city = _text(value.get("address1")), _text(value.get("address2")), _text(value.get("city"))
    state, postal_code = _text(value.get("provinceCode")), _text(value.get("zip"))
    region_code = _text(value.get("countryCodeV2"))
    return Address(
        name=_text(value.get("name")),
        phone=_text(value.get("phone")),
        full_address=_joined(line1, line2, city, state, postal_code, region_code),
        line1=line1,
        line2=line2,
        line3=_text(value.get("company")),
        postal_code=postal_code,
        region_code=region_code,
        state=state,
        city=city,
        is_masked=value.get("address1") is None or value.get("name") is None,
    )


def order_from_json(node: Mapping[str, Any]) -> PlatformOrder:
    currency = _text(node.get("currencyCode"))
    live = sorted(_live_fulfillments(node), key=lambda f: _text(f.get("createdAt")))
    newest = live[-1] if live else None
    tracking_number, company = _tracking(newest) if newest else ("", "")
    return PlatformOrder(
        platform=PLATFORM,
        order_id=numeric(node.get("id")),
        status=order_status(node),
        label_source=LabelSource.SELLER,
        fulfilled_by=FulfilledBy.SELLER,
        lines=order_lines(node),
        address=address_from_json(node.get("shippingAddress")),
        created_at=parse_time(node.get("createdAt")),
        updated_at=parse_time(node.get("updatedAt")),
        paid_at=parse_time(node.get("processedAt")),
        cancelled_at=parse_time(node.get("cancelledAt")),
        shipped_at=parse_time(newest.get("createdAt")) if newest else None,
        carrier_id=company,
        carrier_name=company,
        tracking_number=tracking_number,
        package_ids=tuple(numeric(f.get("id")) for f in live),
        totals=OrderTotals(
            currency=currency,
            subtotal=money(node.get("subtotalPriceSet")),
            shipping_fee=money(node.get("totalShippingPriceSet")),
            total=money(node.get("currentTotalPriceSet")),  # after edits and refunds
        ),
        cancel_reason=_text(node.get("cancelReason")),
    )


# -------------------------------------------------------------------------------------------- locations, stock
def warehouse_from_json(node: Mapping[str, Any]) -> Warehouse:
    address = obj(node.get("address"))
    name = _text(node.get("name"))
    line1, city = _text(address.get("address1")), _text(address.get("city"))
    state, postal_code = _text(address.get("provinceCode")), _text(address.get("zip"))
    region_code = _text(address.get("countryCode"))
    return Warehouse(
        warehouse_id=numeric(node.get("id")),
        name=name,
        status="ENABLED" if node.get("isActive") else "DISABLED",
        type="SALES_WAREHOUSE",
        sub_type="",
        is_default=False,  # Shopify names no default location to Dropline
        address=Address(
            name=name,
            full_address=_joined(line1, city, state, postal_code, region_code),
            line1=line1,
            city=city,
            state=state,
            postal_code=postal_code,
            region_code=region_code,
        ),
    )


@dataclass(frozen=True)
class VariantStock:
    """A variant's stock record (its inventory item) and its quantities per location it is stocked at."""

    variant_id: str
    product_id: str
    sku: str
    inventory_item_id: str
    tracked: bool
    levels: Mapping[str, Mapping[str, int]]  # location id -> {"available": n, "committed": n}


def variant_stock_from_json(node: Mapping[str, Any]) -> VariantStock:
    item = obj(node.get("inventoryItem"))
    product = obj(node.get("product"))
    levels: dict[str, dict[str, int]] = {}
    for level in nodes(item.get("inventoryLevels")):
        location = numeric((level.get("location") or {}).get("id"))
        if location:
            levels[location] = {
                str(q.get("name")): int(q.get("quantity") or 0)
                for q in level.get("quantities") or ()
                if isinstance(q, Mapping)
            }
    return VariantStock(
        variant_id=numeric(node.get("id")),
        product_id=numeric(product.get("id")),
        sku=_text(node.get("sku")),
        inventory_item_id=numeric(item.get("id")),
        tracked=bool(item.get("tracked", True)),
        levels=levels,
    )


def inventory_level(stock: VariantStock) -> InventoryLevel:
    by_location = tuple(
        WarehouseStock(location, quantities.get("available", 0), quantities.get("committed", 0))
        for location, quantities in sorted(stock.levels.items())
    )
    return InventoryLevel(
        product_id=stock.product_id,
        sku_id=stock.variant_id,
        seller_sku=stock.sku,
        available=sum(w.available for w in by_location),
        committed=sum(w.committed for w in by_location),
        by_warehouse=by_location,
    )


# ------------------------------------------------------------------------------------------------- catalogue
def products_from_variants(variants: Iterable[Mapping[str, Any]], currency: str) -> tuple[Product, ...]:
    """A page of product variants, grouped by product in the order they came (a product whose variants straddle two
    pages appears on both, each time with the variants of that page)."""
    grouped: dict[str, tuple[Mapping[str, Any], list[ProductSku]]] = {}
    for variant in variants:
        product = obj(variant.get("product"))
        product_id = numeric(product.get("id"))
        if not product_id:
            continue
        price = decimal(variant.get("price"))
        sku = ProductSku(
            sku_id=numeric(variant.get("id")),
            seller_sku=_text(variant.get("sku")),
            price=Money(price, currency) if price is not None else None,
            name=_text(variant.get("title")),
        )
        grouped.setdefault(product_id, (product, []))[1].append(sku)
    return tuple(
        Product(
            product_id=product_id,
            title=_text(product.get("title")),
            status=_text(product.get("status")),
            skus=tuple(skus),
            created_at=parse_time(product.get("createdAt")),
            updated_at=parse_time(product.get("updatedAt")),
        )
        for product_id, (product, skus) in grouped.items()
    )


# -------------------------------------------------------------------------------------------------- fulfilment
# A fulfillment order that cannot take a fulfillment now, by its status: why (errors.SHIPMENT_REPORT's codes).
_BLOCKED = {
    "ON_HOLD": "on_hold",
    "SCHEDULED": "scheduled",
    "CANCELLED": "cancelled",
    "CLOSED": "nothing_to_fulfil",
}


@dataclass(frozen=True)
class FulfillmentGroup:
    """One fulfillmentCreate: fulfillment orders of one order assigned to one location (§4.1), each with its line
    items and the quantity that remains of each."""

    location_id: str
    line_ids: tuple[str, ...]  # the order's line item ids it fulfils
    by_fulfillment_order: tuple[Mapping[str, Any], ...]  # FulfillmentOrderLineItemsInput values


def tracking_used(order: Mapping[str, Any], tracking_number: str) -> bool:
    """Whether a live fulfillment of the order carries this tracking number already."""
    wanted = tracking_number.strip().casefold()
    return any(
        _text(info.get("number")).strip().casefold() == wanted
        for fulfillment in _live_fulfillments(order)
        for info in nodes(fulfillment.get("trackingInfo"))
    )


def fulfillment_plan(order: Mapping[str, Any], line_ids: Sequence[str]) -> tuple[list[FulfillmentGroup], str]:
    """What fulfils these line items (every line item when empty): per location, the fulfillment orders that
    support CREATE_FULFILLMENT with each wanted line item's remainingQuantity. Returns the groups, or no group and
    why not (errors.SHIPMENT_REPORT's codes): a wanted line item held back by a fulfillment order that cannot take a
    fulfillment (on hold, scheduled, a fulfillment service's) refuses the whole report, since the seller's parcel
    holds all of them."""
    if order.get("cancelledAt"):
        return [], "cancelled"
    wanted = {line_item_id(line_id) for line_id in line_ids}
    fulfillment_orders = nodes(order.get("fulfillmentOrders"))
    known = {
        numeric((item.get("lineItem") or {}).get("id"))
        for fo in fulfillment_orders
        for item in nodes(fo.get("lineItems"))
    }
    if wanted - known:
        return [], "unknown_line"
    if any(more_fulfilled_lines({"fulfillmentLineItems": fo.get("lineItems")}) for fo in fulfillment_orders):
        return [], "too_many_lines"
    blocked = ""
    by_location: dict[str, tuple[list[str], list[Mapping[str, Any]]]] = {}
    for fo in fulfillment_orders:
        items = [
            (numeric((item.get("lineItem") or {}).get("id")), {"id": item.get("id"), "quantity": remaining})
            for item in nodes(fo.get("lineItems"))
            if (remaining := int(item.get("remainingQuantity") or 0)) > 0
            and (not wanted or numeric((item.get("lineItem") or {}).get("id")) in wanted)
        ]
        if not items:
            continue
        actions = {a.get("action") for a in fo.get("supportedActions") or () if isinstance(a, Mapping)}
        if "CREATE_FULFILLMENT" not in actions:
            blocked = blocked or _BLOCKED.get(_text(fo.get("status")), "not_merchant_managed")
            continue
        location = numeric(((fo.get("assignedLocation") or {}).get("location") or {}).get("id"))
        lines_here, entries = by_location.setdefault(location, ([], []))
        lines_here.extend(line_id for line_id, _ in items)
        entries.append({"fulfillmentOrderId": fo.get("id"), "fulfillmentOrderLineItems": [i for _, i in items]})
    if blocked:
        return [], blocked
    if not by_location:
        return [], "nothing_to_fulfil"
    return [
        FulfillmentGroup(location, tuple(dict.fromkeys(lines)), tuple(entries))
        for location, (lines, entries) in by_location.items()
    ], ""


# ------------------------------------------------------------------------------------------------------- stock
@dataclass(frozen=True)
class StockRow:
    """One quantity of an inventorySetQuantities call: set `available` of an inventory item at a location, if it
    still is `change_from` (§5.1 compare-and-swap)."""

    sku_id: str  # the variant, whose result it is
    inventory_item_id: str
    location_id: str
    quantity: int
    change_from: int

    def as_input(self) -> dict[str, Any]:
        return {
            "inventoryItemId": gid("InventoryItem", self.inventory_item_id),
            "locationId": gid("Location", self.location_id),
            "quantity": self.quantity,
            "changeFromQuantity": self.change_from,
        }


def stock_rows(stock: VariantStock | None, update: InventoryUpdate) -> tuple[list[StockRow], str]:
    """The quantities that set one variant, or none and why not (errors.STOCK_PUSH's codes). A quantity without a
    location goes to the variant's single stocked location."""
    if stock is None:
        return [], "unknown_variant"
    if not stock.tracked:
        return [], "not_tracked"
    rows: list[StockRow] = []
    for wanted in update.quantities:
        location = wanted.warehouse_id
        if location is None:
            if len(stock.levels) != 1:
                return [], "several_locations" if stock.levels else "no_location"
            location = next(iter(stock.levels))
        if location not in stock.levels:
            return [], "ITEM_NOT_STOCKED_AT_LOCATION"
        current = stock.levels[location].get("available", 0)
        rows.append(StockRow(update.sku_id, stock.inventory_item_id, location, wanted.quantity, current))
    return rows, ""


def restated(row: StockRow, stock: VariantStock | None) -> StockRow | None:
    """The row again with the quantity Shopify has now as its `change_from`; None when it already has ours."""
    current = stock.levels.get(row.location_id, {}).get("available") if stock is not None else None
    if current is None:
        return row
    return None if current == row.quantity else replace(row, change_from=current)
