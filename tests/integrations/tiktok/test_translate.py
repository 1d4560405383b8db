"""Parsed results from the official response examples (spec JSON, copied in payloads/) — STYLE 11, second direction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from integrations.interface import Money, OrderStatus, aggregate_lines_by_sku
from integrations.tiktok import translate
from tests.integrations.tiktok.conftest import payload


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_order_from_the_official_order_list_example() -> None:
    (order,) = translate.orders_from_json(payload("get-order-list")["data"])

    assert order.platform == "tiktok"
    assert order.order_id == "576461413038785752"
    assert (order.status, order.label_source, order.fulfilled_by) == ("UNPAID", "platform", "seller")
    assert order.created_at == at(1619611561)
    assert order.deadlines.ship_by == at(1619611688)
    assert order.package_ids == ("1152321127278713123",)
    assert order.totals is not None
    assert order.totals.total == Money(Decimal("5000"), "IDR")
    line = order.lines[0]
    assert (line.line_ids, line.quantity, line.sku_id, line.seller_sku) == (
        ("577086512123755123",),
        1,
        "2729382476852921560",
        "red_iphone_256",
    )
    assert line.sale_price == Money(Decimal("0.01"), "IDR")
    assert order.address is not None
    assert order.address.phone == "(+1)213-***-1234"
    assert order.address.is_masked  # masked phone: never printable on a label


def test_order_detail_example_parses_the_same_shape() -> None:
    (order,) = translate.orders_from_json(payload("get-order-detail")["data"])

    assert order.order_id == "576461413038785752"
    assert order.lines
    assert order.address is not None


def test_on_hold_order_without_address_translates_to_none() -> None:
    raw = dict(payload("get-order-list")["data"]["orders"][0], status="ON_HOLD")
    del raw["recipient_address"]

    order = translate.order_from_json(raw)

    assert order.status == "ON_HOLD"
    assert order.address is None


def test_repeated_unit_lines_aggregate_into_a_quantity_keeping_every_line_id() -> None:
    raw = payload("get-order-list")["data"]["orders"][0]
    unit = raw["line_items"][0]
    other = dict(unit, id="577086512123755999", sku_id="111", seller_sku="blue")
    order = translate.order_from_json(dict(raw, line_items=[unit, dict(unit, id="577086512123755124"), other]))

    grouped = aggregate_lines_by_sku(order.lines)

    assert [(line.sku_id, line.quantity, line.line_ids) for line in order.lines] == [
        ("2729382476852921560", 2, ("577086512123755123", "577086512123755124")),
        ("111", 1, ("577086512123755999",)),
    ]
    assert [(g.sku_id, g.quantity, g.line_ids) for g in grouped] == [
        ("2729382476852921560", 2, ("577086512123755123", "577086512123755124")),
        ("111", 1, ("577086512123755999",)),
    ]


def test_units_of_one_sku_in_different_states_stay_apart_and_aggregate_by_sku_for_people() -> None:
    raw = payload("get-order-list")["data"]["orders"][0]
    unit = dict(raw["line_items"][0], package_id="P1", package_status="TO_FULFILL")
    shipped = dict(unit, id="577086512123755124", package_id="P2", package_status="COMPLETED")
    order = translate.order_from_json(dict(raw, line_items=[unit, shipped, dict(unit, id="577086512123755125")]))

    assert [(line.package_id, line.quantity, line.line_ids) for line in order.lines] == [
        ("P1", 2, ("577086512123755123", "577086512123755125")),
        ("P2", 1, ("577086512123755124",)),
    ]
    (grouped,) = aggregate_lines_by_sku(order.lines)
    assert (grouped.quantity, grouped.line_ids) == (
        3,
        ("577086512123755123", "577086512123755125", "577086512123755124"),
    )


def test_eligible_services_and_created_package() -> None:
    options = translate.shipping_services_from_json(payload("get-eligible-shipping-service")["data"])
    label = translate.purchased_label_from_json(payload("create-packages")["data"])

    assert options.line_ids == ("32132124331234",)  # response field order_line_id
    service = options.services[0]
    assert (service.service_id, service.carrier_name, service.price) == (
        "288233559123860015",
        "UPS",
        Money(Decimal("5"), "USD"),
    )
    assert label.package_id == "2882335594258860015"
    assert label.service is not None
    assert label.service.service_id == "288233559123860015"
    assert label.created_at == at(1623812664)


def test_handover_slots_read_the_misspelled_avaliable() -> None:
    options = translate.handover_options_from_json(payload("get-package-handover-time-slots")["data"])

    assert options.can_pickup
    assert options.pickup_slots[0].available is True
    assert options.pickup_slots[0].start == at(1623812664)


def test_package_detail_search_tracking_and_seller_shipment() -> None:
    package = translate.package_from_json(payload("get-package-detail")["data"])
    search = [translate.package_from_json(p) for p in payload("search-package")["data"]["packages"]]
    tracking = translate.tracking_from_json(payload("get-tracking")["data"])
    shipment = translate.seller_shipment_from_json(payload("mark-package-as-shipped")["data"])

    assert (package.package_id, package.status) == ("5433567853345", "PROCESSING")
    assert package.order_ids == ("54335448533296",)
    assert search[0].package_id
    assert search[0].status
    assert tracking[0].occurred_at == datetime.fromtimestamp(1694685539, tz=UTC)  # milliseconds in the payload
    assert shipment.package_id == "32141235124234"
    assert shipment.warning


def test_logistics_catalogue_and_stock() -> None:
    warehouses = translate.warehouses_from_json(payload("get-warehouse-list")["data"])
    options = translate.delivery_options_from_json(payload("get-warehouse-delivery-options")["data"])
    providers = translate.shipping_providers_from_json(payload("get-shipping-providers")["data"])
    levels = translate.inventory_levels_from_json(payload("inventory-search")["data"])
    products = translate.products_from_json(payload("search-products")["data"])

    assert warehouses[0].warehouse_id == "7000714532876273410"
    assert warehouses[0].address is not None
    assert options[0].option_id == "6955034615128000261"
    assert options[0].type == "STANDARD"
    assert providers[0].name == "USPS"
    assert levels[0].sku_id == "1729388324987897824"
    assert levels[0].seller_sku == "Color-Red-XM01"
    assert products[0].title == "Short Boat Invisible Socks"
    assert products[0].skus


def test_shops_and_webhook_subscriptions() -> None:
    (shop,) = translate.authorized_shops_from_json(payload("get-authorized-shops")["data"])
    (active,) = translate.active_shops_from_json(payload("get-active-shops")["data"])
    (hook,) = translate.webhook_subscriptions_from_json(payload("get-shop-webhooks")["data"])

    assert (shop.shop_id, shop.settings[translate.CIPHER], shop.seller_type) == (
        "7000714532876273420",
        "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
        "CROSS_BORDER",
    )
    assert (active.shop_id, active.region) == ("36123502970007", "GB")
    assert (hook.topic, hook.address) == ("ORDER_STATUS_CHANGE", "https://partner.tiktokshop.com")


def test_token_expiries_are_absolute_timestamps() -> None:
    tokens = translate.token_set_from_json(
        {
            "access_token": "TTP_a",
            "access_token_expire_in": 1660556783,
            "refresh_token": "TTP_r",
            "refresh_token_expire_in": 1691487031,
            "open_id": "7010736057180325637",
        }
    )

    assert tokens.access_token_expires_at == at(1660556783)
    assert tokens.refresh_token_expires_at == at(1691487031)


def test_a_status_tiktok_adds_later_imports_as_unknown_instead_of_stopping_the_sync() -> None:
    assert translate.order_status("AWAITING_SHIPMENT") == OrderStatus.AWAITING_SHIPMENT
    assert translate.order_status("AWAITING_RESHIPMENT") == OrderStatus.UNKNOWN
