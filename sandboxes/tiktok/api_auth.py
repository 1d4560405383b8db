"""Seller consent page, token endpoints (auth host) and the shop-listing APIs."""

from __future__ import annotations

import html
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .errors import ApiError
from .gateway import Request
from .state import DAY, AuthCode, Token

if TYPE_CHECKING:
    from .app import TikTokSandbox

AUTH_CODE_TTL = 30 * 60
ACCESS_TTL = 7 * DAY
REFRESH_TTL = 365 * DAY  # not documented; the official sample implies about a year
SCOPES = [
    "seller.authorization.info",
    "seller.order.info",
    "seller.fulfillment.basic",
    "seller.fulfillment.package.write",
    "seller.logistics",
    "seller.product.basic",
    "seller.product.write",
    "seller.shop.info",
]


def _rand(n: int) -> str:
    return secrets.token_urlsafe(n).replace("-", "A").replace("_", "b")


def issue_code(sb: TikTokSandbox, seller_id: str) -> str:
    world = sb.world
    if seller_id not in world.sellers:
        raise ApiError(36009004, f"unknown seller {seller_id}")
    code = _rand(16)
    world.auth_codes[code] = AuthCode(code=code, seller_id=seller_id, expires=sb.clock.now() + AUTH_CODE_TTL)
    world.sellers[seller_id].authorized = True
    return code


def issue_token(sb: TikTokSandbox, seller_id: str) -> Token:
    now = sb.clock.now()
    tok = Token(
        access_token="TTP_" + _rand(48),
        refresh_token="TTP_" + _rand(36),
        seller_id=seller_id,
        access_expire=now + ACCESS_TTL,
        refresh_expire=now + REFRESH_TTL,
        granted_scopes=list(SCOPES),
    )
    sb.world.tokens[tok.access_token] = tok
    sb.world.refresh_tokens[tok.refresh_token] = tok
    return tok


def token_payload(sb: TikTokSandbox, tok: Token) -> dict[str, Any]:
    seller = sb.world.sellers[tok.seller_id]
    return {
        "access_token": tok.access_token,
        "access_token_expire_in": tok.access_expire,
        "refresh_token": tok.refresh_token,
        "refresh_token_expire_in": tok.refresh_expire,
        "open_id": seller.id,
        "seller_name": seller.name,
        "seller_base_region": seller.base_region,
        "user_type": 0,
        "granted_scopes": tok.granted_scopes,
    }


def _check_app(sb: TikTokSandbox, q: dict[str, str]) -> None:
    # Error codes of the auth host are not documented; we reuse 36009004 ("invalid credentials").
    if q.get("app_key") != sb.config.app_key or q.get("app_secret") != sb.config.app_secret:
        raise ApiError(36009004, "Invalid credentials. Invalid app_key or app_secret.")


def token_get(sb: TikTokSandbox, q: dict[str, str]) -> dict[str, Any]:
    _check_app(sb, q)
    if q.get("grant_type") != "authorized_code":
        raise ApiError(36009004, "Invalid grant_type, expected authorized_code.")
    code = sb.world.auth_codes.get(q.get("auth_code", ""))
    if code is None or code.used:
        raise ApiError(36009004, "Invalid auth_code: unknown or already used.")
    if code.expires <= sb.clock.now():
        raise ApiError(36009004, "Invalid auth_code: expired.")
    code.used = True
    return token_payload(sb, issue_token(sb, code.seller_id))


def token_refresh(sb: TikTokSandbox, q: dict[str, str]) -> dict[str, Any]:
    _check_app(sb, q)
    if q.get("grant_type") != "refresh_token":
        raise ApiError(36009004, "Invalid grant_type, expected refresh_token.")
    old = sb.world.refresh_tokens.get(q.get("refresh_token", ""))
    if old is None or old.refresh_expire <= sb.clock.now() or not sb.world.sellers[old.seller_id].authorized:
        raise ApiError(36009004, "Invalid refresh_token: unknown or expired.")
    now = sb.clock.now()
    # A new access token; the refresh token and its expiry stay (guess; the old access token stays valid too).
    tok = Token(
        access_token="TTP_" + _rand(48),
        refresh_token=old.refresh_token,
        seller_id=old.seller_id,
        access_expire=now + ACCESS_TTL,
        refresh_expire=old.refresh_expire,
        granted_scopes=old.granted_scopes,
    )
    sb.world.tokens[tok.access_token] = tok
    sb.world.refresh_tokens[tok.refresh_token] = tok
    return token_payload(sb, tok)


def consent_page(sb: TikTokSandbox, q: dict[str, str]) -> tuple[int, str]:
    if q.get("service_id") != sb.config.service_id:
        return 400, "<h1>Invalid service_id</h1>"
    state = q.get("state", "")
    rows = []
    for seller in sb.world.sellers.values():
        shops = ", ".join(html.escape(f"{s.name} ({s.region})") for s in (sb.world.shops[i] for i in seller.shop_ids))
        rows.append(
            f'<label><input type="radio" name="seller_id" value="{seller.id}" '
            f"{'checked' if not rows else ''}> <b>{html.escape(seller.name)}</b> — {shops}</label><br>"
        )
    return (
        200,
        f"""<!doctype html><html><head><meta charset="utf-8"><title>TikTok Shop sandbox — authorize</title>
<style>body{{font-family:sans-serif;max-width:640px;margin:40px auto}}button{{padding:8px 20px;margin:8px}}</style>
</head><body><h1>Authorize app</h1>
<p>The app <code>{html.escape(sb.config.app_key)}</code> asks to access your shops' orders, fulfillment,
logistics and products. Pick which sandbox seller is consenting:</p>
<form method="post" action="/open/authorize/decision">
<input type="hidden" name="service_id" value="{html.escape(sb.config.service_id)}">
<input type="hidden" name="state" value="{html.escape(state)}">
{"".join(rows)}
<button type="submit" name="action" value="authorize">Authorize</button>
<button type="submit" name="action" value="deny">Deny</button>
</form></body></html>""",
    )


def consent_decision(sb: TikTokSandbox, form: dict[str, str]) -> str:
    """Returns the redirect location."""
    redirect = sb.config.redirect_uri
    sep = "&" if "?" in redirect else "?"
    if form.get("action") != "authorize":
        return f"{redirect}{sep}code=null&error=auth_denied"
    code = issue_code(sb, form.get("seller_id", ""))
    params = {"code": code}
    if form.get("state"):
        params["state"] = form["state"]
    return f"{redirect}{sep}{urlencode(params)}"


def authorized_shops(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.seller is not None
    shops = [sb.world.shops[i] for i in req.seller.shop_ids]
    return {
        "shops": [
            {
                "id": s.id,
                "name": s.name,
                "region": s.region,
                "seller_type": s.seller_type,
                "cipher": s.cipher,
                "code": s.code,
            }
            for s in shops
        ]
    }


def active_shops(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.seller is not None
    return {"shops": [{"id": i, "region": sb.world.shops[i].region} for i in req.seller.shop_ids]}
