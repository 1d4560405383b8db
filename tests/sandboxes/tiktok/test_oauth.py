"""Consent page -> code -> token -> refresh -> authorized shops."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from sandboxes.tiktok.app import TikTokSandbox
from tests.sandboxes.tiktok.conftest import APP_KEY, APP_SECRET, REDIRECT, Api

SERVICE_ID = "7000000000000000009"


def _consent(client: httpx.Client, action: str, state: str = "xyz") -> dict[str, list[str]]:
    page = client.get("/open/authorize", params={"service_id": SERVICE_ID, "state": state})
    assert page.status_code == 200
    assert "Authorize" in page.text
    assert "Dropline Home US" in page.text
    seller_id = re.search(r'name="seller_id" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/open/authorize/decision",
        data={"service_id": SERVICE_ID, "state": state, "seller_id": seller_id, "action": action},
    )
    assert r.status_code == 302
    loc = r.headers["location"]
    assert loc.startswith(REDIRECT)
    return parse_qs(urlsplit(loc).query, keep_blank_values=True)


def _token(client: httpx.Client, code: str) -> dict:
    return client.get(
        "/api/v2/token/get",
        params={"app_key": APP_KEY, "app_secret": APP_SECRET, "auth_code": code, "grant_type": "authorized_code"},
    ).json()


def test_consent_code_token_shops(client: httpx.Client, sb: TikTokSandbox) -> None:
    q = _consent(client, "authorize")
    assert q["state"] == ["xyz"]
    now = sb.clock.now()
    env = _token(client, q["code"][0])
    assert env["code"] == 0
    data = env["data"]
    assert data["access_token"].startswith("TTP_")
    assert data["access_token_expire_in"] == now + 7 * 86400  # absolute epoch, 7 days
    assert data["refresh_token_expire_in"] > data["access_token_expire_in"]
    assert data["user_type"] == 0
    assert data["open_id"]
    # Single use.
    assert _token(client, q["code"][0])["code"] != 0
    api = Api(client, sb)
    api.token = data["access_token"]
    shops = api.ok("GET", "/authorization/202309/shops", cipher=None)["shops"]
    assert len(shops) == 2
    for shop in shops:
        assert set(shop) == {"id", "name", "region", "seller_type", "cipher", "code"}
        assert shop["id"].isdigit()
        assert 18 <= len(shop["id"]) <= 19
        assert shop["cipher"].startswith("GCP_")
        assert shop["region"] == "US"
        assert shop["seller_type"] == "LOCAL"
    active = api.ok("GET", "/seller/202309/shops", cipher=None)["shops"]
    assert {s["id"] for s in active} == {s["id"] for s in shops}


def test_deny_redirects_with_error(client: httpx.Client) -> None:
    q = _consent(client, "deny")
    assert q["code"] == ["null"]
    assert q["error"] == ["auth_denied"]


def test_code_expires_after_30_minutes(client: httpx.Client, sb: TikTokSandbox) -> None:
    code = client.post("/sandbox/authorize", json={}).json()["code"]
    sb.clock.advance(30 * 60 + 1)
    assert _token(client, code)["code"] != 0


def test_wrong_secret_and_refresh(client: httpx.Client, sb: TikTokSandbox) -> None:
    code = client.post("/sandbox/authorize", json={}).json()["code"]
    bad = client.get(
        "/api/v2/token/get",
        params={"app_key": APP_KEY, "app_secret": "nope", "auth_code": code, "grant_type": "authorized_code"},
    ).json()
    assert bad["code"] != 0
    data = _token(client, code)["data"]
    sb.clock.advance(8 * 86400)
    api = Api(client, sb)
    api.token = data["access_token"]
    assert api.call("GET", "/authorization/202309/shops", cipher=None).json()["code"] == 105002
    r = client.get(
        "/api/v2/token/refresh",
        params={
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "refresh_token": data["refresh_token"],
            "grant_type": "refresh_token",
        },
    ).json()
    assert r["code"] == 0
    assert r["data"]["access_token"] != data["access_token"]
    api.token = r["data"]["access_token"]
    assert api.call("GET", "/authorization/202309/shops", cipher=None).json()["code"] == 0


def test_control_can_expire_a_token(api: Api, client: httpx.Client) -> None:
    client.post("/sandbox/tokens/expire", json={"access_token": api.token})
    assert api.call("POST", "/order/202309/orders/search", {"page_size": "1"}, {}).json()["code"] == 105002
