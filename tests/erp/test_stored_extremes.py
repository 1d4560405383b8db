"""Whatever is already stored renders: every dashboard page (and every API read) of an organization whose rows hold
the extremes of their columns — moments in year 1 and year 9999, the largest integers and amounts the columns take,
long texts — answers without a server error.

Rows written before the input ranges of docs/adr/0014 (or by a migration, the admin, a bug) must not take a page down
for every member. Nothing here names a page: routes come from the resolver (tests/urlwalk.py), rows from every tenant
model's factory (tests/tenantdata.py), and the extremes from each column's type.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.test import Client

from erp.models import AuditEntry, Organization
from tests.factories import AuditEntryFactory
from tests.tenantdata import one_per_model, populate, tenant_models
from tests.urlwalk import routes

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def _extreme(field: models.Field, moment: datetime) -> Any:
    """The extreme value this column can hold (NUL-free text: PostgreSQL cannot store NUL)."""
    if isinstance(field, models.DateTimeField):
        return moment
    if isinstance(field, models.DateField):
        return moment.date()
    if isinstance(field, models.PositiveSmallIntegerField | models.SmallIntegerField):
        return 32767
    if isinstance(field, models.BigIntegerField):
        return 2**63 - 1
    if isinstance(field, models.IntegerField) and not field.choices:
        return 2**31 - 1
    if isinstance(field, models.DecimalField):
        whole = field.max_digits - field.decimal_places
        return Decimal("9" * whole + ("." + "9" * field.decimal_places if field.decimal_places else ""))
    return None


def store_extremes(organization: Organization, moment: datetime) -> int:
    """Set every date, time and number column of every tenant row to its extreme; return how many columns."""
    changed = 0
    for model in tenant_models():
        values = {}
        for field in model._meta.concrete_fields:
            if field.primary_key or field.is_relation or field.name == "organization":
                continue
            value = _extreme(field, moment)
            if value is not None:
                values[field.attname] = value
        if not values:
            continue
        if model is AuditEntry:  # append-only in the database: a new entry carries the extremes instead
            AuditEntryFactory(organization=organization, created_at=moment)
        else:
            model.unscoped.all().update(**values)
        changed += len(values)
    return changed


def _raised(response: Any) -> str:
    """Where the view raised, for the failure message."""
    if not getattr(response, "exc_info", None):
        return ""
    _, error, trace = response.exc_info
    frames = traceback.extract_tb(trace)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    where = ", ".join(f"{f.filename.rsplit('/', 2)[-2]}/{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in ours[-2:])
    return f"{type(error).__name__}: {error} at {where} (then {frames[-1].name})"


def server_errors(client: Client, objects: list[Any], api_key: str) -> list[str]:
    failures = []
    for route in routes():
        # A view that names its model is asked for that model's row; any other id is only its 404. A view that does
        # not say is asked for every model's row.
        own = [obj for obj in objects if route.model is not None and isinstance(obj, route.model)]
        urls = [route.url(str(obj.pk)) for obj in (own or objects)] if route.id_kwarg else [route.url()]
        for url in urls:
            headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"} if url.startswith("/api/") else {}
            response = (Client(raise_request_exception=False) if headers else client).get(url, **headers)
            if response.status_code >= 500:
                failures.append(f"GET {url} -> {response.status_code} {_raised(response)} {response.content[:300]!r}")
    return failures


@pytest.mark.parametrize("moment", [EARLIEST, LATEST], ids=["year-1", "year-9999"])
def test_every_page_renders_what_is_stored_at_the_extremes(make_tenant: Any, moment: datetime) -> None:
    tenant = make_tenant("Extremes Ltd")
    objects = populate(tenant)
    tenant.organization.time_zone = "Pacific/Kiritimati"  # +14:00: year 9999 overflows, year 1 underflows
    tenant.organization.save(update_fields=["time_zone"])
    assert store_extremes(tenant.organization, moment) > 20
    tenant.client.raise_request_exception = False
    failures = server_errors(tenant.client, one_per_model(objects), tenant.api_key)
    assert not failures, "pages that a stored value takes down:\n" + "\n".join(failures)
