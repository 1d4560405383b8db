"""The sandbox application: one WSGI callable serving OAuth, the GraphQL Admin API and /sandbox/ control.

A shop is named the way Shopify names it, by host: the Host header (`dropline-demo.myshopify.com`) or, for
clients that cannot set it, a path prefix (`/dropline-demo.myshopify.com/admin/...`).
"""

from __future__ import annotations

import json
import pickle
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.language import Visitor, visit

from sandboxes.clock import SandboxClock

from . import oauth, seed
from .config import ShopifyConfig
from .cost import CostLimiter, query_cost
from .faults import DropConnection, Faults
from .graph import Context
from .schema import ROOT_VALUE, schema_for
from .state import Grant, Shop, World
from .stats import Stats
from .webhooks import WebhookDispatcher

StartResponse = Callable[..., Any]
Response = tuple[int, dict[str, str], bytes]

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105 - an error text
PREFIX_RE = re.compile(r"^/([a-zA-Z0-9][a-zA-Z0-9-_]*\.(?:myshopify\.com|shopify\.com|myshopify\.io|shop\.dev))(/.*)$")
GRAPHQL_RE = re.compile(r"^/admin/api/([^/]+)/graphql\.json$")
REASONS = {
    200: "OK",
    201: "Created",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def supported_versions(now: float) -> list[str]:
    """§1: the current quarter's version, the 3 before it, the next one (release candidate) and unstable."""
    d = datetime.fromtimestamp(now, UTC)
    q = d.year * 4 + (d.month - 1) // 3
    out = []
    for i in range(q - 3, q + 2):
        out.append(f"{i // 4:04d}-{(i % 4) * 3 + 1:02d}")
    return [*out, "unstable"]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return status, h, json.dumps(body, default=str).encode()


class ShopifySandbox:
    def __init__(self, config: ShopifyConfig | None = None) -> None:
        self.config = config or ShopifyConfig()
        self.clock = SandboxClock()
        self.limiter = CostLimiter(self.config.maximum_available, self.config.restore_rate)
        self.faults = Faults(seed=self.config.seed)
        self.stats = Stats()
        self.webhooks = WebhookDispatcher(self)
        self.world = self._new_world()
        if self.config.state_file and Path(self.config.state_file).exists():
            self.load_snapshot(self.config.state_file)

    def _new_world(self) -> World:
        world = World(self.config.seed)
        if self.config.seed_default:
            seed.seed_default_world(world, self.clock.now(), self.config.orders_per_shop)
        world.on_event = self.webhooks.enqueue  # seeding fires no webhooks
        return world

    def reset(self, seed_value: int | None = None) -> None:
        if seed_value is not None:
            self.config.seed = seed_value
        self.limiter.reset(self.config.maximum_available, self.config.restore_rate)
        self.faults = Faults(seed=self.config.seed)
        self.stats.reset()
        self.webhooks.reset()
        self.world = self._new_world()

    def deliver_due_webhooks(self) -> list[dict[str, Any]]:
        return self.webhooks.deliver_due()

    # ------------------------------------------------------------------ snapshot (like the TikTok sandbox)
    def save_snapshot(self, path: str | None = None) -> str:
        target = path or self.config.state_file
        if not target:
            raise ValueError("no state_file configured")
        with self.world.lock:
            blob = pickle.dumps({"world": self.world, "clock_offset": self.clock.now() - time.time()})
        Path(target).write_bytes(blob)
        return target

    def load_snapshot(self, path: str) -> None:
        # The snapshot is a file this sandbox wrote itself (never untrusted input).
        data = pickle.loads(Path(path).read_bytes())  # noqa: S301
        world: World = data["world"]
        world.on_event = self.webhooks.enqueue
        self.world = world

    # ------------------------------------------------------------------ WSGI
    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        status, headers, body = self.handle(environ)
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {REASONS.get(status, 'Error' if status >= 400 else 'OK')}", list(headers.items()))
        return [body]

    def handle(self, environ: dict[str, Any]) -> Response:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        query = {k: v if k.endswith("[]") else v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        host_shop = (environ.get("HTTP_HOST") or "").split(":")[0].lower()
        m = PREFIX_RE.match(path)
        if m:
            host_shop, path = m.group(1).lower(), m.group(2)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        if path == "/sandbox" or path.startswith("/sandbox/"):
            from .control import handle_control  # control reaches into the app's parts

            return handle_control(self, method, path, query, raw)
        g = GRAPHQL_RE.match(path)
        if g:
            if method != "POST":
                return json_response(405, {"errors": "Method not allowed"})
            return self.graphql(g.group(1), raw, headers, host_shop)
        world = self.world
        with world.lock:
            shop = world.shop_by_domain(host_shop)
            if path == "/admin/oauth/authorize" and method == "GET":
                return self.authorize(query, shop)
            if path == "/admin/oauth/access_token" and method == "POST":
                return self.access_token(raw, headers, shop)
        return json_response(404, {"errors": "Not Found"})

    # ------------------------------------------------------------------ OAuth (§2)
    def authorize(self, query: dict[str, Any], host_shop: Shop | None) -> Response:
        """Consent stub: the merchant approves at once; 302 to redirect_uri with a signed query (§2.3, §9)."""
        shop = host_shop or self.world.shop_by_domain(str(query.get("shop", "")))
        if shop is None:
            return json_response(404, {"errors": "Shop not found"})
        if query.get("client_id") != self.config.client_id:
            return json_response(400, {"error": "invalid_request", "error_description": "Unknown client_id"})
        redirect_uri = str(query.get("redirect_uri") or "")
        if not redirect_uri or (self.config.redirect_uris and redirect_uri not in self.config.redirect_uris):
            return json_response(
                400, {"error": "invalid_request", "error_description": "The redirect_uri is not whitelisted"}
            )
        scopes = [s.strip() for s in str(query.get("scope", "")).split(",") if s.strip()]
        now = self.clock.now()
        params: dict[str, Any] = {
            "code": oauth.issue_code(self.world, shop.id, self.config.client_id, scopes, now),
            "host": oauth.host_param(shop.handle),
            "shop": shop.myshopify_domain,
            "timestamp": str(now),
        }
        if "state" in query:
            params["state"] = query["state"]
        params["hmac"] = oauth.sign_query(self.config.client_secret, params)
        encoded = "&".join(f"{oauth.encode_param(k)}={oauth.encode_param(str(v))}" for k, v in sorted(params.items()))
        sep = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {"Location": f"{redirect_uri}{sep}{encoded}", "Content-Type": "text/html"}, b""

    def access_token(self, raw: bytes, headers: dict[str, str], shop: Shop | None) -> Response:
        try:
            if "json" in headers.get("content-type", ""):
                body = json.loads(raw or b"{}")
            else:
                body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            if not isinstance(body, dict):
                raise ValueError(body)
        except ValueError:
            return json_response(400, {"error": "invalid_request", "error_description": "Malformed request body"})
        shop_id = shop.id if shop else None
        if shop_id is None:
            code = self.world.codes.get(str(body.get("code") or ""))
            grant = next((g for g in self.world.grants if g.refresh_token == body.get("refresh_token")), None)
            shop_id = code.shop_id if code else (grant.shop_id if grant else -1)
        try:
            return json_response(200, oauth.exchange(self.world, shop_id, body, self.config, self.clock.now()))
        except oauth.OAuthError as exc:
            return json_response(exc.status, exc.body)

    # ------------------------------------------------------------------ GraphQL (§2.5, §3 - §6)
    def _grant(self, headers: dict[str, str], shop: Shop | None) -> Grant | None:
        grant = self.world.grant_for_token(headers.get("x-shopify-access-token", ""))
        if grant is None or (shop is not None and grant.shop_id != shop.id):
            return None
        if grant.access_expires_at is not None and self.clock.now() >= grant.access_expires_at:
            return None
        # The app is using its newest token: the refresh token it replaced is now spent.
        grant.previous_refresh_token = None
        return grant

    def graphql(self, version: str, raw: bytes, headers: dict[str, str], host_shop: str) -> Response:
        versions = supported_versions(self.clock.now())
        served = version if version in versions else versions[0]
        vh = {"X-Shopify-API-Version": served}
        world = self.world
        with world.lock:
            shop = world.shop_by_domain(host_shop)
            grant = self._grant(headers, shop)
            if grant is not None:
                shop = world.shops[grant.shop_id]
        if grant is None or shop is None:
            if shop is not None:
                self.stats.count(shop.myshopify_domain, "unauthorized")
            return json_response(401, {"errors": INVALID_TOKEN}, vh)
        domain = shop.myshopify_domain
        try:
            if headers.get("content-type", "").startswith("application/graphql"):
                payload: Any = {"query": raw.decode()}
            else:
                payload = json.loads(raw or b"{}")
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                raise ValueError("query")
            variables = payload.get("variables") or {}
            if not isinstance(variables, dict):
                raise ValueError("variables")
        except ValueError:
            return json_response(400, {"errors": {"query": "Required parameter missing or invalid"}}, vh)
        try:
            document = parse(payload["query"])
        except GraphQLError as exc:
            return json_response(200, {"errors": [exc.formatted]}, vh)
        schema = schema_for(served)
        problems = validate(schema, document)
        if problems:
            return json_response(200, {"errors": [e.formatted for e in problems]}, vh)
        operation = _operation(document, payload.get("operationName"))
        if operation is None:
            return json_response(200, {"errors": [{"message": "No operation named in the document"}]}, vh)
        kind = operation.operation.value
        fields = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        self.stats.call(domain, kind, fields)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        too_big = _page_size_errors(document, variables, self.config.max_page_size)
        too_big += _input_size_errors(operation, variables, self.config.max_input_size)
        if too_big:
            self.stats.count(domain, "errors")
            return json_response(200, {"errors": too_big}, vh)
        delay = self.faults.latency_seconds(kind, fields)
        if delay:
            time.sleep(delay)
        requested = query_cost(operation, fragments, variables)
        key = (grant.client_id, grant.shop_id)
        if requested > self.limiter.maximum:
            self.stats.count(domain, "max_cost_exceeded")
            status = self.limiter.refund(key, 0)
            return json_response(200, _max_cost_body(requested, int(self.limiter.maximum), status), vh)
        ok, status = self.limiter.take(key, requested)
        if not ok:
            self.stats.count(domain, "throttled")
            return json_response(self.config.throttle_status_code, _throttled_body(requested, status), vh)
        hold = self.faults.hold_seconds(kind, fields)
        if hold:
            time.sleep(hold)
        rule = self.faults.pick_error(kind, fields)
        if rule is not None:
            self.stats.count(domain, "injected_errors")
            self.limiter.refund(key, requested)
            return _injected_error(rule.http_status, rule.message, rule.retry_after, vh)
        with world.lock:
            ctx = Context(
                world,
                world.shops[grant.shop_id],
                grant.scopes,
                self.clock.now(),
                self.config,
                version=served,
                client_id=grant.client_id,
                supported=tuple(versions),
            )
            result = execute_sync(
                schema,
                document,
                root_value=ROOT_VALUE,
                context_value=ctx,
                variable_values=variables,
                operation_name=payload.get("operationName"),
            )
        # Never above what was requested: lists without `first` count once up front, once per item after.
        actual = min(requested, query_cost(operation, fragments, variables, data=result.data, actual=True))
        status = self.limiter.refund(key, requested - actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
            self.stats.count(domain, "errors")
        body["data"] = result.data
        body["extensions"] = {"cost": _cost(requested, actual, status)}
        self.stats.count(domain, "ok")
        if self.faults.should_drop(kind, fields):
            self.stats.count(domain, "dropped")
            raise DropConnection(",".join(fields))
        return json_response(200, body, vh)


def _cost(requested: int, actual: int | None, status: dict[str, float]) -> dict[str, Any]:
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}


def _throttled_body(requested: int, status: dict[str, float]) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ],
        "extensions": {"cost": _cost(requested, None, status)},
    }


