"""Pure functions: TikTok Shop JSON <-> Dropline dataclasses. No I/O, no Django.

Field names are exactly the spec's (shared/platforms/tiktok-shop/spec/). Tolerant on input: a missing optional field
becomes "" / None, because TikTok omits fields per market and status (e.g. no recipient_address while ON_HOLD).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from erp.inputs import EARLIEST, LATEST
from integrations.interface import (
    ActiveShop,
    Address,
    AddressDistrict,
    AfterSaleInitiator,
    AfterSaleLine,
    AfterSaleStatus,
    AuthorizedShop,
    BundleComponent,
    CombineResult,
    Deadlines,
    DeliveryOption,
    Dimensions,
    FbtSkuStock,
    FbtStock,
    FbtWarehouse,
    FulfilledBy,
    HandoverOptions,
    InventoryLevel,
    InventoryUpdate,
    ItemError,
    ItemResult,
    LabelSource,
    ListedOrder,
    ListedOrders,
    Money,
    OrderStatus,
    OrderTotals,
    PackageOrders,
    PackageRefusal,
    PlatformCancellation,
    PlatformOrder,
    PlatformOrderLine,
    PlatformPackage,
    PlatformReturn,
    Product,
    ProductSku,
    PurchasedLabel,
    Reason,
    ReturnDecision,
    ReturnEvent,
    ReturnKind,
    SellerShipment,
    ShipPackageRequest,
    ShippingDocument,
    ShippingProvider,
    ShippingServiceOptions,
    ShippingServiceQuote,
    SplitAttributes,
    SplitGroup,
    SplitLimit,
    SplitPackage,
    TimeSlot,
    TokenSet,
    TrackingEvent,
    Warehouse,
    WarehouseQuantity,
    WarehouseStock,
    WebhookEvent,
    WebhookSubscription,
    Weight,
)

log = logging.getLogger(__name__)

PLATFORM = "tiktok"
Json = Mapping[str, Any]

# Webhook `type` codes -> Event API event_type names (README §7.2; code 2 from the ECOM SDK only).
WEBHOOK_TOPICS: dict[int, str] = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
    18: "PRODUCT_CATEGORY_CHANGE",
    21: "FBT_INBOUND_ORDER_STATUS_CHANGE",
    22: "FBT_MERCHANT_ONBOARDING",
    23: "FBT_GOODS_MATCH",
    24: "FBT_INVENTORY_UPDATE",
    27: "INVENTORY_STATUS_CHANGE",
    36: "INVOICE_STATUS_CHANGE",
}

DOC_URL_LIFETIME = timedelta(hours=24)


# --- scalars --------------------------------------------------------------------------------------------------------


def _s(value: Any) -> str:
    """Ids and free text as str; numbers too (a type-5 webhook example sends product_id as a number)."""
    if value is None:
        return ""
    return str(value)


def from_epoch(value: Any) -> datetime | None:
    """Unix seconds -> aware UTC; 0 / missing mean "not happened" in TikTok payloads."""
    if value in (None, "", 0, "0"):
        return None
    return _epoch_moment(value, 1)


def from_epoch_millis(value: Any) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    return _epoch_moment(value, 1000)


def _epoch_moment(value: Any, per_second: int) -> datetime | None:
    """A platform's epoch as a moment in the accepted range (docs/adr/0014), else None like a missing one: an order
    whose deadline TikTok garbled is imported without it rather than lost, and cannot take a page down."""
    try:
        moment = datetime.fromtimestamp(int(float(value)) / per_second, tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):  # 1e30, NaN, "yesterday"
        return None
    return moment if EARLIEST <= moment < LATEST else None


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware (UTC) datetime")
    return int(moment.timestamp())


def decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Any, currency: str) -> Money | None:
    amount = decimal_or_none(value)
    return None if amount is None else Money(amount=amount, currency=currency)


def _decimal_str(value: Decimal) -> str:
    # Strings on the wire (spec types are string); never exponent notation ("1E+1").
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


# --- auth -----------------------------------------------------------------------------------------------------------


def token_set_from_json(data: Json) -> TokenSet:
    # *_expire_in are absolute Unix timestamps, not durations (README §2.2).
    return TokenSet(
        access_token=_s(data.get("access_token")),
        access_token_expires_at=from_epoch(data.get("access_token_expire_in")) or datetime.fromtimestamp(0, tz=UTC),
        refresh_token=_s(data.get("refresh_token")),
        refresh_token_expires_at=from_epoch(data.get("refresh_token_expire_in")) or datetime.fromtimestamp(0, tz=UTC),
        open_id=_s(data.get("open_id")),
        seller_name=_s(data.get("seller_name")),
        seller_base_region=_s(data.get("seller_base_region")),
        granted_scopes=tuple(data.get("granted_scopes") or ()),
    )


# The key of a shop's cipher in `AuthorizedShop.settings`: the selector every shop-scoped call sends (not the shop id).
CIPHER = "cipher"


def authorized_shops_from_json(data: Json) -> list[AuthorizedShop]:
    return [
        AuthorizedShop(
            shop_id=_s(shop.get("id")),
            name=_s(shop.get("name")),
            region=_s(shop.get("region")),
            seller_type=_s(shop.get("seller_type")),
            code=_s(shop.get("code")),
            settings={CIPHER: _s(shop.get("cipher"))},
        )
        for shop in data.get("shops") or ()
    ]


def active_shops_from_json(data: Json) -> list[ActiveShop]:
    return [ActiveShop(shop_id=_s(s.get("id")), region=_s(s.get("region"))) for s in data.get("shops") or ()]


# --- orders ---------------------------------------------------------------------------------------------------------


def _looks_masked(*values: str) -> bool:
    return any("*" in value for value in values if value)


def address_from_json(data: Json | None) -> Address | None:
    if not data:
        return None
    districts = tuple(
        AddressDistrict(
            level=_s(d.get("address_level")), level_name=_s(d.get("address_level_name")), name=_s(d.get("address_name"))
        )
        for d in data.get("district_info") or ()
    )
    by_level = {d.level: d.name for d in districts}
    name = _s(data.get("name") or data.get("contact_person"))
    phone = _s(data.get("phone_number"))
    return Address(
        name=name,
        phone=phone,
        full_address=_s(data.get("full_address")),
        line1=_s(data.get("address_line1")),
        line2=_s(data.get("address_line2")),
        line3=_s(data.get("address_line3")),
        line4=_s(data.get("address_line4")),
        postal_code=_s(data.get("postal_code")),
        region_code=_s(data.get("region_code")),
        first_name=_s(data.get("first_name")),
        last_name=_s(data.get("last_name")),
        post_town=_s(data.get("post_town")),
        # Order addresses carry district_info levels (US: L1 state, L3 city); warehouse addresses flat fields.
        state=_s(data.get("state")) or by_level.get("L1", ""),
        city=_s(data.get("city")) or by_level.get("L3", "") or by_level.get("L2", ""),
        district=_s(data.get("distict") or data.get("district")),  # the warehouse schema spells it "distict"
        town=_s(data.get("town")),
        districts=districts,
        is_masked=_looks_masked(name, phone),
    )


def order_line_from_json(data: Json, currency: str, *, with_id: bool = True) -> PlatformOrderLine:
    """One TikTok line item: always one unit (TikTok has no quantity). `with_id=False`: without its line id, as the
    key that tells which units are alike."""
    line_currency = _s(data.get("currency")) or currency
    return PlatformOrderLine(
        line_ids=(_s(data.get("id")),) if with_id else (),
        quantity=1,
        sku_id=_s(data.get("sku_id")),
        product_id=_s(data.get("product_id")),
        seller_sku=_s(data.get("seller_sku")),
        product_name=_s(data.get("product_name")),
        sku_name=_s(data.get("sku_name")),
        sku_image=_s(data.get("sku_image")),
        original_price=money(data.get("original_price"), line_currency),
        sale_price=money(data.get("sale_price"), line_currency),
        seller_discount=money(data.get("seller_discount"), line_currency),
        platform_discount=money(data.get("platform_discount"), line_currency),
        package_id=_s(data.get("package_id")),
        package_status=_s(data.get("package_status")),
        display_status=_s(data.get("display_status")),
        tracking_number=_s(data.get("tracking_number")),
        carrier_id=_s(data.get("shipping_provider_id")),
        carrier_name=_s(data.get("shipping_provider_name")),
        is_gift=bool(data.get("is_gift")),
        is_dangerous_good=bool(data.get("is_dangerous_good")),
        cancel_user=_s(data.get("cancel_user")),
        cancel_reason=_s(data.get("cancel_reason")),
        bundle_components=tuple(
            BundleComponent(
                sku_id=_s(c.get("sku_id")),
                product_id=_s(c.get("product_id")),
                seller_sku=_s(c.get("seller_sku")),
                count=int(c.get("sku_count") or 0),
            )
            for c in data.get("combined_listing_skus") or ()
        ),
    )


def order_lines_from_json(items: Iterable[Json], currency: str) -> tuple[PlatformOrderLine, ...]:
    """TikTok repeats a line per unit; Dropline's lines carry a quantity. Units alike in everything but their id (the
    same SKU, package, package status, cancellation, prices) become one line with every unit's id, in payload order;
    units that differ in anything stay apart, so nothing the payload says is lost."""
    grouped: dict[PlatformOrderLine, list[str]] = {}
    for item in items:
        grouped.setdefault(order_line_from_json(item, currency, with_id=False), []).append(_s(item.get("id")))
    return tuple(replace(line, line_ids=tuple(ids), quantity=len(ids)) for line, ids in grouped.items())


# TikTok's `shipping_type`: TIKTOK is a TikTok Shipping label, SELLER the seller's own (tracking uploaded).
LABEL_SOURCES = {"TIKTOK": LabelSource.PLATFORM, "SELLER": LabelSource.SELLER}
FBT = "FULFILLMENT_BY_TIKTOK"  # `fulfillment_type` of an order TikTok picks, packs and ships (FULFILLMENT_BY_SELLER)


def order_status(value: str) -> OrderStatus:
    """TikTok's order statuses are Dropline's words already (the webhook's CANCEL is normalised apart). One TikTok
    adds later is UNKNOWN, logged: the order still imports (one new word must not stop a store's sync), and nothing
    ships it until the mapping says what it means."""
    try:
        return OrderStatus(value)
    except ValueError:
        log.warning("TikTok order status %r is not one Dropline knows: imported as UNKNOWN", value[:40])
        return OrderStatus.UNKNOWN


def order_from_json(data: Json) -> PlatformOrder:
    payment = data.get("payment") or {}
    currency = _s(payment.get("currency"))
    if not currency:
        currency = next((_s(li.get("currency")) for li in data.get("line_items") or () if li.get("currency")), "")
    totals = (
        OrderTotals(
            currency=currency,
            subtotal=money(payment.get("sub_total"), currency),
            shipping_fee=money(payment.get("shipping_fee"), currency),
            tax=money(payment.get("tax"), currency),
            total=money(payment.get("total_amount"), currency),
            seller_discount=money(payment.get("seller_discount"), currency),
            platform_discount=money(payment.get("platform_discount"), currency),
        )
        if payment
        else None
    )
    return PlatformOrder(
        platform=PLATFORM,
        order_id=_s(data.get("id")),
        status=order_status(_s(data.get("status"))),
        label_source=LABEL_SOURCES.get(_s(data.get("shipping_type"))),
        fulfilled_by=FulfilledBy.PLATFORM if _s(data.get("fulfillment_type")) == FBT else FulfilledBy.SELLER,
        lines=order_lines_from_json(data.get("line_items") or (), currency),
        # Absent (or empty) while UNPAID / ON_HOLD: None, never an empty Address that looks like a real one.
        address=address_from_json(data.get("recipient_address")),
        created_at=from_epoch(data.get("create_time")),
        updated_at=from_epoch(data.get("update_time")),
        paid_at=from_epoch(data.get("paid_time")),
        cancelled_at=from_epoch(data.get("cancel_time")),
        shipped_at=from_epoch(data.get("rts_time")),
        collected_at=from_epoch(data.get("collection_time")),
        delivered_at=from_epoch(data.get("delivery_time")),
        delivery_type=_s(data.get("delivery_type")),
        delivery_option_id=_s(data.get("delivery_option_id")),
        delivery_option_name=_s(data.get("delivery_option_name")),
        carrier_id=_s(data.get("shipping_provider_id")),
        carrier_name=_s(data.get("shipping_provider")),
        tracking_number=_s(data.get("tracking_number")),
        warehouse_id=_s(data.get("warehouse_id")),
        package_ids=tuple(_s(p.get("id")) for p in data.get("packages") or () if p.get("id")),
        totals=totals,
        deadlines=Deadlines(
            ship_by=from_epoch(data.get("rts_sla_time")),
            collect_by=from_epoch(data.get("tts_sla_time")),
            shipping_due=from_epoch(data.get("shipping_due_time")),
            collection_due=from_epoch(data.get("collection_due_time")),
            delivery_by=from_epoch(data.get("delivery_sla_time")),
            delivery_due=from_epoch(data.get("delivery_due_time")),
            cancel_unpaid_at=from_epoch(data.get("cancel_order_sla_time")),
        ),
        buyer_message=_s(data.get("buyer_message")),
        seller_note=_s(data.get("seller_note")),
        is_on_hold_order=bool(data.get("is_on_hold_order")),
        is_buyer_request_cancel=bool(data.get("is_buyer_request_cancel")),
        cancel_reason=_s(data.get("cancel_reason")),
        cancellation_initiator=_s(data.get("cancellation_initiator")),
        is_cod=bool(data.get("is_cod")),
        is_sample_order=bool(data.get("is_sample_order")),
        is_replacement_order=bool(data.get("is_replacement_order")),
        order_type=_s(data.get("order_type")),
        split_or_combine_tag=_s(data.get("split_or_combine_tag")),
    )


def orders_from_json(data: Json) -> list[PlatformOrder]:
    return [order_from_json(o) for o in data.get("orders") or ()]


def listed_orders_from_json(data: Json) -> ListedOrders:
    """A Search Orders page: each order's id and version now, the rest translated when asked for."""
    listed = tuple(
        ListedOrder(
            order_id=_s(o.get("id")),
            version=from_epoch(o.get("update_time")) or from_epoch(o.get("create_time")),
            translate=partial(order_from_json, o),
        )
        for o in data.get("orders") or ()
    )
    return ListedOrders(listed, next_cursor=data.get("next_page_token") or None, total_count=data.get("total_count"))


def order_search_body(
    *,
    update_time_ge: datetime | None = None,
    update_time_lt: datetime | None = None,
    create_time_ge: datetime | None = None,
    create_time_lt: datetime | None = None,
    order_status: str | None = None,
    shipping_type: str | None = None,
    buyer_user_id: str | None = None,
    is_buyer_request_cancel: bool | None = None,
    warehouse_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    # Keys in the spec's order; any order is valid JSON, but a stable order keeps the signed bytes reproducible.
    body: dict[str, Any] = {}
    if order_status:
        body["order_status"] = order_status
    for name, moment in (
        ("create_time_ge", create_time_ge),
        ("create_time_lt", create_time_lt),
        ("update_time_ge", update_time_ge),
        ("update_time_lt", update_time_lt),
    ):
        if moment is not None:
            body[name] = to_epoch(moment)
    if shipping_type:
        body["shipping_type"] = shipping_type
    if buyer_user_id:
        body["buyer_user_id"] = buyer_user_id
    if is_buyer_request_cancel is not None:
        body["is_buyer_request_cancel"] = is_buyer_request_cancel
    if warehouse_ids:
        body["warehouse_ids"] = list(warehouse_ids)
    return body


# --- fulfillment ----------------------------------------------------------------------------------------------------


def weight_to_json(weight: Weight) -> dict[str, str]:
    return {"value": _decimal_str(weight.value), "unit": weight.unit}


def dimensions_to_json(dimensions: Dimensions) -> dict[str, str]:
    return {
        "length": _decimal_str(dimensions.length),
        "width": _decimal_str(dimensions.width),
        "height": _decimal_str(dimensions.height),
        "unit": dimensions.unit,
    }


def weight_from_json(data: Json | None) -> Weight | None:
    value = decimal_or_none((data or {}).get("value"))
    return None if value is None or not data else Weight(value=value, unit=_s(data.get("unit")))


def dimensions_from_json(data: Json | None) -> Dimensions | None:
    if not data:
        return None
    length, width, height = (decimal_or_none(data.get(k)) for k in ("length", "width", "height"))
    if length is None or width is None or height is None:
        return None
    return Dimensions(length=length, width=width, height=height, unit=_s(data.get("unit")))


def package_request_body(
    *,
    order_id: str | None = None,
    line_ids: Sequence[str] | None = None,
    weight: Weight | None = None,
    dimensions: Dimensions | None = None,
    shipping_service_id: str | None = None,
) -> dict[str, Any]:
    """Body of Get Eligible Shipping Service (no order_id: it is in the path) and Create Packages."""
    body: dict[str, Any] = {}
    if order_id is not None:
        body["order_id"] = order_id
    if line_ids:
        body["order_line_item_ids"] = list(line_ids)
    if weight is not None:
        body["weight"] = weight_to_json(weight)
    if dimensions is not None:
        body["dimension"] = dimensions_to_json(dimensions)
    if shipping_service_id:
        body["shipping_service_id"] = shipping_service_id
    return body


def _service_from_json(data: Json) -> ShippingServiceQuote:
    return ShippingServiceQuote(
        service_id=_s(data.get("id")),
        name=_s(data.get("name")),
        price=money(data.get("price"), _s(data.get("currency"))),
        earliest_delivery_days=data.get("earliest_delivery_days"),
        latest_delivery_days=data.get("latest_delivery_days"),
        is_default=bool(data.get("is_default")),
        carrier_id=_s(data.get("shipping_provider_id")),
        carrier_name=_s(data.get("shipping_provider_name")),
    )


def shipping_services_from_json(data: Json) -> ShippingServiceOptions:
    return ShippingServiceOptions(
        order_id=_s(data.get("order_id")),
        line_ids=tuple(_s(i) for i in data.get("order_line_id") or ()),  # response spells it order_line_id
        weight=weight_from_json(data.get("weight")),
        dimensions=dimensions_from_json(data.get("dimension")),
        services=tuple(_service_from_json(s) for s in data.get("shipping_services") or ()),
    )


def purchased_label_from_json(data: Json) -> PurchasedLabel:
    info = data.get("shipping_service_info")
    return PurchasedLabel(
        package_id=_s(data.get("package_id")),
        order_id=_s(data.get("order_id")),
        line_ids=tuple(_s(i) for i in data.get("order_line_item_ids") or ()),
        service=_service_from_json(info) if info else None,
        weight=weight_from_json(data.get("weight")),
        dimensions=dimensions_from_json(data.get("dimension")),
        created_at=from_epoch(data.get("create_time")),
    )


def _slot_to_json(slot: TimeSlot) -> dict[str, int]:
    out: dict[str, int] = {}
    if slot.start is not None:
        out["start_time"] = to_epoch(slot.start)
    if slot.end is not None:
        out["end_time"] = to_epoch(slot.end)
    return out


def ship_package_body(request: ShipPackageRequest, *, with_id: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": request.package_id} if with_id else {}
    if request.handover_method:
        body["handover_method"] = request.handover_method
    if request.pickup_slot is not None:
        body["pickup_slot"] = _slot_to_json(request.pickup_slot)
    if request.self_shipment is not None:
        body["self_shipment"] = {
            "tracking_number": request.self_shipment.tracking_number,
            "shipping_provider_id": request.self_shipment.carrier_id,
        }
    return body


def item_results_from_errors(data: Json, item_ids: Sequence[str], id_field: str) -> list[ItemResult]:
    """Batch responses list only failures (`data.errors[]`); every requested id not listed succeeded."""
    failures: dict[str, Json] = {}
    for error in data.get("errors") or ():
        failures[_s((error.get("detail") or {}).get(id_field))] = error
    results = []
    for item_id in item_ids:
        error = failures.get(item_id)
        if error is None:
            results.append(ItemResult(item_id=item_id, ok=True))
            continue
        details = tuple(
            ItemError(
                code=int(extra.get("code") or 0), message=_s(extra.get("message")), ref=_s(extra.get("warehouse_id"))
            )
            for extra in (error.get("detail") or {}).get("extra_errors") or ()
        )
        results.append(
            ItemResult(
                item_id=item_id,
                ok=False,
                code=int(error.get("code") or 0),
                message=_s(error.get("message")),
                details=details,
            )
        )
    # An error naming no (or an unknown) item still must not vanish: report it against "".
    for ref, error in failures.items():
        if ref not in item_ids:
            results.append(
                ItemResult(item_id=ref, ok=False, code=int(error.get("code") or 0), message=_s(error.get("message")))
            )
    return results


def handover_options_from_json(data: Json) -> HandoverOptions:
    return HandoverOptions(
        can_pickup=bool(data.get("can_pickup")),
        can_drop_off=bool(data.get("can_drop_off")),
        can_van_collection=bool(data.get("can_van_collection")),
        drop_off_point_url=_s(data.get("drop_off_point_url")),
        pickup_slots=tuple(
            TimeSlot(
                start=from_epoch(s.get("start_time")),
                end=from_epoch(s.get("end_time")),
                # The official schema spells it "avaliable"; accept the correct spelling too in case it is fixed.
                available=s.get("avaliable", s.get("available")),
            )
            for s in data.get("pickup_slots") or ()
        ),
    )


def shipping_document_from_json(
    data: Json, *, package_id: str, document_type: str, fetched_at: datetime
) -> ShippingDocument:
    return ShippingDocument(
        package_id=package_id,
        document_type=document_type,
        url=_s(data.get("doc_url")),
        tracking_number=_s(data.get("tracking_number")),
        expires_at=fetched_at + DOC_URL_LIFETIME,
    )


def package_from_json(data: Json) -> PlatformPackage:
    slot = data.get("pickup_slot")
    return PlatformPackage(
        package_id=_s(data.get("package_id") or data.get("id")),  # detail says package_id, search says id
        status=_s(data.get("package_status") or data.get("status")),
        order_ids=tuple(_s(o.get("id")) for o in data.get("orders") or ()),
        line_ids=tuple(_s(i) for i in data.get("order_line_item_ids") or ()),
        tracking_number=_s(data.get("tracking_number")),
        carrier_id=_s(data.get("shipping_provider_id")),
        carrier_name=_s(data.get("shipping_provider_name")),
        shipping_type=_s(data.get("shipping_type")),
        delivery_option_id=_s(data.get("delivery_option_id")),
        delivery_option_name=_s(data.get("delivery_option_name")),
        handover_method=_s(data.get("handover_method")),
        pickup_slot=(
            TimeSlot(start=from_epoch(slot.get("start_time")), end=from_epoch(slot.get("end_time"))) if slot else None
        ),
        last_mile_tracking_number=_s(data.get("last_mile_tracking_number")),
        recipient_address=address_from_json(data.get("recipient_address")),
        sender_address=address_from_json(data.get("sender_address")),
        weight=weight_from_json(data.get("weight")),
        dimensions=dimensions_from_json(data.get("dimension")),
        created_at=from_epoch(data.get("create_time")),
        updated_at=from_epoch(data.get("update_time")),
    )


def package_search_body(
    *,
    create_time_ge: datetime | None = None,
    create_time_lt: datetime | None = None,
    update_time_ge: datetime | None = None,
    update_time_lt: datetime | None = None,
    package_status: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, moment in (
        ("create_time_ge", create_time_ge),
        ("create_time_lt", create_time_lt),
        ("update_time_ge", update_time_ge),
        ("update_time_lt", update_time_lt),
    ):
        if moment is not None:
            body[name] = to_epoch(moment)
    if package_status:
        body["package_status"] = package_status
    return body


def tracking_from_json(data: Json) -> list[TrackingEvent]:
    # Get Tracking is the one API with millisecond times (update_time_millis).
    events = [
        TrackingEvent(description=_s(e.get("description")), occurred_at=from_epoch_millis(e.get("update_time_millis")))
        for e in data.get("tracking") or ()
    ]
    return sorted(events, key=lambda e: e.occurred_at or datetime.min.replace(tzinfo=UTC))


def seller_shipment_from_json(data: Json) -> SellerShipment:
    return SellerShipment(
        order_id=_s(data.get("order_id")),
        package_id=_s(data.get("package_id")),
        line_ids=tuple(_s(i) for i in data.get("order_line_item_ids") or ()),
        warning=_s((data.get("warning") or {}).get("message")),
    )


# --- logistics, catalogue, stock ------------------------------------------------------------------------------------


def warehouses_from_json(data: Json) -> list[Warehouse]:
    return [
        Warehouse(
            warehouse_id=_s(w.get("id")),
            name=_s(w.get("name")),
            status=_s(w.get("effect_status")),
            type=_s(w.get("type")),
            sub_type=_s(w.get("sub_type")),
            is_default=bool(w.get("is_default")),
            address=address_from_json(w.get("address")),
        )
        for w in data.get("warehouses") or ()
    ]


def delivery_options_from_json(data: Json) -> list[DeliveryOption]:
    return [
        DeliveryOption(
            option_id=_s(o.get("id")),
            name=_s(o.get("name")),
            type=_s(o.get("type")),
            description=_s(o.get("description")),
            platforms=tuple(o.get("platform") or ()),
        )
        for o in data.get("delivery_options") or ()
    ]


def shipping_providers_from_json(data: Json) -> list[ShippingProvider]:
    return [
        ShippingProvider(provider_id=_s(p.get("id")), name=_s(p.get("name")))
        for p in data.get("shipping_providers") or ()
    ]


def inventory_update_body(skus: Sequence[InventoryUpdate]) -> dict[str, Any]:
    out = []
    for sku in skus:
        inventory = []
        for q in sku.quantities:
            entry: dict[str, Any] = {"quantity": q.quantity}
            if q.warehouse_id is not None:
                entry["warehouse_id"] = q.warehouse_id
            inventory.append(entry)
        out.append({"id": sku.sku_id, "inventory": inventory})
    return {"skus": out}


def inventory_levels_from_json(data: Json) -> list[InventoryLevel]:
    levels = []
    for product in data.get("inventory") or ():
        for sku in product.get("skus") or ():
            levels.append(
                InventoryLevel(
                    product_id=_s(product.get("product_id")),
                    sku_id=_s(sku.get("id")),
                    seller_sku=_s(sku.get("seller_sku")),
                    available=int(sku.get("total_available_quantity") or 0),
                    committed=int(sku.get("total_committed_quantity") or 0),
                    by_warehouse=tuple(
                        WarehouseStock(
                            warehouse_id=_s(w.get("warehouse_id")),
                            available=int(w.get("available_quantity") or 0),
                            committed=int(w.get("committed_quantity") or 0),
                        )
                        for w in sku.get("warehouse_inventory") or ()
                    ),
                )
            )
    return levels


def products_from_json(data: Json) -> list[Product]:
    products = []
    for p in data.get("products") or ():
        skus = []
        for sku in p.get("skus") or ():
            price = sku.get("price") or {}
            currency = _s(price.get("currency"))
            skus.append(
                ProductSku(
                    sku_id=_s(sku.get("id")),
                    seller_sku=_s(sku.get("seller_sku")),
                    price=money(price.get("sale_price") or price.get("tax_exclusive_price"), currency),
                    quantities=tuple(
                        WarehouseQuantity(
                            warehouse_id=_s(i.get("warehouse_id")) or None, quantity=int(i.get("quantity") or 0)
                        )
                        for i in sku.get("inventory") or ()
                    ),
                )
            )
        products.append(
            Product(
                product_id=_s(p.get("id")),
                title=_s(p.get("title")),
                status=_s(p.get("status")),
                skus=tuple(skus),
                created_at=from_epoch(p.get("create_time")),
                updated_at=from_epoch(p.get("update_time")),
            )
        )
    return products


# --- webhooks -------------------------------------------------------------------------------------------------------


class MalformedWebhook(ValueError):
    """A signed envelope that does not have TikTok's shape: acknowledged and recorded, never processed."""


def _webhook_time(value: Any) -> datetime | None:
    """A notification's times are informative (the order is fetched anyway): an unreadable one is left out."""
    try:
        return from_epoch(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _topic_code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MalformedWebhook(f"`type` is not a topic code: {str(value)[:40]!r}")
    code = int(value)
    if code > 32767:
        raise MalformedWebhook(f"`type` {code} is not a topic code")
    return code


def _id(envelope: Json, name: str) -> str:
    value = envelope.get(name)
    if value is not None and not isinstance(value, str | int):
        raise MalformedWebhook(f"`{name}` is not an id")
    text = _s(value)
    if len(text) > 64 or "\x00" in text:
        raise MalformedWebhook(f"`{name}` is not an id")
    return text


def webhook_event_from_json(envelope: Json) -> WebhookEvent:
    """Raises MalformedWebhook when the envelope's structure is wrong (§7.1); fields the fetch re-reads anyway
    (times, statuses) are taken as given or left out."""
    if not isinstance(envelope, dict):
        raise MalformedWebhook("the body is not a JSON object")
    data = envelope.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MalformedWebhook("`data` is not an object")
    code = _topic_code(envelope.get("type"))
    order_status = _s(data.get("order_status"))[:40]
    if order_status == "CANCEL":  # webhooks say CANCEL where the order API says CANCELLED
        order_status = "CANCELLED"
    on_hold = data.get("is_on_hold_order")
    packages = data.get("package_list")
    return WebhookEvent(
        platform=PLATFORM,
        notification_id=_id(envelope, "tts_notification_id"),
        topic_code=code,
        topic=WEBHOOK_TOPICS.get(code, f"UNKNOWN_{code}"),
        shop_id=_id(envelope, "shop_id"),
        seller_open_id=_id(envelope, "seller_open_id"),
        sent_at=_webhook_time(envelope.get("timestamp")),
        order_id=_id(data, "order_id"),
        order_status=order_status,
        is_on_hold_order=None if on_hold is None else bool(on_hold),
        package_ids=tuple(
            _s(p.get("package_id")) for p in (packages if isinstance(packages, list) else ()) if isinstance(p, dict)
        ),
        product_id=_s(data.get("product_id"))[:64],
        sku_id=_s(data.get("sku_id"))[:64],
        status=_s(
            data.get("cancel_status")
            or data.get("return_status")
            or data.get("status")
            or data.get("current_inventory_status")
            or data.get("invoice_status")
        )[:64],
        message=_s(data.get("message"))[:2000],
        updated_at=_webhook_time(data.get("update_time")),
    )


def webhook_subscriptions_from_json(data: Json) -> list[WebhookSubscription]:
    return [
        WebhookSubscription(
            topic=_s(w.get("event_type")),
            address=_s(w.get("address")),
            created_at=from_epoch(w.get("create_time")),
            updated_at=from_epoch(w.get("update_time")),
        )
        for w in data.get("webhooks") or ()
    ]


# --- Fulfilled by TikTok (FBT) ----------------------------------------------------------------------------------------


def _int(value: Any) -> int:
    return int(value or 0)


def fbt_onboarded_regions_from_json(data: Json) -> list[str]:
    """Region codes; an empty `data` means the seller is not onboarded (spec)."""
    return [_s(r.get("region_code")) for r in data.get("onboarded_regions") or ()]


def fbt_warehouses_from_json(data: Json) -> list[FbtWarehouse]:
    out = []
    for w in data.get("warehouses") or ():
        address = (w.get("addresses") or [{}])[0] or {}
        lines = (address.get(f"address_line_{n}") for n in (1, 2, 3))
        out.append(
            FbtWarehouse(
                fbt_warehouse_id=_s(w.get("fbt_warehouse_id")),
                name=_s(w.get("name")),
                type=_s(w.get("type")),
                subscribed=bool(w.get("subscribed")),
                warehouse_ids=tuple(_s(i) for i in w.get("warehouse_ids") or ()),
                region_code=_s(address.get("region_code")),
                state=_s(address.get("state")),
                city=_s(address.get("city")),
                postal_code=_s(address.get("postal_code")),
                address_lines=tuple(line.strip() for line in lines if line and line.strip()),
            )
        )
    return out


def fbt_inventory_search_body(
    *,
    sku_ids: Sequence[str] | None = None,
    fbt_warehouse_ids: Sequence[str] | None = None,
    goods_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if goods_ids:
        body["goods_ids"] = [str(i) for i in goods_ids]
    if fbt_warehouse_ids:
        body["fbt_warehouse_ids"] = [str(i) for i in fbt_warehouse_ids]
    if sku_ids:
        body["sku_ids"] = [str(i) for i in sku_ids]
    return body


def fbt_inventory_from_json(data: Json) -> list[FbtStock]:
    out = []
    for row in data.get("inventory") or ():
        goods = row.get("goods") or {}
        on_hand = row.get("on_hand_detail") or {}
        skus = []
        for sku in goods.get("skus") or ():
            detail = sku.get("on_hand_detail") or {}
            skus.append(
                FbtSkuStock(
                    sku_id=_s(sku.get("id")),
                    total=_int(detail.get("total_quantity")),
                    available=_int(detail.get("available_quantity")),
                    reserved=_int(detail.get("reserved_quantity")),
                )
            )
        out.append(
            FbtStock(
                goods_id=_s(goods.get("id")),
                reference_code=_s(goods.get("reference_code")),
                name=_s(goods.get("name")),
                fbt_warehouse_id=_s(row.get("fbt_warehouse_id")),
                total=_int(on_hand.get("total_quantity")),
                available=_int(on_hand.get("available_quantity")),
                reserved=_int(on_hand.get("reserved_quantity")),
                unfulfillable=_int(on_hand.get("unfulfillable_quantity")),
                in_transit=_int(row.get("in_transit_quantity")),
                skus=tuple(skus),
            )
        )
    return out


# ------------------------------------------------------------------------- combined and split packages
def _package_orders(item: Mapping[str, Any]) -> PackageOrders:
    return PackageOrders(
        package_id=str(item.get("id") or ""), order_ids=tuple(str(o) for o in item.get("order_ids") or ())
    )


def combinable_packages_from_json(data: Mapping[str, Any]) -> list[PackageOrders]:
    """Search Combinable Packages' `combinable_packages`: each pre-generated package id and its orders."""
    return [_package_orders(item) for item in data.get("combinable_packages") or ()]


def combine_body(groups: Sequence[PackageOrders]) -> dict[str, Any]:
    return {"combinable_packages": [{"id": g.package_id, "order_ids": list(g.order_ids)} for g in groups]}


def combine_result_from_json(data: Mapping[str, Any]) -> CombineResult:
    """Combine Package: the packages made, and per-package errors (code, message, detail.package_id)."""
    refused = tuple(
        PackageRefusal(
            package_id=str((error.get("detail") or {}).get("package_id") or ""),
            code=str(error.get("code") or ""),
            message=str(error.get("message") or ""),
        )
        for error in data.get("errors") or ()
    )
    return CombineResult(packages=tuple(_package_orders(p) for p in data.get("packages") or ()), refused=refused)


def uncombine_result_from_json(data: Mapping[str, Any]) -> list[PackageOrders]:
    return [_package_orders(p) for p in data.get("packages") or ()]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def split_attributes_from_json(data: Mapping[str, Any]) -> list[SplitAttributes]:
    """Get Order Split Attributes. `max_count` is a string in the spec; read as a number (None when unreadable)."""
    return [
        SplitAttributes(
            order_id=str(item.get("order_id") or ""),
            can_split=bool(item.get("can_split")),
            reason=str(item.get("reason") or ""),
            must_split=bool(item.get("must_split")),
            must_split_reasons=tuple(
                SplitLimit(
                    kind=str(reason.get("type") or ""),
                    category_id=str(reason.get("category_id") or ""),
                    max_count=_int_or_none(reason.get("max_count")),
                )
                for reason in item.get("must_split_reasons") or ()
            ),
        )
        for item in data.get("split_attributes") or ()
    ]


def split_body(groups: Sequence[SplitGroup]) -> dict[str, Any]:
    return {"splittable_groups": [{"id": g.group_id, "order_line_item_ids": list(g.line_ids)} for g in groups]}


def split_result_from_json(data: Mapping[str, Any]) -> list[SplitPackage]:
    return [
        SplitPackage(group_id=str(p.get("splittable_group_id") or ""), package_id=str(p.get("id") or ""))
        for p in data.get("packages") or ()
    ]


# ------------------------------------------------------------------------- after-sales: cancellations and returns
# Search Cancellations' `cancel_status`. The request filter and Cancel Order's answer spell the closed state
# CANCELLATION_REQUEST_CANCEL, the search answer CANCELLATION_REQUEST_CANCELLED: both are read. A request the seller
# rejected closes as CANCELLED too (TikTok has no "rejected" cancellation status), so it reads WITHDRAWN.
CANCELLATION_STATUSES: dict[str, AfterSaleStatus] = {
    "CANCELLATION_REQUEST_PENDING": AfterSaleStatus.PENDING,
    # Accepted, the refund on its way; COMPLETE once refunded. Either way the order is cancelled: nothing is left to do.
    "CANCELLATION_REQUEST_SUCCESS": AfterSaleStatus.APPROVED,
    "CANCELLATION_REQUEST_CANCELLED": AfterSaleStatus.WITHDRAWN,
    "CANCELLATION_REQUEST_CANCEL": AfterSaleStatus.WITHDRAWN,
    "CANCELLATION_REQUEST_COMPLETE": AfterSaleStatus.APPROVED,
}
# Search Returns' `return_status` (its enum, and the overview's RETURN_OR_REFUND_CANCEL spelling). BUYER_SHIPPED_ITEM
# becomes PARCEL_RECEIVED once TikTok asks the seller to confirm the parcel (`return_status`).
RETURN_STATUSES: dict[str, AfterSaleStatus] = {
    "RETURN_OR_REFUND_REQUEST_PENDING": AfterSaleStatus.PENDING,
    "REFUND_OR_RETURN_REQUEST_REJECT": AfterSaleStatus.REJECTED,
    "AWAITING_BUYER_SHIP": AfterSaleStatus.IN_PROGRESS,
    "BUYER_SHIPPED_ITEM": AfterSaleStatus.IN_PROGRESS,
    "REJECT_RECEIVE_PACKAGE": AfterSaleStatus.REJECTED,
    "RETURN_OR_REFUND_REQUEST_SUCCESS": AfterSaleStatus.APPROVED,  # accepted; the refund follows (then COMPLETE)
    "RETURN_OR_REFUND_REQUEST_CANCEL": AfterSaleStatus.WITHDRAWN,
    "RETURN_OR_REFUND_CANCEL": AfterSaleStatus.WITHDRAWN,
    "RETURN_OR_REFUND_REQUEST_COMPLETE": AfterSaleStatus.APPROVED,
    "AWAITING_BUYER_RESPONSE": AfterSaleStatus.IN_PROGRESS,  # the seller offered a partial refund; the buyer answers
    "REPLACEMENT_REQUEST_PENDING": AfterSaleStatus.PENDING,
    "REPLACEMENT_REQUEST_REJECT": AfterSaleStatus.REJECTED,
    "REPLACEMENT_REQUEST_REFUND_SUCCESS": AfterSaleStatus.APPROVED,  # resolved by a refund instead
    "REPLACEMENT_REQUEST_CANCEL": AfterSaleStatus.WITHDRAWN,
    "REPLACEMENT_REQUEST_COMPLETE": AfterSaleStatus.APPROVED,
}
RETURN_KINDS = {
    "REFUND": ReturnKind.REFUND_ONLY,
    "RETURN_AND_REFUND": ReturnKind.RETURN_AND_REFUND,
    "REPLACEMENT": ReturnKind.REPLACEMENT,
}
# `role`: OPERATOR (TikTok's customer service) and SYSTEM are the platform. Get Return Records' example writes "Buyer".
INITIATORS = {
    "BUYER": AfterSaleInitiator.BUYER,
    "SELLER": AfterSaleInitiator.SELLER,
    "SYSTEM": AfterSaleInitiator.PLATFORM,
    "OPERATOR": AfterSaleInitiator.PLATFORM,
}
SELLER_RESPOND_CANCEL = "SELLER_RESPOND_CANCEL"
SELLER_RESPOND_RECEIVE_PACKAGE = "SELLER_RESPOND_RECEIVE_PACKAGE"
# `seller_next_action_response[].action` of a return -> what the seller may answer (Approve / Reject Return).
RETURN_ACTIONS: dict[str, tuple[ReturnDecision, ...]] = {
    "SELLER_RESPOND_REFUND": (ReturnDecision.APPROVE_REFUND, ReturnDecision.REJECT_REFUND),
    "SELLER_RESPOND_RETURN": (ReturnDecision.APPROVE_RETURN, ReturnDecision.REJECT_RETURN),
    "SELLER_RESPOND_REPLACEMENT": (ReturnDecision.APPROVE_REPLACEMENT, ReturnDecision.REJECT_REPLACEMENT),
    SELLER_RESPOND_RECEIVE_PACKAGE: (ReturnDecision.APPROVE_RECEIVED, ReturnDecision.REJECT_RECEIVED),
}
# The return type each decision answers (Approve / Reject Return refuse another one with 25020004).
_DECISION_TYPES: dict[ReturnDecision, str] = {
    ReturnDecision.APPROVE_REFUND: "REFUND",
    ReturnDecision.REJECT_REFUND: "REFUND",
    ReturnDecision.APPROVE_RETURN: "RETURN_AND_REFUND",
    ReturnDecision.REJECT_RETURN: "RETURN_AND_REFUND",
    ReturnDecision.APPROVE_RECEIVED: "RETURN_AND_REFUND",
    ReturnDecision.REJECT_RECEIVED: "RETURN_AND_REFUND",
    ReturnDecision.APPROVE_REPLACEMENT: "REPLACEMENT",
    ReturnDecision.REJECT_REPLACEMENT: "REPLACEMENT",
}
# Dropline's decision -> Approve Return / Reject Return `decision`.
RETURN_DECISIONS: dict[ReturnDecision, str] = {
    ReturnDecision.APPROVE_REFUND: "APPROVE_REFUND",
    ReturnDecision.APPROVE_RETURN: "APPROVE_RETURN",
    ReturnDecision.APPROVE_RECEIVED: "APPROVE_RECEIVED_PACKAGE",
    ReturnDecision.APPROVE_REPLACEMENT: "APPROVE_REPLACEMENT",
    ReturnDecision.REJECT_REFUND: "REJECT_REFUND",
    ReturnDecision.REJECT_RETURN: "REJECT_RETURN",
    ReturnDecision.REJECT_RECEIVED: "REJECT_RECEIVED_PACKAGE",
    ReturnDecision.REJECT_REPLACEMENT: "REJECT_REPLACEMENT",
}


def _known(table: Mapping[str, AfterSaleStatus], value: str, what: str) -> AfterSaleStatus:
    status = table.get(value)
    if status is None:
        # Shown as TikTok's word (platform_status), never decided on; logged so the mapping gets added.
        log.warning("TikTok %s status %r is not one Dropline knows: read as UNKNOWN", what, value[:60])
        return AfterSaleStatus.UNKNOWN
    return status


def cancellation_status(value: str) -> AfterSaleStatus:
    return _known(CANCELLATION_STATUSES, value, "cancellation")


def return_status(value: str, next_action: str = "") -> AfterSaleStatus:
    if value == "BUYER_SHIPPED_ITEM" and next_action == SELLER_RESPOND_RECEIVE_PACKAGE:
        return AfterSaleStatus.PARCEL_RECEIVED
    return _known(RETURN_STATUSES, value, "return")


def initiator(role: Any) -> AfterSaleInitiator:
    # An unknown role is taken for the platform's: never the buyer's or the seller's word without TikTok saying so.
    return INITIATORS.get(_s(role).upper(), AfterSaleInitiator.PLATFORM)


def _refund(amount: Any) -> Money | None:
    """`refund_amount` / `order_refund_amount`: refund_total in its currency; None when TikTok gives no total."""
    if not isinstance(amount, Mapping):
        return None
    return money(amount.get("refund_total"), _s(amount.get("currency")))


def _next_action(data: Json) -> tuple[str, datetime | None]:
    """The first of `seller_next_action_response`: the action TikTok waits for, and its deadline."""
    for item in data.get("seller_next_action_response") or ():
        if isinstance(item, Mapping) and item.get("action"):
            return _s(item.get("action")), from_epoch(item.get("deadline"))
    return "", None


def aftersale_lines(items: Iterable[Json]) -> tuple[AfterSaleLine, ...]:
    """TikTok lists a request's items one per unit (each unit its own order line item). Units of the same SKU (sku_id
    and seller_sku) become one line: the first unit's order line id, as many as there are units, their refunds
    summed (None when no unit says)."""
    grouped: dict[tuple[str, str], list[Json]] = {}
    for item in items:
        grouped.setdefault((_s(item.get("sku_id")), _s(item.get("seller_sku"))), []).append(item)
    lines = []
    for (sku_id, seller_sku), units in grouped.items():
        refunds = [r for r in (_refund(unit.get("refund_amount")) for unit in units) if r is not None]
        refund = (
            Money(amount=sum((r.amount for r in refunds), Decimal(0)), currency=refunds[0].currency)
            if refunds
            else None
        )
        lines.append(
            AfterSaleLine(
                order_line_id=_s(units[0].get("order_line_item_id")),
                seller_sku=seller_sku,
                platform_sku_id=sku_id,
                quantity=len(units),
                refund=refund,
            )
        )
    return tuple(lines)


def _reason(code: Any, text: Any) -> Reason:
    return Reason(code=_s(code), text=_s(text) or _s(code))


def cancellation_from_json(data: Json) -> PlatformCancellation:
    platform_status = _s(data.get("cancel_status"))
    action, deadline = _next_action(data)
    needs_decision = action == SELLER_RESPOND_CANCEL
    return PlatformCancellation(
        request_id=_s(data.get("cancel_id")),
        order_id=_s(data.get("order_id")),
        initiator=initiator(data.get("role")),
        status=cancellation_status(platform_status),
        platform_status=platform_status,
        reason=_reason(data.get("cancel_reason"), data.get("cancel_reason_text")),
        needs_decision=needs_decision,
        respond_by=deadline if needs_decision else None,
        refund=_refund(data.get("refund_amount")),
        lines=aftersale_lines(data.get("cancel_line_items") or ()),
        created_at=from_epoch(data.get("create_time")),
        updated_at=from_epoch(data.get("update_time")),
    )


def cancellations_from_json(data: Json) -> list[PlatformCancellation]:
    return [cancellation_from_json(c) for c in data.get("cancellations") or ()]


def return_decisions(next_action: str, return_type: str) -> tuple[ReturnDecision, ...]:
    """What the seller may answer now: the pair for TikTok's next action, kept only when it answers this return type
    (a mismatch TikTok would refuse with 25020004, so none is offered)."""
    decisions = RETURN_ACTIONS.get(next_action, ())
    if return_type and any(_DECISION_TYPES[d] != return_type for d in decisions):
        log.warning("TikTok asks %s of a %s return: no decision offered", next_action[:40], return_type[:40])
        return ()
    return decisions


def return_from_json(data: Json) -> PlatformReturn:
    platform_status = _s(data.get("return_status"))
    return_type = _s(data.get("return_type"))
    action, deadline = _next_action(data)
    decisions = return_decisions(action, return_type)
    return PlatformReturn(
        request_id=_s(data.get("return_id")),
        order_id=_s(data.get("order_id")),
        # An unknown return type is taken for the one that asks the most of the seller (the goods come back).
        kind=RETURN_KINDS.get(return_type, ReturnKind.RETURN_AND_REFUND),
        initiator=initiator(data.get("role")),
        status=return_status(platform_status, action),
        platform_status=platform_status,
        reason=_reason(data.get("return_reason"), data.get("return_reason_text")),
        decisions=decisions,
        respond_by=deadline if decisions else None,
        refund=_refund(data.get("refund_amount")),
        lines=aftersale_lines(data.get("return_line_items") or ()),
        return_tracking_number=_s(data.get("return_tracking_number")),
        return_carrier=_s(data.get("return_provider_name")),
        created_at=from_epoch(data.get("create_time")),
        updated_at=from_epoch(data.get("update_time")),
    )


def returns_from_json(data: Json) -> list[PlatformReturn]:
    return [return_from_json(r) for r in data.get("return_orders") or ()]


def aftersale_search_body(
    *,
    order_ids: Sequence[str] | None = None,
    cancel_ids: Sequence[str] | None = None,
    return_ids: Sequence[str] | None = None,
    update_time_ge: datetime | None = None,
    update_time_lt: datetime | None = None,
) -> dict[str, Any]:
    """Search Cancellations' / Search Returns' filters: the same names, but for the request ids (cancel_ids in one,
    return_ids in the other)."""
    body: dict[str, Any] = {}
    for name, ids in (("order_ids", order_ids), ("cancel_ids", cancel_ids), ("return_ids", return_ids)):
        if ids:
            body[name] = [str(i) for i in ids]
    if update_time_ge is not None:
        body["update_time_ge"] = to_epoch(update_time_ge)
    if update_time_lt is not None:
        body["update_time_lt"] = to_epoch(update_time_lt)
    return body


def cancel_order_result_from_json(data: Json) -> tuple[str, AfterSaleStatus]:
    return _s(data.get("cancel_id")), cancellation_status(_s(data.get("cancel_status")))


def reject_body(reason_code: str, comment: str, decision: str = "") -> dict[str, Any]:
    """Reject Cancellation / Reject Return: the reason name (from Get Reject Reasons), a comment when there is one."""
    body: dict[str, Any] = {"decision": decision} if decision else {}
    body["reject_reason"] = reason_code
    if comment:
        body["comment"] = comment
    return body


def reasons_from_json(data: Json) -> list[Reason]:
    """Get Reject Reasons: `name` is what Reject Cancellation / Reject Return take, `text` what a person reads."""
    return [_reason(r.get("name"), r.get("text")) for r in data.get("reasons") or () if r.get("name")]


def return_records_from_json(data: Json) -> list[ReturnEvent]:
    """Get Return Records, oldest first. The record's reason (reason_text) follows its description."""
    events = []
    for record in data.get("records") or ():
        description = _s(record.get("description"))
        reason_text = _s(record.get("reason_text"))
        events.append(
            ReturnEvent(
                at=from_epoch(record.get("create_time")),
                event=_s(record.get("event")),
                description=f"{description}: {reason_text}"
                if description and reason_text
                else description or reason_text,
                note=_s(record.get("note")),
            )
        )
    return sorted(events, key=lambda e: e.at or datetime.min.replace(tzinfo=UTC))


def refund_calculation_from_json(data: Json) -> Money | None:
    """Calculate Refund's `order_refund_amount`."""
    return _refund(data.get("order_refund_amount"))
