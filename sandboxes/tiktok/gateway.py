"""The open-API gateway: request parsing, routing and the common checks, in TikTok's order.

Order of checks (each failure answers immediately with TikTok's code):
app_key -> timestamp (real wall clock) -> sign -> x-tts-access-token -> shop_cipher -> path/method/version
-> rate limit -> injected faults -> the endpoint's own rules.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from . import errors as E
from .errors import ApiError
from .signing import verify_request
from .state import Seller, Shop, Token

if TYPE_CHECKING:
    from .app import TikTokSandbox


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    environ: dict[str, Any]
    path_params: dict[str, str] = field(default_factory=dict)
    api: str = ""
    token: Token | None = None
    seller: Seller | None = None
    shop: Shop | None = None
    _json: Any = None
    _json_parsed: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def base_url(self) -> str:
        scheme = self.environ.get("wsgi.url_scheme", "http")
        host = self.headers.get("host") or self.environ.get("SERVER_NAME", "127.0.0.1")
        return f"{scheme}://{host}"

    def json(self) -> Any:
        """The JSON body (``{}`` when empty). Non-JSON bodies are rejected with 36009022."""
        if not self._json_parsed:
            self._json_parsed = True
            raw = self.body.strip()
            if not raw:
                self._json = {}
            else:
                try:
                    self._json = json.loads(raw)
                except ValueError as exc:
                    raise ApiError(36009022, E.MSG_BODY_FORMAT) from exc
        return self._json

    def body_obj(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(36009022, E.MSG_BODY_FORMAT)
        return data


Handler = Callable[["TikTokSandbox", Request], Any]


@dataclass
class Route:
    method: str
    template: str  # "/fulfillment/{v}/packages/{package_id}/ship"
    versions: tuple[str, ...]
    handler: Handler
    scope: str  # "shop" (shop_cipher required), "seller" (shop_cipher forbidden)

    def segments(self) -> list[str]:
        return self.template.strip("/").split("/")


def parse_query(qs: str) -> dict[str, str]:
    # Values are URL-decoded: the signature is computed over raw (decoded) values (README §1.1 step 3).
    return dict(parse_qsl(qs, keep_blank_values=True))


def new_request_id() -> str:
    # TikTok request ids look like "202203070749000101890810281E8C70B7": a time prefix then hex.
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + uuid.uuid4().hex[:20].upper()


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, versions: tuple[str, ...], handler: Handler, scope: str = "shop") -> None:
        self.routes.append(Route(method, template, versions, handler, scope))

    @staticmethod
    def _match(route: Route, parts: list[str], ignore_version: bool) -> dict[str, str] | None:
        segs = route.segments()
        if len(segs) != len(parts):
            return None
        params: dict[str, str] = {}
        for s, p in zip(segs, parts, strict=True):
            if s == "{v}":
                if not ignore_version and p not in route.versions:
                    return None
                params["__version"] = p
            elif s.startswith("{"):
                if not p:
                    return None
                params[s[1:-1]] = p
            elif s != p:
                return None
        return params

    def category_scope(self, path: str) -> str:
        first = path.strip("/").split("/", 1)[0]
        return "seller" if first in ("authorization", "seller") else "shop"

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        parts = path.strip("/").split("/")
        exact = [(r, p) for r in self.routes if (p := self._match(r, parts, False)) is not None]
        # Literal segments beat placeholders: "/packages/search" must not be read as "/packages/{package_id}".
        exact.sort(key=lambda rp: -sum(1 for s in rp[0].segments() if not s.startswith("{")))
        for route, params in exact:
            if route.method == method:
                return route, params
        if exact:
            raise ApiError(36009010, E.MSG_METHOD)
        loose = [r for r in self.routes if self._match(r, parts, True) is not None]
        if loose:
            raise ApiError(36009014, E.MSG_VERSION)
        raise ApiError(36009009, E.MSG_PATH)


def api_key_for(route: Route, params: dict[str, str]) -> str:
    version = params.get("__version", route.versions[0])
    return f"{route.method} " + route.template.replace("{v}", version)


def authenticate(sb: TikTokSandbox, req: Request) -> None:
    """app_key, timestamp, sign, access token, shop_cipher — in that order."""
    cfg = sb.config
    q = req.query
    if q.get("app_key") != cfg.app_key:
        raise ApiError(36009004, E.MSG_APP_KEY)
    ts = q.get("timestamp", "")
    if not ts.isdigit() or len(ts) != 10:
        raise ApiError(36009004, E.MSG_TS_MISSING)
    # Checked against REAL wall-clock time: clients sign with time.time(), even when tests move the sandbox clock.
    now = time.time()
    if int(ts) < now - cfg.timestamp_past_window:
        raise ApiError(36009004, E.MSG_TS_OLD)
    if int(ts) > now + cfg.timestamp_future_window:
        raise ApiError(36009004, E.MSG_TS_FUTURE)
    given = q.get("sign")
    if not given:
        raise ApiError(36009004, E.MSG_NO_SIGN)
    multipart = req.content_type.lower().startswith("multipart/form-data")
    if not verify_request(cfg.app_secret, req.path, q, req.body, multipart, given):
        raise ApiError(106001, E.MSG_BAD_SIGN)
    raw_token = req.headers.get("x-tts-access-token", "")
    world = sb.world
    token = world.tokens.get(raw_token) if raw_token else None
    if token is None:
        raise ApiError(36009004, E.MSG_BAD_ACCESS_HEADER)
    if token.access_expire <= sb.clock.now():
        raise ApiError(105002, E.MSG_CREDENTIALS_EXPIRED)
    seller = world.sellers.get(token.seller_id)
    if seller is None or not seller.authorized:
        raise ApiError(36009004, E.MSG_BAD_ACCESS_HEADER)
    req.token, req.seller = token, seller
    scope = sb.router.category_scope(req.path)
    cipher = q.get("shop_cipher")
    if scope == "seller":
        if cipher is not None:
            raise ApiError(36009004, E.MSG_UNEXPECTED_CIPHER)
        return
    if not cipher:
        raise ApiError(106013, E.MSG_NO_CIPHER)
    shop = world.shops_by_cipher.get(cipher)
    if shop is None or shop.seller_id != seller.id:
        raise ApiError(101000, E.MSG_CIPHER_MISMATCH)
    req.shop = shop


def envelope(code: int, message: str, data: Any) -> bytes:
    return json.dumps(
        {"code": code, "message": message, "request_id": new_request_id(), "data": data}, separators=(",", ":")
    ).encode()
