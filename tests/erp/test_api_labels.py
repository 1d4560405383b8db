"""`ChoiceLabelField` says what `get_<field>_display()` says, for every choice and for a value outside them."""

from __future__ import annotations

from erp.api.serializers import ChoiceLabelField
from integrations.models import Store
from orders.models import Order, OrderStatus


def test_a_choice_label_is_the_models_display_value() -> None:
    field = ChoiceLabelField("status")
    for status in [*OrderStatus.values, "A_STATUS_TIKTOK_ADDED_LATER"]:
        order = Order(status=status)
        assert field.to_representation(order) == order.get_status_display()
    assert field.to_representation(Order(status=OrderStatus.AWAITING_SHIPMENT)) == OrderStatus.AWAITING_SHIPMENT.label
    store = Store(platform="shopify")
    assert ChoiceLabelField("platform").to_representation(store) == store.get_platform_display() == "Shopify"
