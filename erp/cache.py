"""Two caches for two kinds of use (docs/adr/0011-dependency-outages.md):

- `django.core.cache.cache` ("default"): counters and leases that must be shared to be right (the API's rate limit,
  the stock-push lease). An unreachable Redis raises: the caller decides what degrades.
- `memo` ("memo"): copies of platform answers kept so a page view does not call the platform each time (carriers,
  warehouses, FBT stock in transit). With Redis unreachable it misses and forgets instead of raising: the page asks
  the platform, as it would after the copy expired.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class MemoRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as error:
            log.warning("memo cache unreachable (%s): a miss", error)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            log.warning("memo cache unreachable (%s): not kept", error)


class _Memo:
    """`memo.get(...)` / `memo.set(...)` on the "memo" cache, resolved per call like Django's `cache` proxy."""

    def __getattr__(self, name: str) -> Any:
        return getattr(caches["memo"], name)


memo = _Memo()
