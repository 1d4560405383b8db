from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"

    def ready(self) -> None:
        from erp import dashboard
        from shipping.dashboard import setup_steps

        dashboard.register_setup(setup_steps)

        from orders.services import orders_imported
        from shipping.routing import on_orders_imported

        orders_imported.connect(on_orders_imported)
