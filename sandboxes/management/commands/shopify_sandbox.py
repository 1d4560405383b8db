from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Run the Shopify sandbox (OAuth, GraphQL Admin API, webhooks, /sandbox/ control API) on loopback. "
        "Flags win over Django settings (SHOPIFY_CLIENT_ID, SHOPIFY_CLIENT_SECRET, SHOPIFY_REDIRECT_URI), "
        "which win over the environment variables of the same names."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--client-id", help="the app's API key (client_id)")
        parser.add_argument("--client-secret", help="the app's API secret: signs OAuth redirects and webhooks")
        parser.add_argument(
            "--redirect-uri", action="append", default=[], help="an allowed redirection URL (repeatable; none = any)"
        )
        parser.add_argument("--state-file", help="load the world from this file at start, save it on exit")
        parser.add_argument(
            "--webhook-url", help="subscribe every topic (compliance topics too) of the app config to this address"
        )
        parser.add_argument("--seed", type=int, help="seed of the default world")
        parser.add_argument(
            "--insecure-webhook-host",
            action="append",
            default=[],
            help="a host that may receive webhooks over plain http (repeatable; loopback always may; * = any)",
        )

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        from sandboxes.shopify.app import ShopifySandbox
        from sandboxes.shopify.config import ShopifyConfig
        from sandboxes.shopify.server import serve

        config = ShopifyConfig.from_env()
        config.client_id = options["client_id"] or getattr(settings, "SHOPIFY_CLIENT_ID", None) or config.client_id
        config.client_secret = (
            options["client_secret"] or getattr(settings, "SHOPIFY_CLIENT_SECRET", None) or config.client_secret
        )
        redirect = getattr(settings, "SHOPIFY_REDIRECT_URI", None)
        config.redirect_uris = options["redirect_uri"] or ([redirect] if redirect else config.redirect_uris)
        if options["state_file"]:
            config.state_file = options["state_file"]
        if options["seed"] is not None:
            config.seed = options["seed"]
        if options["webhook_url"]:
            config.subscribe_all(options["webhook_url"])
        config.insecure_webhook_hosts += options["insecure_webhook_host"]
        self.stdout.write(
            f"Shopify sandbox on http://{host}:{port} (client_id {config.client_id}); "
            f"shops: dropline-demo.myshopify.com, dropline-uk.myshopify.com; control API at /sandbox/"
        )
        serve(ShopifySandbox(config), host=host, port=port)
