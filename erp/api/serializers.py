import functools
from typing import Any

from django.db.models import Model
from django.urls import reverse
from django.utils.encoding import force_str
from rest_framework import serializers

from erp.models import APIKey, AuditEntry, Membership, Organization, OrganizationExport
from erp.roles import KEY_SCOPES


class ChoiceLabelField(serializers.CharField):
    """The label of a choice field's value, as `get_<field>_display()` gives it (the value itself when it is not one
    of the choices). `CharField(source="get_status_display")` gives it too, but DRF inspects the method's signature on
    every object it reads it from, and the method builds a dict of every choice on each call: on a page of 50 orders
    the two were about a tenth of the response's Python. Here the labels are gathered once per model field."""

    def __init__(self, choice_field: str, **kwargs: Any) -> None:
        self.choice_field = choice_field
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Any) -> Any:
        instance: Model = value  # source="*": the object itself
        chosen = getattr(instance, self.choice_field)
        return force_str(_choice_labels(type(instance), self.choice_field).get(chosen, chosen), strings_only=True)


@functools.cache
def _choice_labels(model: type[Model], field_name: str) -> dict[Any, Any]:
    # Labels may be lazy translations: kept lazy here, made text per response.
    return dict(model._meta.get_field(field_name).flatchoices)  # type: ignore[union-attr]


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "time_zone", "created_at"]


class MemberOutput(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name")

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at"]


class AuditEntryOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "changes",
            "ip_address",
        ]


class APIKeyOutput(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=KEY_SCOPES))

    class Meta:
        model = APIKey
        fields = ["id", "name", "prefix", "scopes", "warehouse", "created_at", "last_used_at", "revoked_at"]


class OrganizationExportOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="Where to download the zip while `state` is `ready` and before `expires_at`; null otherwise."
    )

    class Meta:
        model = OrganizationExport
        fields = [
            "id",
            "state",
            "created_at",
            "requested_by_label",
            "finished_at",
            "expires_at",
            "size_bytes",
            "error",
            "download_url",
        ]

    def get_download_url(self, export: OrganizationExport) -> str | None:
        if not export.is_downloadable:
            return None
        path = reverse("api-organization-export-download", args=[export.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path
