from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from erp import dashboard
        from orders import webhooks
        from orders.dashboard import order_cards

        webhooks.subscribe()
        dashboard.register(order_cards)
