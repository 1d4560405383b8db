"""The favicon: every page links it, and /favicon.ico (which browsers ask for anyway) is not a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_the_static_icon_for_anyone() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    assert response["Location"].startswith("/static/")
    assert finders.find("favicon.ico")
    assert finders.find("favicon.svg")


def test_every_layout_links_the_icon(tenant: Any) -> None:
    pages = {
        "app": tenant.client.get("/").content.decode(),
        "sign-in": Client().get("/accounts/login/").content.decode(),
        "supplier portal": tenant.client.get("/supplier/").content.decode(),
    }
    for name, body in pages.items():
        assert 'rel="icon" href="/static/favicon.svg"' in body, name
        assert 'rel="icon" href="/static/favicon.ico"' in body, name
