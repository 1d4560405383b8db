"""factory_boy factories. Every tenant-owned model needs one here, registered with @tenant_factory: the tenant-
isolation test creates one row of every tenant model through this registry and fails if a model has none."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import factory
from django.db import models
from django.utils import timezone

from erp.models import APIKey, AuditEntry, Invitation, Membership, Organization, User
from erp.roles import APIKeyScope, Role
from erp.tenancy import organization_scope

TENANT_FACTORIES: dict[type[models.Model], type[factory.django.DjangoModelFactory]] = {}


def tenant_factory(cls: type[factory.django.DjangoModelFactory]) -> type[factory.django.DjangoModelFactory]:
    TENANT_FACTORIES[cls._meta.model] = cls
    return cls


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class TenantModelFactory(factory.django.DjangoModelFactory):
    """Creates the row inside its organization's scope, as the application does."""

    organization = factory.SubFactory(OrganizationFactory)

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type[models.Model], *args: Any, **kwargs: Any) -> models.Model:
        with organization_scope(kwargs["organization"]):
            return super()._create(model_class, *args, **kwargs)


@tenant_factory
class MembershipFactory(TenantModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR


@tenant_factory
class InvitationFactory(TenantModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"token-{n}".encode()).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


@tenant_factory
class APIKeyFactory(TenantModelFactory):
    class Meta:
        model = APIKey

    name = factory.Sequence(lambda n: f"WMS {n}")
    prefix = factory.Sequence(lambda n: f"{n:08x}")
    secret_hash = factory.Sequence(lambda n: hashlib.sha256(f"secret-{n}".encode()).hexdigest())
    scope = APIKeyScope.READ


@tenant_factory
class AuditEntryFactory(TenantModelFactory):
    class Meta:
        model = AuditEntry

    actor_label = "someone@example.com"
    action = "thing.done"
    target_type = "thing"
    target_id = factory.Sequence(str)
    target_label = factory.Sequence(lambda n: f"Thing {n}")
