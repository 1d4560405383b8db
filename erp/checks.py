"""System checks that keep the tenancy mechanism the only way to own tenant data."""

from typing import Any

from django.apps import apps
from django.core.checks import Error, register

from erp.tenancy import TenantManager, TenantModel


@register()
def tenant_models_are_scoped(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Every model that points at an Organization must be a TenantModel with the fail-closed default manager."""
    from erp.models import Organization

    errors = []
    for model in apps.get_models():
        if model._meta.app_label not in {"erp", "integrations", "inventory", "orders", "shipping"}:
            continue
        points_at_organization = any(
            getattr(field, "related_model", None) is Organization
            for field in model._meta.get_fields()
            if field.concrete and field.is_relation
        )
        if points_at_organization and not issubclass(model, TenantModel):
            errors.append(
                Error(
                    f"{model.__name__} has an Organization foreign key but is not a TenantModel",
                    obj=model,
                    id="dropline.E001",
                )
            )
        if issubclass(model, TenantModel) and not isinstance(model._default_manager, TenantManager):
            errors.append(
                Error(f"{model.__name__}'s default manager is not a TenantManager", obj=model, id="dropline.E002")
            )
    return errors
