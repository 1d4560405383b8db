from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Stores and platform integrations"

    def ready(self) -> None:
        from erp import dashboard
        from integrations.dashboard import setup_steps

        dashboard.register_setup(setup_steps)

        from integrations import registry
        from integrations.shopify.adapter import ShopifyAdapter
        from integrations.tiktok.adapter import TikTokAdapter

        registry.register(TikTokAdapter())
        registry.register(ShopifyAdapter())
