"""The real limiter: per API, per app+shop, sliding 1 s window; counted in /sandbox/stats."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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

    def search(cipher: str) -> int:
        return api.call("POST", SEARCH, {"page_size": "1"}, {}, cipher=cipher).status_code

    # Many calls at once, so that more than 50 land in one second however busy the machine is (one by one, a loaded
    # machine could spread them over more than a second and never reach the limit).
    with ThreadPoolExecutor(max_workers=16) as pool:
        first_shop = list(pool.map(search, [shops[0]["cipher"]] * 150))
    assert 429 in first_shop
    assert search(shops[1]["cipher"]) == 200  # the other shop's budget is its own
