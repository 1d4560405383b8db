"""OAuth per §2: the consent stub, the signed callback redirect and the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import quote

from .state import AuthCode, Grant, World

SHOP_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]*\.(myshopify\.com|shopify\.com|myshopify\.io|shop\.dev)[/]*$")


def encode_param(value: str) -> str:
    # URLSearchParams encoding with "+" replaced by "%20" (§2.3): "*-._" stay literal, everything else is escaped.
    return quote(value, safe="*-._").replace("~", "%7E")


def hmac_message(query: dict[str, Any]) -> str:
    """§2.3 steps 1-3: drop hmac/signature, sort keys, encode k=v pairs (arrays as key[]=v)."""
    parts: list[str] = []
    for key in sorted(k for k in query if k not in ("hmac", "signature")):
        value = query[key]
        if isinstance(value, list):
            parts += [
                f"{encode_param(key + '[]' if not key.endswith('[]') else key)}={encode_param(str(v))}" for v in value
            ]
        else:
            parts.append(f"{encode_param(key)}={encode_param(str(value))}")
    return "&".join(parts)


def sign_query(secret: str, query: dict[str, Any]) -> str:
    return hmac.new(secret.encode(), hmac_message(query).encode(), hashlib.sha256).hexdigest()


def host_param(shop_handle: str) -> str:
    return base64.b64encode(f"admin.shopify.com/store/{shop_handle}".encode()).decode().rstrip("=")


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


def issue_code(world: World, shop_id: int, client_id: str, scopes: list[str], now: float) -> str:
    code = secrets.token_hex(16)
    world.codes[code] = AuthCode(code=code, shop_id=shop_id, client_id=client_id, scopes=scopes, created_at=now)
    return code


def _new_grant(
    world: World, shop_id: int, client_id: str, scopes: list[str], expiring: bool, now: float, cfg: Any
) -> Grant:
    grant = Grant(
        shop_id=shop_id,
        client_id=client_id,
        scopes=scopes,
        access_token="shpat_" + secrets.token_hex(16),
        access_expires_at=now + cfg.access_token_ttl if expiring else None,
        refresh_token="shprt_" + secrets.token_hex(16) if expiring else None,
        refresh_expires_at=now + cfg.refresh_token_ttl if expiring else None,
    )
    world.grants.append(grant)
    return grant


def token_response(grant: Grant, now: float) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": grant.access_token, "scope": ",".join(grant.scopes)}
    if grant.access_expires_at is not None:
        body["expires_in"] = int(grant.access_expires_at - now)
        body["refresh_token"] = grant.refresh_token
        body["refresh_token_expires_in"] = int((grant.refresh_expires_at or now) - now)
    return body


def exchange(world: World, shop_id: int, body: dict[str, Any], cfg: Any, now: float) -> dict[str, Any]:
    """POST /admin/oauth/access_token: the code grant or grant_type=refresh_token (§2.4)."""
    client_id = str(body.get("client_id") or "")
    client_secret = str(body.get("client_secret") or "")
    if client_id != cfg.client_id or not hmac.compare_digest(client_secret.encode(), cfg.client_secret.encode()):
        raise OAuthError(401, "invalid_client", "Client credentials are invalid")
    if body.get("grant_type") == "refresh_token":
        return _refresh(world, shop_id, str(body.get("refresh_token") or ""), now, cfg)
    code = world.codes.get(str(body.get("code") or ""))
    if code is None or code.used or code.shop_id != shop_id or code.client_id != client_id:
        raise OAuthError(400, "invalid_request", "The authorization code was not found or was already used")
    if now - code.created_at > cfg.auth_code_ttl:
        raise OAuthError(400, "invalid_request", "The authorization code has expired")
    code.used = True
    expiring = str(body.get("expiring", "0")) == "1"
    if not expiring and cfg.require_expiring_tokens:
        raise OAuthError(400, "invalid_request", "This app must request expiring offline access tokens")
    # A fresh install replaces any earlier grant of the same app on the same shop.
    for g in world.grants:
        if g.shop_id == shop_id and g.client_id == client_id:
            g.revoked = True
    grant = _new_grant(world, shop_id, client_id, code.scopes, expiring, now, cfg)
    return token_response(grant, now)


def _refresh(world: World, shop_id: int, token: str, now: float, cfg: Any) -> dict[str, Any]:
    for grant in world.grants:
        if grant.revoked or grant.shop_id != shop_id or not token:
            continue
        if token == grant.refresh_token or token == grant.previous_refresh_token:
            if token == grant.refresh_token and grant.refresh_expires_at is not None and now > grant.refresh_expires_at:
                break
            # Rotation: a new access token and a new refresh token. The one just used stays valid until the
            # app starts using its replacement (changelog 2026-08-28), i.e. until the new access token is used.
            grant.previous_refresh_token = token
            grant.access_token = "shpat_" + secrets.token_hex(16)
            grant.access_expires_at = now + cfg.access_token_ttl
            grant.refresh_token = "shprt_" + secrets.token_hex(16)
            grant.refresh_expires_at = now + cfg.refresh_token_ttl
            return token_response(grant, now)
    raise OAuthError(400, "invalid_grant", "The refresh token is invalid or has expired")
