"""Threaded HTTP server around the WSGI app, plus the background webhook sender; `start_in_thread` for tests."""

from __future__ import annotations

import logging
import socketserver
import sys
import threading
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import ShopifySandbox
from .faults import DropConnection
from .webhooks import WebhookPump

log = logging.getLogger(__name__)


class _Handler(ServerHandler):
    dropped = False

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            # Fault "drop_response_after_commit": the work is done, the client gets no response at all.
            self.dropped = True
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection keeps dropping a response unambiguous

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        handler = _Handler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # wsgiref's stubs want IO[bytes]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if handler.dropped:
            self.close_connection = True


class SandboxServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    pump: WebhookPump | None = None

    def shutdown(self) -> None:
        if self.pump is not None:
            self.pump.stop()
        super().shutdown()
        self.server_close()


def make_server(
    sb: ShopifySandbox, host: str = "127.0.0.1", port: int = 8766, deliver_webhooks: bool = True
) -> SandboxServer:
    server = SandboxServer((host, port), _RequestHandler)
    server.set_app(sb.wsgi_app)
    if deliver_webhooks:
        server.pump = WebhookPump(sb)
        server.pump.start()
    return server


def serve(sb: ShopifySandbox, host: str = "127.0.0.1", port: int = 8766) -> None:
    """Blocking; stops on KeyboardInterrupt (and then saves the state file, if there is one)."""
    server = make_server(sb, host, port)
    log.info("Shopify sandbox listening on http://%s:%s", host, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if server.pump is not None:
            server.pump.stop()
        server.server_close()
        if sb.config.state_file:
            sb.save_snapshot()


def start_in_thread(
    sb: ShopifySandbox, host: str = "127.0.0.1", port: int = 0, deliver_webhooks: bool = True
) -> tuple[SandboxServer, str]:
    server = make_server(sb, host, port, deliver_webhooks)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="shopify-sandbox-http", daemon=True
    )
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}"
