from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the TikTok Shop sandbox (auth host, open API, consent page, /sandbox/ control API) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        from sandboxes.tiktok.app import TikTokSandbox
        from sandboxes.tiktok.config import SandboxConfig
        from sandboxes.tiktok.server import serve

        config = SandboxConfig.from_env()
        self.stdout.write(f"TikTok Shop sandbox on http://{host}:{port} (app_key {config.app_key})")
        serve(TikTokSandbox(config), host=host, port=port)
