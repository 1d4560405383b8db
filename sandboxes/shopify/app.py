"""The sandbox application: one WSGI callable serving OAuth, the GraphQL Admin API and /sandbox/ control.

A shop is named the way Shopify names it, by host: the Host header (`dropline-demo.myshopify.com`) or, for
clients that cannot set it, a path prefix (`/dropline-demo.myshopify.com/admin/...`).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
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
from .schema import ROOT_VALUE, SCHEMA, Context, render_order
from .state import Address, Grant, Order, Shop, World, gid, iso

StartResponse = Callable[..., Any]
Response = tuple[int, dict[str, str], bytes]

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105 - an error text
PREFIX_RE = re.compile(r"^/([a-zA-Z0-9][a-zA-Z0-9-_]*\.(?:myshopify\.com|shopify\.com|myshopify\.io|shop\.dev))(/.*)$")
GRAPHQL_RE = re.compile(r"^/admin/api/([^/]+)/graphql\.json$")


def supported_versions(now: float) -> list[str]:
    """§1: the current quarter's version, the 3 before it, the next one (release candidate) and unstable."""
    d = datetime.fromtimestamp(now, UTC)
    q = d.year * 4 + (d.month - 1) // 3
    out = []
    for i in range(q - 3, q + 2):
        out.append(f"{i // 4:04d}-{(i % 4) * 3 + 1:02d}")
    return [*out, "unstable"]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return status, h, json.dumps(body).encode()


