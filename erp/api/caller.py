"""Who is calling, typed: the attributes the API base view sets on each request after authentication
(erp.api.views.OrganizationAPIMixin.perform_authentication), for modules that type-check."""

from __future__ import annotations

from typing import cast

from rest_framework.request import Request

from erp.actors import Actor
from erp.models import Organization


def request_actor(request: Request) -> Actor:
    """Who acts: the API key or the signed-in member (what the audit log records)."""
    return cast(Actor, getattr(request, "actor"))  # noqa: B009  # set by the base view, unknown to DRF's stubs


def request_organization(request: Request) -> Organization:
    return cast(Organization, getattr(request, "organization"))  # noqa: B009
