from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"

    def ready(self) -> None:
        from erp import dashboard
        from shipping.dashboard import setup_steps

        dashboard.register_setup(setup_steps)
