"""A real HTTP receiver for webhook tests: a threaded server on 127.0.0.1 that records every request and answers
with the status the test sets (and can hold a request, so a worker can be killed mid-delivery)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.status = 200
        self.hold_seconds = 0.0
        self.received: list[Received] = []
        self.started = threading.Event()  # set when a request arrives (before any hold)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.started.set()
                if receiver.hold_seconds:
                    threading.Event().wait(receiver.hold_seconds)
                status = receiver.status
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(Received(dict(self.headers.items()), body))
                answer = b'{"ok": true}' if status < 300 else b"receiver is down " + b"x" * 2000
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
