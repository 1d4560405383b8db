"""The API's rate limit: one budget per client, counted in Redis so every web process shares it.

When Redis cannot be reached (docs/adr/0011-dependency-outages.md):
- a read (GET, HEAD, OPTIONS) is still served: it needs only PostgreSQL. Its budget is counted in this process
  meanwhile, so a client still cannot hammer the database, only with a budget per process instead of one shared;
- a write is refused with 503 and Retry-After *before it starts*: most writes hand work to the broker (the same
  Redis), and refusing up front is what guarantees nothing is left half done for the client to retry.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from erp.tasks import BROKER_ERRORS

log = logging.getLogger(__name__)


_process_cache = LocMemCache("api-throttle-during-outage", {})


class ClientRateThrottle(SimpleRateThrottle):
    """One budget per API key (or per user for the dashboard's own calls, per IP otherwise)."""

    scope = "client"

    def get_cache_key(self, request: Request, view: Any) -> str:
        if request.auth is not None and hasattr(request.auth, "prefix"):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except BROKER_ERRORS as error:
            if request.method not in SAFE_METHODS:
                from erp.api.exceptions import ServiceUnavailable  # the API's views import this module first

                log.warning("Redis unreachable (%s): %s %s refused with 503", error, request.method, request.path)
                raise ServiceUnavailable() from error
            log.warning("Redis unreachable (%s): the rate limit of reads is counted per process", error)
            self.cache = _process_cache
            return super().allow_request(request, view)


def rate_limit_headers(throttle: Any) -> dict[str, str]:
    """The IETF draft's headers (draft-ietf-httpapi-ratelimit-headers) for a throttle that has counted this request:
    `RateLimit-Limit` (requests per window), `RateLimit-Remaining` (left in the window now) and `RateLimit-Reset`
    (seconds until a request is freed), plus `RateLimit-Policy` (`<limit>;w=<window seconds>`). A 429's
    `Retry-After` is set by DRF from the same throttle."""
    limit = getattr(throttle, "num_requests", None)
    window = getattr(throttle, "duration", None)
    history = getattr(throttle, "history", None)
    if limit is None or window is None or history is None:
        return {}  # the rate is off (None), or the throttle never counted this request
    now = getattr(throttle, "now", None) or throttle.timer()
    remaining = max(0, limit - len(history))
    reset = max(0, math.ceil(history[-1] + window - now)) if history else 0
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{limit};w={window}",
    }
