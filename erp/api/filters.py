from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from erp.inputs import MomentField, MomentFilter
from erp.models import AuditEntry


class AuditEntryFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(lookup_expr="startswith", help_text="e.g. `member.` or `label.bought`")
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter()
    since = MomentFilter(field_name="created_at", lookup_expr="gte")
    until = MomentFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditEntry
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]


class UpdatedSinceFilter(BaseFilterBackend):
    """`?updated_since=<ISO 8601 moment>` on every list whose model keeps an update time (`updated_at`, or the
    field the view names in `updated_field`): only the rows changed at or after it. A partner polls with the time of
    its previous poll (minus a little overlap) and fetches only what changed (docs/api.md)."""

    parameter = "updated_since"

    def _field(self, view: Any) -> str | None:
        model = getattr(view, "model", None)
        name = getattr(view, "updated_field", "updated_at")
        if model is None or not any(field.name == name for field in model._meta.get_fields()):
            return None
        return name

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        value = request.query_params.get(self.parameter)
        field = self._field(view)
        if not value or field is None or getattr(view, "action", None) != "list":
            return queryset
        try:
            moment = MomentField().clean(value)
        except DjangoValidationError as error:
            raise ValidationError({self.parameter: error.messages}) from error
        return queryset.filter(**{f"{field}__gte": moment})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        if self._field(view) is None:
            return []
        return [
            {
                "name": self.parameter,
                "required": False,
                "in": "query",
                "description": "Only what changed at or after this moment (ISO 8601 with an offset, e.g. "
                "`2026-12-01T09:30:00Z`): poll with the time of your previous poll.",
                "schema": {"type": "string", "format": "date-time"},
            }
        ]