class ShopifySandbox:
    def __init__(self, config: ShopifyConfig | None = None) -> None:
        self.config = config or ShopifyConfig()
        self.clock = SandboxClock()
        self.limiter = CostLimiter(self.config.maximum_available, self.config.restore_rate)
        self._lock = threading.Lock()
        self.world = self._new_world()

    def _new_world(self) -> World:
        world = World(self.config.seed)
        if self.config.seed_default:
            seed.seed_default_world(world, self.clock.now(), self.config.orders_per_shop)
        return world

    def reset(self, seed_value: int | None = None) -> None:
        if seed_value is not None:
            self.config.seed = seed_value
        self.limiter.reset(self.config.maximum_available, self.config.restore_rate)
        self.world = self._new_world()

    # ------------------------------------------------------------------ WSGI
    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        status, headers, body = self.handle(environ)
        reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(
            status, "Error" if status >= 400 else "OK"
        )
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {reason}", list(headers.items()))
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
        with self.world.lock:
            shop = self.world.shop_by_domain(host_shop)
            if path == "/admin/oauth/authorize" and method == "GET":
                return self.authorize(query, shop)
            if path == "/admin/oauth/access_token" and method == "POST":
                return self.access_token(raw, headers, shop)
            g = GRAPHQL_RE.match(path)
            if g:
                if method != "POST":
                    return _json(405, {"errors": "Method not allowed"})
                return self.graphql(g.group(1), raw, headers, shop)
            if path.startswith("/sandbox/"):
                return self.control(method, path, query, raw)
        return _json(404, {"errors": "Not Found"})

    # ------------------------------------------------------------------ OAuth (§2)
    def authorize(self, query: dict[str, Any], host_shop: Shop | None) -> Response:
        """Consent stub: the merchant approves at once; 302 to redirect_uri with a signed query (§2.3, §9)."""
        shop = host_shop or self.world.shop_by_domain(str(query.get("shop", "")))
        if shop is None:
            return _json(404, {"errors": "Shop not found"})
        if query.get("client_id") != self.config.client_id:
            return _json(400, {"error": "invalid_request", "error_description": "Unknown client_id"})
        redirect_uri = str(query.get("redirect_uri") or "")
        if not redirect_uri or (self.config.redirect_uris and redirect_uri not in self.config.redirect_uris):
            return _json(400, {"error": "invalid_request", "error_description": "The redirect_uri is not whitelisted"})
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
            return _json(400, {"error": "invalid_request", "error_description": "Malformed request body"})
        shop_id = shop.id if shop else None
        if shop_id is None:
            code = self.world.codes.get(str(body.get("code") or ""))
            grant = next((g for g in self.world.grants if g.refresh_token == body.get("refresh_token")), None)
            shop_id = code.shop_id if code else (grant.shop_id if grant else -1)
        try:
            return _json(200, oauth.exchange(self.world, shop_id, body, self.config, self.clock.now()))
        except oauth.OAuthError as exc:
            return _json(exc.status, exc.body)

    # ------------------------------------------------------------------ GraphQL (§2.5, §3, §6)
    def _grant(self, headers: dict[str, str], shop: Shop | None) -> Grant | None:
        grant = self.world.grant_for_token(headers.get("x-shopify-access-token", ""))
        if grant is None or (shop is not None and grant.shop_id != shop.id):
            return None
        if grant.access_expires_at is not None and self.clock.now() >= grant.access_expires_at:
            return None
        # The app is using its newest token: the refresh token it replaced is now spent.
        grant.previous_refresh_token = None
        return grant

    def graphql(self, version: str, raw: bytes, headers: dict[str, str], shop: Shop | None) -> Response:
        versions = supported_versions(self.clock.now())
        served = version if version in versions else versions[0]
        vh = {"X-Shopify-API-Version": served}
        grant = self._grant(headers, shop)
        if grant is None:
            return _json(401, {"errors": INVALID_TOKEN}, vh)
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
            return _json(400, {"errors": {"query": "Required parameter missing or invalid"}}, vh)
        try:
            document = parse(payload["query"])
        except GraphQLError as exc:
            return _json(200, {"errors": [exc.formatted]}, vh)
        problems = validate(SCHEMA, document)
        if problems:
            return _json(200, {"errors": [e.formatted for e in problems]}, vh)
        operation = _operation(document, payload.get("operationName"))
        if operation is None:
            return _json(200, {"errors": [{"message": "No operation named in the document"}]}, vh)
        if operation.operation.value != "query":
            return _json(200, {"errors": [{"message": "Mutations are not in this sandbox slice yet"}]}, vh)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        too_big = _page_size_errors(document, variables, self.config.max_page_size)
        if too_big:
            return _json(200, {"errors": too_big}, vh)
        requested = query_cost(operation, fragments, variables)
        key = (grant.client_id, grant.shop_id)
        if requested > self.limiter.maximum:
            status = self.limiter.refund(key, 0)
            return _json(
                200,
                {
                    "errors": [
                        {
                            "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                            f"({int(self.limiter.maximum)}).",
                            "extensions": {
                                "code": "MAX_COST_EXCEEDED",
                                "cost": requested,
                                "maxCost": int(self.limiter.maximum),
                            },
                        }
                    ],
                    "extensions": {"cost": _cost(requested, None, status)},
                },
                vh,
            )
        ok, status = self.limiter.take(key, requested)
        if not ok:
            return _json(
                self.config.throttle_status_code,
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {"cost": _cost(requested, None, status)},
                },
                vh,
            )
        ctx = Context(self.world, self.world.shops[grant.shop_id], grant.scopes, self.clock.now(), self.config)
        result = execute_sync(
            SCHEMA,
            document,
            root_value=ROOT_VALUE,
            context_value=ctx,
            variable_values=variables,
            operation_name=payload.get("operationName"),
        )
        actual = query_cost(operation, fragments, variables, data=result.data, actual=True)
        status = self.limiter.refund(key, requested - actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        body["data"] = result.data
        body["extensions"] = {"cost": _cost(requested, actual, status)}
        return _json(200, body, vh)

    # ------------------------------------------------------------------ control API
    def control(self, method: str, path: str, query: dict[str, Any], raw: bytes) -> Response:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return _json(400, {"error": "invalid JSON"})
        w = self.world
        try:
            if path == "/sandbox/reset" and method == "POST":
                self.reset(body.get("seed"))
                return _json(200, {"ok": True, "seed": self.config.seed})
            if path == "/sandbox/state" and method == "GET":
                return _json(200, {"shops": [self._shop_summary(s) for s in w.shops.values()]})
            if path == "/sandbox/clock":
                if method == "POST":
                    if "advance" in body:
                        self.clock.advance(float(body["advance"]))
                    if "set" in body:
                        self.clock.set(float(body["set"]))
                    if body.get("freeze"):
                        self.clock.freeze()
                    if body.get("unfreeze"):
                        self.clock.unfreeze()
                return _json(200, self.clock.describe())
            if path == "/sandbox/rate-limit" and method == "POST":
                if "status_code" in body:
                    self.config.throttle_status_code = int(body["status_code"])
                self.config.maximum_available = float(body.get("maximum_available", self.config.maximum_available))
                self.config.restore_rate = float(body.get("restore_rate", self.config.restore_rate))
                self.limiter.reset(self.config.maximum_available, self.config.restore_rate)
                return _json(
                    200, {"maximum_available": self.limiter.maximum, "restore_rate": self.limiter.restore_rate}
                )
            if path == "/sandbox/authorize" and method == "POST":
                shop = self._shop(body.get("shop"))
                scopes = list(body.get("scopes") or ["read_orders", "read_locations"])
                code = oauth.issue_code(w, shop.id, self.config.client_id, scopes, self.clock.now())
                return _json(200, {"code": code, "shop": shop.myshopify_domain})
            if path == "/sandbox/install-link" and method == "POST":
                # §2.1: the signed GET Shopify sends to the App URL when a merchant installs.
                shop = self._shop(body.get("shop"))
                params = {
                    "host": oauth.host_param(shop.handle),
                    "shop": shop.myshopify_domain,
                    "timestamp": str(self.clock.now()),
                }
                params["hmac"] = oauth.sign_query(self.config.client_secret, params)
                encoded = "&".join(
                    f"{oauth.encode_param(k)}={oauth.encode_param(v)}" for k, v in sorted(params.items())
                )
                return _json(200, {"url": f"{body['app_url']}?{encoded}", "query": params})
            if path == "/sandbox/orders" and method == "GET":
                only = self._shop(query.get("shop")) if query.get("shop") else None
                orders = [o for o in w.orders.values() if only is None or o.shop_id == only.id]
                return _json(200, {"orders": [self._order_summary(o) for o in sorted(orders, key=lambda o: o.id)]})
            if path == "/sandbox/orders" and method == "POST":
                shop = self._shop(body.get("shop"))
                lines = [(str(li["sku"]), int(li.get("quantity", 1))) for li in body.get("lines") or []] or None
                now = self.clock.now()
                order = seed.create_order(
                    w, shop, now, random.Random(f"{self.config.seed}:{len(w.orders)}"), lines=lines
                )
                if body.get("state"):
                    seed.apply_state(order, str(body["state"]), now)
                return _json(201, self._order_summary(order))
            m = re.fullmatch(r"/sandbox/orders/(\d+)(/cancel)?", path)
            if m and method in ("POST", "PATCH"):
                found = w.orders.get(int(m.group(1)))
                if found is None:
                    return _json(404, {"error": "order not found"})
                order = found
                now = self.clock.now()
                if m.group(2):
                    if order.cancelled_at is not None:
                        return _json(409, {"error": "order already cancelled"})
                    order.cancelled_at = now
                    order.cancel_reason = str(body.get("reason", "CUSTOMER")).upper()
                    order.financial_status = "REFUNDED"
                else:
                    self._update_order(order, body)
                order.updated_at = now
                return _json(200, self._order_summary(order))
        except (KeyError, ValueError, TypeError) as exc:
            return _json(400, {"error": f"bad request: {exc}"})
        return _json(404, {"error": "unknown control route"})

    def _shop(self, domain: Any) -> Shop:
        if not domain:
            return next(iter(self.world.shops.values()))
        shop = self.world.shop_by_domain(str(domain))
        if shop is None:
            raise KeyError(f"shop {domain}")
        return shop

    def _update_order(self, order: Order, body: dict[str, Any]) -> None:
        by_sku = {li.sku: li for li in order.line_items}
        for sku, qty in (body.get("fulfill") or {}).items():
            li = by_sku[sku]
            li.fulfilled_quantity = min(li.current_quantity, li.fulfilled_quantity + int(qty))
        for sku, qty in (body.get("remove") or {}).items():
            li = by_sku[sku]
            li.current_quantity = max(li.fulfilled_quantity, li.current_quantity - int(qty))
            order.edited = True
        if "shipping_address" in body:
            a = body["shipping_address"]
            order.shipping_address = Address(
                name=a["name"],
                address1=a["address1"],
                city=a["city"],
                province_code=a.get("province_code", ""),
                zip=a.get("zip", ""),
                country_code=a.get("country_code", "US"),
                company=a.get("company"),
                address2=a.get("address2"),
                phone=a.get("phone"),
            )
        if "financial_status" in body:
            order.financial_status = str(body["financial_status"])

    def _shop_summary(self, shop: Shop) -> dict[str, Any]:
        return {
            "id": gid("Shop", shop.id),
            "myshopify_domain": shop.myshopify_domain,
            "name": shop.name,
            "currency": shop.currency,
            "locations": [{"id": gid("Location", i), "name": self.world.locations[i].name} for i in shop.location_ids],
            "skus": [self.world.variants[v].sku for p in shop.product_ids for v in self.world.products[p].variant_ids],
        }

    def _order_summary(self, order: Order) -> dict[str, Any]:
        rendered = render_order(self.world, order, self.config)
        return {
            "id": rendered["id"],
            "name": order.name,
            "shop": self.world.shops[order.shop_id].myshopify_domain,
            "created_at": iso(order.created_at),
            "updated_at": iso(order.updated_at),
            "cancelled_at": iso(order.cancelled_at),
            "display_fulfillment_status": rendered["displayFulfillmentStatus"],
            "edited": order.edited,
            "lines": [
                {
                    "sku": li.sku,
                    "quantity": li.quantity,
                    "current_quantity": li.current_quantity,
                    "fulfilled_quantity": li.fulfilled_quantity,
                }
                for li in order.line_items
            ],
        }


def _cost(requested: int, actual: int | None, status: dict[str, float]) -> dict[str, Any]:
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}


def _operation(document: DocumentNode, name: Any) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


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
                                "locations": [
                                    {"line": node.loc.start_token.line, "column": node.loc.start_token.column}
                                ]
                                if node.loc
                                else [],
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
