"""Organization B can neither read, list, change nor delete organization A's objects, through the dashboard or the
API, and "not yours" looks exactly like "missing" (404, never 403).

Nothing here names a model or an endpoint: tenant models are discovered from TenantModel subclasses (each needs a
factory in tests/factories.py) and URLs from the resolver. Every URL that takes an object id is called with the id of
every one of A's objects, with every method, as B's owner (session) and B's API key; a positive control requires
that each such URL serves at least one of A's objects to A, so a URL the test cannot exercise fails the test
instead of passing it vacuously.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erp.ids import uuid7
from tests.factories import TENANT_FACTORIES
from tests.tenantdata import call, one_per_model, populate, snapshot, tenant_models
from tests.urlwalk import Route, routes

METHODS = ("get", "post", "put", "patch", "delete")
NOT_SERVED = {404, 405}


def id_routes() -> list[Route]:
    return [route for route in routes() if route.id_kwarg]


def test_every_tenant_model_has_a_factory() -> None:
    missing = [m.__name__ for m in tenant_models() if m not in TENANT_FACTORIES]
    assert not missing, f"add a factory (tests/factories.py, @tenant_factory) for: {missing}"


def test_there_is_something_to_isolate() -> None:
    assert len(tenant_models()) >= 4
    assert len(id_routes()) >= 5


@pytest.mark.django_db
def test_other_organization_cannot_tell_our_objects_from_missing_ones(make_tenant: Any) -> None:
    """For every id-taking URL, method and way in (B's session, B's API key), B's answer about one of A's objects
    is exactly B's answer about an id that exists nowhere, and never a success."""
    a, b = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    a_objects, _ = populate(a), populate(b)
    before = snapshot(a_objects)
    probes = one_per_model(a_objects)
    leaks = []
    for route in id_routes():
        is_api = route.url(str(uuid7())).startswith("/api/")
        principals = [("session", b.client, None)] + ([("API key", Client(), b.api_key)] if is_api else [])
        for label, client, key in principals:
            for method in METHODS:
                missing = call(client, method, route.url(str(uuid7())), api_key=key)
                if missing < 400:
                    leaks.append(f"B {label} {method.upper()} {route.name} with a missing id -> {missing}")
                for obj in probes:
                    status = call(client, method, route.url(str(obj.pk)), api_key=key)
                    if status != missing:
                        leaks.append(
                            f"B {label} {method.upper()} {route.name} on A's {type(obj).__name__} -> "
                            f"{status}, but {missing} for a missing id"
                        )
    assert not leaks, "B can tell A's objects apart from missing ones:\n" + "\n".join(leaks)
    assert snapshot(a_objects) == before, "A's rows changed while B was calling"


@pytest.mark.django_db
def test_every_object_url_serves_its_owner(make_tenant: Any) -> None:
    """The positive control: each id-taking URL answers A with something other than 404 for one of A's objects,
    which proves the test above really reached each view with a valid id."""
    a = make_tenant("Alpha Goods")
    a_objects = populate(a)
    unexercised = []
    for route in id_routes():
        served = False
        for obj in a_objects:
            url = route.url(str(obj.pk))
            headers = {"HTTP_AUTHORIZATION": f"Api-Key {a.api_key}"} if url.startswith("/api/") else {}
            client = Client() if headers else a.client
            for method in ("get", "post"):
                response = getattr(client, method)(url, **headers)
                if response.status_code not in NOT_SERVED:
                    served = True
                    break
            if served:
                break
        if not served:
            unexercised.append(route.name)
    assert not unexercised, f"no object of A made these URLs answer A (add a factory or fix the view): {unexercised}"


@pytest.mark.django_db
def test_lists_and_pages_never_show_another_organizations_data(make_tenant: Any) -> None:
    a, b = make_tenant("Alpha Goods Unique-7f3e"), make_tenant("Bravo Supply")
    a_objects, _ = populate(a), populate(b)
    markers = {str(obj.pk) for obj in a_objects} | {"Unique-7f3e", a.owner.email}
    leaks = []
    for route in routes():
        if route.id_kwarg:
            continue
        url = route.url()
        for client, key in ((b.client, None), (Client(), b.api_key)):
            if key and not url.startswith("/api/"):
                continue
            headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
            response = client.get(url, **headers)
            body = response.content.decode(errors="replace")
            found = sorted(marker for marker in markers if marker in body)
            if found:
                leaks.append(f"GET {url} as B ({'API key' if key else 'session'}) shows A's {found}")
    assert not leaks, "\n".join(leaks)
