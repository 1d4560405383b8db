"""SSRF rules: https to public addresses only, at creation (a 400 / form error) and again at send time."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from webhooks.addresses import UnsafeURL, url_check


@pytest.fixture
def production(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False


def _resolves_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        family = socket.AF_INET6
        return [(family if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.9/hooks",
        "https://192.168.1.20/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hooks",
        "https://0.0.0.0/hooks",
        "https://[::1]/hooks",
        "https://[fd00::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://224.0.0.1/hooks",
        "https://240.0.0.1/hooks",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="cannot receive webhooks"):
        url_check(url)


@pytest.mark.usefixtures("production")
def test_a_name_that_resolves_inside_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolves_to(monkeypatch, "93.184.215.14", "10.0.0.5")  # one private answer is enough to refuse
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.5"):
        url_check("https://rebind.example.com/hooks")


@pytest.mark.usefixtures("production")
def test_http_credentials_and_garbage_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolves_to(monkeypatch, "93.184.215.14")
    with pytest.raises(UnsafeURL, match="https://"):
        url_check("http://hooks.example.com/")
    with pytest.raises(UnsafeURL, match="https://"):
        url_check("ftp://hooks.example.com/")
    with pytest.raises(UnsafeURL, match="user name or password"):
        url_check("https://user:pw@hooks.example.com/")
    with pytest.raises(UnsafeURL, match="no host"):
        url_check("https:///path")


@pytest.mark.usefixtures("production")
def test_a_public_https_url_is_accepted_and_pinned_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolves_to(monkeypatch, "93.184.215.14")
    target = url_check("https://hooks.example.com:8443/in")
    assert (target.host, target.address) == ("hooks.example.com", "93.184.215.14")


def test_the_development_setting_allows_http_and_localhost(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert url_check("http://127.0.0.1:9000/hooks").address is None
    with pytest.raises(UnsafeURL):
        url_check("ftp://127.0.0.1/")
