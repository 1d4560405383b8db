"""Threaded HTTP server around the WSGI app, plus the background webhook delivery thread."""

from __future__ import annotations

import logging
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import SERVER_MODE_KEY, TikTokSandbox
from .errors import DropConnection

log = logging.getLogger(__name__)


class _Handler(ServerHandler):
    dropped = False

    def handle_error(self) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, DropConnection):
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
        environ = self.get_environ()
        environ[SERVER_MODE_KEY] = True
        handler = _Handler(self.rfile, self.wfile, self.get_stderr(), environ, multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if handler.dropped:
            self.close_connection = True


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class _WebhookPump(threading.Thread):
    def __init__(self, sb: TikTokSandbox) -> None:
        super().__init__(name="tiktok-sandbox-webhooks", daemon=True)
        self.sb = sb
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.sb.config.webhook_poll_seconds):
            try:
                self.sb.deliver_due_webhooks()
            except Exception:  # the pump must survive a bad receiver
                log.exception("webhook delivery failed")


class SandboxServer(_ThreadingWSGIServer):
    pump: _WebhookPump | None = None

    def shutdown(self) -> None:
        if self.pump is not None:
            self.pump.stop_event.set()
        super().shutdown()
        self.server_close()


def make_server(
    sb: TikTokSandbox, host: str = "127.0.0.1", port: int = 8765, deliver_webhooks: bool = True
) -> SandboxServer:
    server = SandboxServer((host, port), _RequestHandler)
    server.set_app(sb.wsgi_app)
    sb.config.public_base_url = f"http://{host}:{server.server_address[1]}"
    if deliver_webhooks:
        server.pump = _WebhookPump(sb)
        server.pump.start()
    return server


def serve(sb: TikTokSandbox, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Blocking; stops on KeyboardInterrupt."""
    server = make_server(sb, host, port)
    log.info("TikTok Shop sandbox listening on http://%s:%s", host, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if server.pump is not None:
            server.pump.stop_event.set()
        server.server_close()
        if sb.config.state_file:
            sb.save_snapshot()


def start_in_thread(
    sb: TikTokSandbox, host: str = "127.0.0.1", port: int = 0, deliver_webhooks: bool = True
) -> tuple[SandboxServer, str]:
    server = make_server(sb, host, port, deliver_webhooks)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="tiktok-sandbox-http", daemon=True
    )
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}"
