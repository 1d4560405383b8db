"""The real limiter: per API, per app+shop, sliding 1 s window; counted in /sandbox/stats."""

from __future__ import annotations

import httpx

from tests.sandboxes.tiktok.conftest import Api

SEARCH = "/order/202309/orders/search"
SEARCH_KEY = "POST /order/202309/orders/search"


def test_60_fast_calls_hit_429_other_api_unaffected(api: Api, client: httpx.Client) -> None:
    results = [api.call("POST", SEARCH, {"page_size": "1"}, {}) for _ in range(60)]
    throttled = [r for r in results if r.status_code == 429]
    assert throttled, "expected some 429s"
    assert all(r.json()["code"] == 36009002 for r in throttled)
    assert sum(r.status_code == 200 for r in results) <= 50
    # Another API of the same shop is unaffected.
    assert api.call("GET", "/logistics/202309/warehouses").status_code == 200
    stats = client.get("/sandbox/stats").json()["apis"]
    assert stats[SEARCH_KEY]["violations"] == len(throttled)
    assert stats[SEARCH_KEY]["injected_429"] == 0
    assert stats[SEARCH_KEY]["max_in_1s"] >= 60
    assert stats[SEARCH_KEY]["max_accepted_in_1s"] <= 50
    assert stats["GET /logistics/202309/warehouses"]["violations"] == 0


def test_limit_is_per_shop(api: Api) -> None:
    shops = api.ok("GET", "/authorization/202309/shops", cipher=None)["shops"]
    for _ in range(50):
        api.call("POST", SEARCH, {"page_size": "1"}, {}, cipher=shops[0]["cipher"])
    assert api.call("POST", SEARCH, {"page_size": "1"}, {}, cipher=shops[0]["cipher"]).status_code == 429
    assert api.call("POST", SEARCH, {"page_size": "1"}, {}, cipher=shops[1]["cipher"]).status_code == 200
