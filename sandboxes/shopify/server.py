"""Threaded HTTP server around the WSGI app; `start_in_thread` for tests and local runs."""

from __future__ import annotations

import logging
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .app import ShopifySandbox

log = logging.getLogger(__name__)


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class SandboxServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()


def make_server(sb: ShopifySandbox, host: str = "127.0.0.1", port: int = 8766) -> SandboxServer:
    server = SandboxServer((host, port), _RequestHandler)
    server.set_app(sb.wsgi_app)
    return server


def serve(sb: ShopifySandbox, host: str = "127.0.0.1", port: int = 8766) -> None:
    """Blocking; stops on KeyboardInterrupt."""
    server = make_server(sb, host, port)
    log.info("Shopify sandbox listening on http://%s:%s", host, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def start_in_thread(sb: ShopifySandbox, host: str = "127.0.0.1", port: int = 0) -> tuple[SandboxServer, str]:
    server = make_server(sb, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="shopify-sandbox-http", daemon=True
    )
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}"
