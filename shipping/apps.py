from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"

    def ready(self) -> None:
        from erp import dashboard
        from shipping.dashboard import setup_steps

        dashboard.register_setup(setup_steps)

        from inventory.services import stock_changed
        from orders.services import orders_imported
        from shipping.routing import on_orders_imported, on_stock_freed

        orders_imported.connect(on_orders_imported)

        from orders.services import orders_address_changed, orders_cancelled
        from shipping.address_changes import on_orders_address_changed
        from shipping.cancelled import on_orders_cancelled

        orders_cancelled.connect(on_orders_cancelled)
        orders_address_changed.connect(on_orders_address_changed)
        stock_changed.connect(on_stock_freed)

        # The order's page shows how its label was chosen and names the rules in its audit trail; orders is below
        # shipping and cannot import it.
        from orders.selectors import order_detail_sources
        from shipping.models import LogisticsRule
        from shipping.selectors import shipping_decision_of

        order_detail_sources.provide_shipping_decision(shipping_decision_of)
        order_detail_sources.provide_names("rule", lambda: (LogisticsRule.objects.all(), "name"))