def _max_cost_body(requested: int, maximum: int, status: dict[str, float]) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({maximum}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maximum},
            }
        ],
        "extensions": {"cost": _cost(requested, None, status)},
    }


def _injected_error(status: int, message: str, retry_after: float | None, vh: dict[str, str]) -> Response:
    """A fault's error status. 500 answers like Shopify's GraphQL internal error, 429 like a throttle, 502/503/504
    like its edge [guess]."""
    request_id = str(uuid.uuid4())
    headers = {**vh, "X-Request-Id": request_id}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 429:
        body: Any = {"errors": [{"message": message or "Throttled", "extensions": {"code": "THROTTLED"}}]}
    elif status == 500:
        text = message or f"Internal error. Looks like something went wrong on our end.\nRequest ID: {request_id}"
        body = {"errors": [{"message": text, "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}]}
    else:
        body = {"errors": message or REASONS.get(status, "Error")}
    return json_response(status, body, headers)


def _operation(document: DocumentNode, name: Any) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


def _location(node: Any) -> list[dict[str, int]]:
    loc = getattr(node, "loc", None)
    return [{"line": loc.start_token.line, "column": loc.start_token.column}] if loc else []


def _page_size_errors(document: DocumentNode, variables: dict[str, Any], maximum: int) -> list[dict[str, Any]]:
    """§3.3/§10.6: `first`/`last` above 250 are refused before any cost is charged."""
    errors: list[dict[str, Any]] = []

    class _V(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            for a in node.arguments or ():
                if a.name.value in ("first", "last"):
                    value = value_from_ast_untyped(a.value, variables)
                    if isinstance(value, int) and value > maximum:
                        errors.append(
                            {
                                "message": f"The maximum number of items in a single page is {maximum}; "
                                f"`{a.name.value}` was {value}.",
                                "locations": _location(node),
                                "path": [node.name.value],
                                "extensions": {
                                    "code": "MAX_PAGE_SIZE_EXCEEDED",
                                    "argumentName": a.name.value,
                                    "maximum": maximum,
                                },
                            }
                        )

    visit(document, _V())
    return errors


def _input_size_errors(
    operation: OperationDefinitionNode, variables: dict[str, Any], maximum: int
) -> list[dict[str, Any]]:
    """§3.3/§10.4: an input array of more than 250 items is refused before anything runs ("GraphQL input objects
    limited to 250 items")."""
    errors: list[dict[str, Any]] = []

    def walk(value: Any, path: list[str], node: Any) -> None:
        if isinstance(value, list):
            if len(value) > maximum:
                errors.append(
                    {
                        "message": f"The input array size of {len(value)} is greater than the maximum allowed of "
                        f"{maximum}.",
                        "locations": _location(node),
                        "path": path,
                        "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"},
                    }
                )
            for item in value:
                walk(item, path, node)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, [*path, str(k)], node)

    for sel in operation.selection_set.selections:
        if isinstance(sel, FieldNode):
            for a in sel.arguments or ():
                walk(value_from_ast_untyped(a.value, variables), [sel.name.value, a.name.value], a)
    return errors
