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
        stock_changed.connect(on_stock_freed)

        # The order's page shows how its label was chosen and names the rules in its audit trail; orders is below
        # shipping and cannot import it.
        from orders.selectors import order_detail_sources
        from shipping.models import LogisticsRule
        from shipping.selectors import shipping_decision_of

        order_detail_sources.provide_shipping_decision(shipping_decision_of)
        order_detail_sources.provide_names("rule", lambda: (LogisticsRule.objects.all(), "name"))
