"""Shared fixtures, and the loud report of what the embedded fallback could not run."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from erp import services
from erp.actors import Actor
from erp.models import Membership, Organization, User
from erp.roles import APIKeyScope, Role
from erp.tenancy import organization_scope
from integrations.models import Store
from tests.factories import MembershipFactory, UserFactory

_skipped_for_backend: list[str] = []

# DROPLINE_RLS=1: the tests connect as the application role (no superuser, no BYPASSRLS, owns nothing), so the
# row-level security policies bind them as they bind production (docs/adr/0023-row-level-security.md). The test
# database is still created and migrated as DATABASE_URL's user (a superuser, whom RLS never binds).
RLS_ROLE = "dropline_app_test" if os.environ.get("DROPLINE_RLS") == "1" else ""
RLS_PASSWORD = "dropline-app-test-only"  # a throwaway role of the test database's cluster


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    if not RLS_ROLE:
        yield
        return
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("DROPLINE_RLS=1 needs PostgreSQL: SQLite has no row-level security")
    owner = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("DROPLINE_RLS_TEST_PASSWORD", RLS_PASSWORD)
        call_command("rls_setup", role=RLS_ROLE, password_env="DROPLINE_RLS_TEST_PASSWORD", test_database=True)
        connection.close()
        connection.settings_dict.update(USER=RLS_ROLE, PASSWORD=RLS_PASSWORD)
    yield
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(owner)  # the owner drops the test database


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backends = getattr(settings, "TEST_BACKENDS", {})
    for item in items:
        for backend in ("postgres", "redis"):
            if item.get_closest_marker(backend) and not backends.get(backend, False):
                item.add_marker(pytest.mark.skip(reason=f"needs {backend}: unreachable, embedded fallback in use"))
                _skipped_for_backend.append(f"{item.nodeid} [{backend}]")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    backends = getattr(settings, "TEST_BACKENDS", {})
    if _skipped_for_backend:
        tr = terminalreporter
        tr.section("EMBEDDED FALLBACK: these tests did NOT run", sep="!", red=True, bold=True)
        tr.write_line(
            f"Backends reachable: {backends}. Set DATABASE_URL / REDIS_URL to real servers to run them.", red=True
        )
        for nodeid in _skipped_for_backend:
            tr.write_line(f"  SKIPPED {nodeid}", red=True)
    else:
        terminalreporter.write_line(f"Database: {settings.DATABASES['default']['ENGINE']}; backends: {backends}")
    if RLS_ROLE:
        terminalreporter.write_line(f"Row-level security on: the tests connected as {RLS_ROLE}")


@dataclass
class Tenant:
    """An organization with its owner, signed in through `client`, and a write-scoped API key."""

    organization: Organization
    owner: User
    client: Client
    api_key: str
    members: dict[str, Membership] = field(default_factory=dict)

    def client_as(self, role: Role) -> Client:
        """A signed-in client for a member of this organization with `role` (created on first use)."""
        if role not in self.members:
            self.members[role] = MembershipFactory(organization=self.organization, role=role)
        client = Client()
        client.force_login(self.members[role].user)
        return client


@pytest.fixture
def make_tenant(db: None) -> Callable[[str], Tenant]:
    def make(name: str = "Acme") -> Tenant:
        owner = UserFactory()
        organization = services.organization_create(name=name, owner=owner)
        with organization_scope(organization):
            owner_membership = Membership.objects.get(user=owner)
        _, raw_key = services.api_key_create(
            organization=organization, actor=Actor.for_user(owner), name=f"{name} WMS", scope=APIKeyScope.WRITE
        )
        client = Client()
        client.force_login(owner)
        return Tenant(
            organization=organization,
            owner=owner,
            client=client,
            api_key=raw_key,
            members={Role.OWNER: owner_membership},
        )

    return make


@pytest.fixture
def tenant(make_tenant: Callable[[str], Tenant]) -> Tenant:
    return make_tenant("Acme Outfitters")


def _sandbox(settings: Any) -> Any:
    """A fresh TikTok Shop sandbox that knows Dropline's app key and secret."""
    from sandboxes.tiktok.app import TikTokSandbox
    from sandboxes.tiktok.config import SandboxConfig

    return TikTokSandbox(SandboxConfig(app_key=settings.TIKTOK_APP_KEY, app_secret=settings.TIKTOK_APP_SECRET))


@pytest.fixture
def tiktok(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The TikTok Shop sandbox, in-process, with Dropline's client pointed at it."""
    import httpx

    from tests.tiktok_harness import TikTokHarness

    sandbox = _sandbox(settings)
    http = httpx.Client(transport=sandbox.httpx_transport(), base_url="http://sandbox")
    monkeypatch.setattr("integrations.tiktok.client.shared_http_client", lambda config: http)
    monkeypatch.setattr("integrations.tiktok.adapter.shared_http_client", lambda config: http)
    yield TikTokHarness(sandbox=sandbox, http=http)
    http.close()


@pytest.fixture
def tiktok_server(settings: Any) -> Any:
    """The sandbox on a real socket (real worker processes reach it too), with Dropline's settings pointed at it.
    Yields (base_url, harness)."""
    import httpx

    from sandboxes.tiktok.server import start_in_thread
    from tests.tiktok_harness import TikTokHarness

    sandbox = _sandbox(settings)
    server, base_url = start_in_thread(sandbox, port=0)
    settings.TIKTOK_API_BASE_URL = settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_AUTHORIZE_URL = f"{base_url}/open/authorize"
    http = httpx.Client(base_url=base_url, timeout=30)  # a loaded CI machine answers slower than httpx's 5 s default
    yield base_url, TikTokHarness(sandbox=sandbox, http=http)
    http.close()
    server.shutdown()


@pytest.fixture
def connect_store(tenant: Tenant, tiktok: Any) -> Callable[..., Store]:
    """Connect a sandbox seller's shops the way a person does (Connect TikTok Shop, consent, callback) and import
    one shop's orders through the real sync; returns that shop with its authorization."""

    def connect(seller_name: str = "Dropline Demo US", store_name: str = "Dropline Home US") -> Store:
        from orders.services import store_sync

        tiktok.connect(tenant.client, seller_name=seller_name)
        store = Store.unscoped.select_related("authorization").get(name=store_name)
        with organization_scope(tenant.organization):
            store_sync(store=store)
        return store

    return connect


@pytest.fixture
def connected_store(connect_store: Callable[..., Store]) -> Store:
    """The demo US shop, connected through the dashboard and its orders imported."""
    return connect_store()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Any]:
    """A redis-server of the test's own (tests.workers.RedisServer), to kill and restart."""
    from tests.workers import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real S3-compatible server in its own process (tests.workers.S3Server), shared by the session's tests."""
    from tests.workers import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server: Any, settings: Any, tmp_path: Path) -> str:
    """This process's default storage switched to a fresh private bucket on the S3 server, as `DROPLINE_STORAGE=s3`
    configures it (erp/settings/base.py), and MEDIA_ROOT to a folder of its own that must stay empty. The bucket's
    name."""
    import uuid

    import environ

    from erp.settings.base import s3_storage
    from erp.storage import storage_bucket_ensure

    bucket = f"dropline-test-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_server.storage_env(bucket).items():
            patch.setenv(name, value)
        settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ.Env())}
    settings.MEDIA_ROOT = tmp_path / "web-media"
    assert storage_bucket_ensure()
    return bucket
