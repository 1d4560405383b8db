from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = "After-sales"

    def ready(self) -> None:
        # Webhooks 11 and 12 refresh the request at once (after orders has fetched the order: orders is installed
        # first, so its handler runs first).
        from aftersales.webhooks import subscribe

        subscribe()

        from aftersales.panels import after_sales_panel
        from orders.selectors import order_detail_sources

        order_detail_sources.provide_panel(after_sales_panel)

        from aftersales.selectors import requests_at_risk
        from shipping.at_risk import at_risk_sources

        at_risk_sources.provide(requests_at_risk)

        from aftersales.report import spend_returns_section
        from shipping.spend import spend_sources

        spend_sources.provide(spend_returns_section)
