"""Fixtures the shipping tests share. The connected demo shop (`connected_store`, `connect_store`) and the TikTok
sandbox (`tiktok`, `tiktok_server`) are in tests/conftest.py: orders and integrations tests use them too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from erp.models import Organization
from erp.tenancy import organization_scope


@pytest.fixture
def org(tenant: Any) -> Iterator[Organization]:
    """The tenant's organization, in scope for the whole test (rules and routing read and write through it)."""
    with organization_scope(tenant.organization):
        yield tenant.organization
