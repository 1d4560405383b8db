"""Seller authorization: the consent link and the token endpoints on the auth host (README §2).

The token endpoints are unsigned GETs carrying app_secret in the query, so their URLs must never be logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from integrations.errors import PlatformAuthError, PlatformError
from integrations.interface import TokenSet
from integrations.responses import response_json
from integrations.tiktok import translate
from integrations.tiktok.config import TikTokConfig

log = logging.getLogger(__name__)

PLATFORM = "tiktok"
TOKEN_GET_PATH = "/api/v2/token/get"  # noqa: S105 - a URL path, not a secret
TOKEN_REFRESH_PATH = "/api/v2/token/refresh"  # noqa: S105 - a URL path


class TikTokAuth:
    def __init__(
        self,
        config: TikTokConfig,
        http: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._http = http
        self._sleep = sleep

    def authorization_url(self, state: str) -> str:
        """The seller consent page; TikTok redirects to the app's registered URL with ?code=&state=."""
        return f"{self.config.authorize_url}?{urlencode({'service_id': self.config.service_id, 'state': state})}"

    def exchange_code(self, auth_code: str) -> TokenSet:
        """Trade a consent `code` (single use, valid 30 min) for tokens.

        Not retried after the request left: the code is single use, so a repeat of a processed exchange fails; the
        seller simply authorizes again.
        """
        return self._token_call(
            TOKEN_GET_PATH,
            {"auth_code": auth_code, "grant_type": "authorized_code"},
            retry_after_send=False,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """A fresh access token; repeating a refresh is harmless, so transport failures are retried."""
        return self._token_call(
            TOKEN_REFRESH_PATH,
            {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            retry_after_send=True,
        )

    def _token_call(self, path: str, params: dict[str, str], *, retry_after_send: bool) -> TokenSet:
        query = {"app_key": self.config.app_key, "app_secret": self.config.app_secret, **params}
        url = self.config.auth_base_url + path
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.get(url, params=query, headers={"content-type": "application/json"})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                failure = PlatformError(PLATFORM, "transport", type(exc).__name__, retryable=True)
            except httpx.TransportError as exc:
                failure = PlatformError(PLATFORM, "transport", type(exc).__name__, retryable=retry_after_send)
            else:
                failure_or_tokens = self._interpret(response)
                if isinstance(failure_or_tokens, TokenSet):
                    return failure_or_tokens
                failure = failure_or_tokens
            if not failure.retryable or attempt == attempts:
                raise failure
            self._sleep(min(self.config.backoff_base_seconds * 2 ** (attempt - 1), self.config.backoff_max_seconds))
        raise AssertionError("unreachable")

    def _interpret(self, response: httpx.Response) -> TokenSet | PlatformError:
        if response.status_code == 429 or response.status_code >= 500:
            return PlatformError(
                PLATFORM,
                f"http_{response.status_code}",
                "auth host unavailable",
                http_status=response.status_code,
                retryable=True,
            )
        try:
            payload: dict[str, Any] = response_json(response)
        except ValueError:
            return PlatformError(
                PLATFORM, "bad_response", "auth host sent no JSON", http_status=response.status_code, retryable=False
            )
        code = payload.get("code")
        request_id = str(payload.get("request_id") or "") or None
        if code == 0 and isinstance(payload.get("data"), dict):
            return translate.token_set_from_json(payload["data"])
        if code in (36009002, 36009003):
            return PlatformError(
                PLATFORM, code, str(payload.get("message") or ""), request_id=request_id, retryable=True
            )
        # Bad/used code, bad refresh token, wrong app credentials: the seller has to authorize (again).
        return PlatformAuthError(
            PLATFORM,
            code if isinstance(code, int) else "bad_response",
            str(payload.get("message") or "token request refused"),
            request_id=request_id,
            http_status=response.status_code,
        )
