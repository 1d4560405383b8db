"""Logistics rules for partner systems: the dashboard's list, form, ↑/↓, "Test this rule" and "Apply to open orders",
through the same services (shipping.rules.services, shipping.rules.engine.rule_test, shipping.routing)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.caller import request_actor
from erp.api.views import OrganizationViewSet
from erp.roles import Perm
from orders.models import Order
from shipping import routing
from shipping.api.serializers import (
    RuleInput,
    RuleOutput,
    RuleReorderInput,
    RulesApplyOutput,
    RuleTestInput,
    RuleTestOutput,
)
from shipping.models import LogisticsRule
from shipping.rules.engine import rule_test
from shipping.rules.schema import Conditions
from shipping.rules.services import rule_delete, rule_save, rules_reorder

TEST_LIMIT = 20  # as the dashboard's "Test this rule"

_RULE_EXAMPLE = OpenApiExample(
    "Heavy orders to Texas from the Austin warehouse",
    value={
        "name": "Heavy to Texas",
        "enabled": True,
        "conditions": {"countries": ["US"], "states": ["TX"], "weight_min_grams": "2000"},
        "actions": {"warehouse_id": "01a21100-0000-7000-8000-000000000000", "service_strategy": "cheapest"},
    },
    request_only=True,
)


def _test_body(conditions: Conditions | LogisticsRule) -> dict[str, Any]:
    matches = rule_test(rule_or_conditions=conditions, limit=TEST_LIMIT)
    orders = [_match(order, reasons) for order, reasons in matches]
    return RuleTestOutput({"limit": TEST_LIMIT, "orders": orders}).data


def _match(order: Order, reasons: list[str]) -> dict[str, Any]:
    return {
        "id": order.pk,
        "external_id": order.external_id,
        "ship_by": order.ship_by,
        "store": order.store,
        "reasons": reasons,
    }


@extend_schema(tags=["rules"])
@extend_schema_view(
    create=extend_schema(request=RuleInput, responses={201: RuleOutput}, examples=[_RULE_EXAMPLE]),
    partial_update=extend_schema(request=RuleInput, responses=RuleOutput),
    destroy=extend_schema(request=None, responses={204: None}),
)
class RuleViewSet(mixins.DestroyModelMixin, OrganizationViewSet):
    """Logistics rules in priority order: the first enabled rule whose conditions all hold routes an order (its
    warehouse, package, service, handover, auto-buy, tag) once, when it is ready to ship."""

    model = LogisticsRule
    resource_family: ClassVar[str] = "rules"
    read_permission = Perm.VIEW
    write_permission = Perm.RULES_MANAGE
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_scoped_queryset(self) -> QuerySet[LogisticsRule]:
        return LogisticsRule.objects.order_by("priority", "created_at", "pk")

    def get_serializer_class(self) -> type[BaseSerializer]:
        return {
            "create": RuleInput,
            "partial_update": RuleInput,
            "reorder": RuleReorderInput,
            "test_conditions": RuleTestInput,
        }.get(self.action, RuleOutput)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a rule; it goes last. Field errors name the condition or action (`conditions.countries`)."""
        data = RuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        rule = rule_save(actor=request_actor(request), **data.validated_data)
        return Response(RuleOutput(rule).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a rule: the fields sent replace the rule's (`conditions` and `actions` whole)."""
        rule = self.get_object()
        data = RuleInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = {"name": rule.name, "enabled": rule.enabled, "conditions": rule.conditions, "actions": rule.actions}
        rule = rule_save(actor=request_actor(request), rule=rule, **{**current, **data.validated_data})
        return Response(RuleOutput(rule).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Remove a rule. Orders it routed keep what it did."""
        rule_delete(actor=request_actor(request), rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RuleReorderInput, responses=RuleOutput(many=True))
    @action(detail=False, methods=["post"], pagination_class=None)
    def reorder(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Put the rules in this order (priorities 10, 20, 30...). Returns every rule in its new order."""
        data = RuleReorderInput(data=request.data)
        data.is_valid(raise_exception=True)
        ordered = rules_reorder(actor=request_actor(request), ordered_ids=data.validated_data["ids"])
        return Response(RuleOutput(ordered, many=True).data)

    @extend_schema(request=None, responses=RuleTestOutput, operation_id="rules_test")
    @action(detail=True, methods=["post"], url_path="test", url_name="test")
    def test_rule(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """ "Test this rule": the first open orders its conditions match, with the reasons. Nothing is saved or
        routed (enabled or not, and whatever rules come before it)."""
        return Response(_test_body(self.get_object()))

    @extend_schema(request=RuleTestInput, responses=RuleTestOutput, operation_id="rules_test_conditions")
    @action(detail=False, methods=["post"], url_path="test", url_name="test-conditions")
    def test_conditions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The same for conditions not saved yet (a rule being written)."""
        data = RuleTestInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            conditions = Conditions.from_json(data.validated_data["conditions"])
        except DjangoValidationError as error:  # named as a saved rule's are: `conditions.<name>`
            raise ValidationError({f"conditions.{k}": v for k, v in error.message_dict.items()}) from error
        return Response(_test_body(conditions))

    @extend_schema(request=None, responses=RulesApplyOutput)
    @action(detail=False, methods=["post"])
    def apply(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Apply the rules as they are now to every open order without a label (rules route each order once, when
        it arrives: use this after changing them). Orders with a label, held or shipped are left alone; an
        auto-buy rule buys labels."""
        result = routing.orders_route_again(actor=request_actor(request))
        return Response(RulesApplyOutput(result).data)
