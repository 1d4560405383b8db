"""The sandbox application: one WSGI callable serving the consent page, the auth host, the open API,
the label CDN and the /sandbox/ control API."""

from __future__ import annotations

import json
import logging
import pickle
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from sandboxes.clock import SandboxClock

from . import api_auth, documents
from .config import SandboxConfig
from .errors import MSG_INTERNAL, MSG_RATE, ApiError, DropConnection
from .faults import Faults
from .gateway import Request, Route, api_key_for, authenticate, envelope, new_request_id, parse_query
from .ratelimit import RateLimiter
from .routes import build_router
from .seed import seed_default_world
from .state import World
from .webhooks import WebhookDispatcher

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
SERVER_MODE_KEY = "tiktok_sandbox.server_mode"


class TikTokSandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = SandboxClock()
        self.faults = Faults(seed=self.config.seed)
        self.limiter = RateLimiter(self.config.rate_limit_qps)
        self.router = build_router()
        self.webhooks = WebhookDispatcher(self)
        # Optional httpx transport for webhook delivery (tests inject one); None means real HTTP.
        self.webhook_transport: httpx.BaseTransport | None = None
        self.documents = documents.DocumentStore()
        self.world: World = self._new_world()
        if self.config.state_file and Path(self.config.state_file).exists():
            self.load_snapshot(self.config.state_file)
        self.clock.listeners.append(self.tick)

    # ------------------------------------------------------------------ lifecycle
    def _new_world(self) -> World:
        world = World(self.config.seed, self.clock.now())
        world.on_event = self.webhooks.enqueue
        if self.config.seed_default:
            with world.lock:
                # Seeding must not fire webhooks for the initial world.
                world.on_event = None
                seed_default_world(world, self.clock.now(), self.config.seed_orders_per_shop)
                world.on_event = self.webhooks.enqueue
        return world

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.config.seed = seed
        self.faults = Faults(seed=self.config.seed)
        self.limiter.reset()
        self.webhooks.reset()
        self.documents = documents.DocumentStore()
        self.world = self._new_world()

    def tick(self) -> int:
        with self.world.lock:
            return self.world.tick(self.clock.now())

    def deliver_due_webhooks(self) -> list[dict[str, Any]]:
        self.tick()
        return self.webhooks.deliver_due()

    def save_snapshot(self, path: str | None = None) -> str:
        target = path or self.config.state_file
        if not target:
            raise ValueError("no state_file configured")
        with self.world.lock:
            on_event, self.world.on_event = self.world.on_event, None
            try:
                blob = pickle.dumps(
                    {"world": self.world, "documents": self.documents, "clock_offset": self.clock.now() - time.time()}
                )
            finally:
                self.world.on_event = on_event
        Path(target).write_bytes(blob)
        return target

    def load_snapshot(self, path: str) -> None:
        # The snapshot is a file this sandbox wrote itself (never untrusted input).
        data = pickle.loads(Path(path).read_bytes())  # noqa: S301
        self.world = data["world"]
        self.world.on_event = self.webhooks.enqueue
        self.documents = data["documents"]

    def httpx_transport(self) -> httpx.WSGITransport:
        return httpx.WSGITransport(app=self.wsgi_app)

    # ------------------------------------------------------------------ WSGI
    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        req = Request(
            method=method,
            path=path,
            query=parse_query(environ.get("QUERY_STRING", "")),
            body=body,
            headers=headers,
            environ=environ,
        )
        status, out_headers, payload = self.dispatch(req)
        start_response(status, out_headers)
        return [payload]

    def dispatch(self, req: Request) -> tuple[str, list[tuple[str, str]], bytes]:
        path = req.path
        if path.startswith("/sandbox/") or path == "/sandbox":
            from .control import handle_control  # local import: control imports app types

            code, data = handle_control(self, req)
            return _json_response(code, data)
        if path in ("/open/authorize", "/oauth/authorize") and req.method == "GET":
            code, page = api_auth.consent_page(self, req.query)
            return _status(code), [("Content-Type", "text/html; charset=utf-8")], page.encode()
        if path == "/open/authorize/decision" and req.method == "POST":
            form = dict(parse_qsl(req.body.decode(), keep_blank_values=True))
            try:
                with self.world.lock:
                    location = api_auth.consent_decision(self, form)
            except ApiError as exc:
                return _status(400), [("Content-Type", "text/plain")], exc.message.encode()
            return "302 Found", [("Location", location), ("Content-Length", "0")], b""
        if path in ("/api/v2/token/get", "/api/v2/token/refresh"):
            return self._auth_host(req)
        if path.startswith(documents.DOC_PATH_PREFIX):
            return self._download(req)
        return self._open_api(req)

    def _auth_host(self, req: Request) -> tuple[str, list[tuple[str, str]], bytes]:
        try:
            if req.method != "GET":
                raise ApiError(36009010, "Invalid method. The HTTP method used is not supported by this endpoint.")
            with self.world.lock:
                fn = api_auth.token_get if req.path.endswith("/get") else api_auth.token_refresh
                data = fn(self, req.query)
            return _envelope_response(200, 0, "success", data)
        except ApiError as exc:
            return _envelope_response(exc.http_status, exc.code, exc.message, None)

    def _download(self, req: Request) -> tuple[str, list[tuple[str, str]], bytes]:
        with self.world.lock:
            status, ctype, body = self.documents.download(self, req.path)
        return _status(status), [("Content-Type", ctype), ("Content-Length", str(len(body)))], body

    def _open_api(self, req: Request) -> tuple[str, list[tuple[str, str]], bytes]:
        api = f"{req.method} {req.path}"
        route: Route | None = None
        try:
            try:
                route, params = self.router.resolve(req.method, req.path)
                req.path_params = params
                api = api_key_for(route, params)
                route_error: ApiError | None = None
            except ApiError as exc:
                route_error = exc
            with self.world.lock:
                authenticate(self, req)
            if route_error is not None:
                raise route_error
            assert route is not None
            req.api = api
            delay = self.faults.latency_seconds(api)
            if delay:
                time.sleep(delay)
            scope = req.shop.id if req.shop else f"seller:{req.seller.id if req.seller else ''}"
            if not self.limiter.hit(api, f"{self.config.app_key}:{scope}"):
                return _envelope_response(429, 36009002, MSG_RATE, None)
            hold = self.faults.hold_seconds(api)
            if hold:
                time.sleep(hold)
                if not req.environ.get(SERVER_MODE_KEY):
                    # An in-process client cannot time out by itself; give it what a timed-out client sees.
                    raise httpx.ReadTimeout("timed out (sandbox fault: held request)")
            rule = self.faults.pick_error(api)
            if rule is not None:
                outcome = "injected_429" if rule.http_status == 429 or rule.code == 36009002 else "injected_error"
                self.limiter.record(api, outcome)
                http_status = rule.http_status if rule.http_status else 200
                message = rule.message or (MSG_RATE if rule.code == 36009002 else MSG_INTERNAL)
                return _envelope_response(http_status, rule.code, message, None)
            with self.world.lock:
                self.world.tick(self.clock.now())
                data = route.handler(self, req)
            if self.faults.should_drop(api):
                self.limiter.record(api, "ok")
                if req.environ.get(SERVER_MODE_KEY):
                    raise DropConnection(api)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self.limiter.record(api, "ok")
            return _envelope_response(200, 0, "Success", data)
        except ApiError as exc:
            if route is not None:
                self.limiter.record(api, "business_error")
            return _envelope_response(exc.http_status, exc.code, exc.message, exc.data)


def _status(code: int) -> str:
    return {
        200: "200 OK",
        302: "302 Found",
        400: "400 Bad Request",
        403: "403 Forbidden",
        404: "404 Not Found",
        405: "405 Method Not Allowed",
        429: "429 Too Many Requests",
        500: "500 Internal Server Error",
        502: "502 Bad Gateway",
        503: "503 Service Unavailable",
        504: "504 Gateway Timeout",
    }.get(code, f"{code} Status")


def _envelope_response(
    http_status: int, code: int, message: str, data: Any
) -> tuple[str, list[tuple[str, str]], bytes]:
    body = envelope(code, message, data)
    return _status(http_status), [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _json_response(http_status: int, data: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps(data, separators=(",", ":"), default=str).encode()
    return (
        _status(http_status),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("X-Request-Id", new_request_id())],
        body,
    )
