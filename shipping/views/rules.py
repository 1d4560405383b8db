"""Logistics rules in the dashboard: the list in priority order (drag or ↑/↓ to reorder, enable/disable), a structured
form for a rule's conditions and actions, and "Test this rule" over open orders without saving anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import TemplateView

from erp.roles import Perm
from erp.units import CANONICAL, Units, units_of
from erp.views_base import OrganizationViewMixin
from integrations.models import Platform, Store
from inventory.models import Warehouse
from shipping import routing
from shipping.forms import FORM_ACTIONS, FORM_CONDITIONS, RuleForm, kept_outside_form
from shipping.models import LogisticsRule
from shipping.rules.engine import rule_test
from shipping.rules.schema import Conditions
from shipping.rules.services import rule_save, rules_reorder

TEST_LIMIT = 20


# ------------------------------------------------------------------------------------------------------- summary
def _amount(value: Any) -> str:
    number = Decimal(str(value))
    return f"{number.normalize():f}"


def _range(label: str, low: Any, high: Any, shown: Callable[[Decimal], str] = _amount) -> str | None:
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        return f"{label} {shown(Decimal(str(low)))}–{shown(Decimal(str(high)))}"
    return f"{label} ≥ {shown(Decimal(str(low)))}" if low is not None else f"{label} ≤ {shown(Decimal(str(high)))}"


def rule_summary(
    rule: LogisticsRule, stores: dict[str, str], warehouses: dict[str, str], units: Units = CANONICAL
) -> tuple[str, str]:
    """One line each for what a rule looks at and what it does (weights and sizes in the organization's units)."""
    c, a = rule.conditions or {}, rule.actions or {}
    when: list[str] = []
    if c.get("store_ids"):
        when.append("store " + ", ".join(stores.get(s, "(removed store)") for s in c["store_ids"]))
    if c.get("channels"):
        labels = dict(Platform.choices)
        when.append("channel " + ", ".join(str(labels.get(channel, channel)) for channel in c["channels"]))
    for key, label in (
        ("countries", "country"),
        ("states", "state"),
        ("postal_prefixes", "postal code starts"),
        ("seller_skus_any", "has SKU"),
        ("product_ids_any", "has product"),
        ("tags_any", "tagged"),
        ("delivery_option_names", "delivery"),
    ):
        if c.get(key):
            when.append(f"{label} {', '.join(c[key])}")
    for part in (
        _range("total", c.get("total_min"), c.get("total_max")),
        _range("weight", c.get("weight_min_grams"), c.get("weight_max_grams"), units.weight_text),
        _range("longest side", None, c.get("max_side_cm"), units.length_text),
        _range("items", c.get("line_count_min"), c.get("line_count_max")),
    ):
        if part:
            when.append(part)
    if c.get("ship_within_hours") is not None:
        when.append(f"ships within {c['ship_within_hours']} h")
    if c.get("has_buyer_message") is not None:
        when.append("buyer message" if c["has_buyer_message"] else "no buyer message")
    then: list[str] = []
    if a.get("warehouse_id"):
        then.append("from " + warehouses.get(a["warehouse_id"], "(removed warehouse)"))
    if a.get("package_length_cm"):
        sides = (
            units.from_cm(Decimal(str(a[k]))) for k in ("package_length_cm", "package_width_cm", "package_height_cm")
        )
        then.append(f"box {'×'.join(_amount(side) for side in sides)} {units.length}")
    if a.get("package_weight_grams"):
        then.append(units.weight_text(Decimal(str(a["package_weight_grams"]))))
    strategy = a.get("service_strategy", "cheapest")
    if strategy == "cheapest_within_days":
        then.append(f"cheapest within {a.get('within_days')} days")
    elif strategy == "provider":
        then.append(f"ship with {a.get('provider_name')}")
    else:
        then.append(strategy)
    if a.get("handover_method"):
        slot = f" ({a['pickup_slot']})" if a.get("pickup_slot") else ""
        then.append(("pickup" if a["handover_method"] == "PICKUP" else "drop-off") + slot)
    if a.get("auto_buy") is not None:
        then.append("auto-buy" if a["auto_buy"] else "no auto-buy")
    if a.get("hold_for_review"):
        then.append("hold for review")
    if a.get("tag"):
        then.append(f"tag “{a['tag']}”")
    return (" · ".join(when) or "every order"), " · ".join(then)


# --------------------------------------------------------------------------------------------------------- views
class RulesListView(OrganizationViewMixin, TemplateView):
    """The rules in priority order; the first enabled rule whose conditions all hold wins."""

    template_name = "shipping/rules.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        stores = {str(pk): name for pk, name in Store.objects.values_list("pk", "name")}
        warehouses = {str(pk): name for pk, name in Warehouse.objects.values_list("pk", "name")}
        rows = []
        for rule in LogisticsRule.objects.order_by("priority", "created_at", "pk"):
            when, then = rule_summary(rule, stores, warehouses, units_of(self.request.organization))
            rows.append({"rule": rule, "when": when, "then": then})
        return super().get_context_data(rows=rows, **kwargs)


class RulesApplyView(OrganizationViewMixin, View):
    """Apply the rules as they are now to the open orders that have no label yet."""

    write_permission = Perm.RULES_MANAGE

    def post(self, request: HttpRequest) -> HttpResponse:
        result = routing.orders_route_again(actor=request.actor)
        parts = [f"{result.moved} moved to the rule's warehouse"]
        if result.not_moved:
            parts.append(f"{len(result.not_moved)} could not move (see each order's history)")
        if result.tagged:
            parts.append(f"{result.tagged} tagged")
        if result.auto_buy:
            parts.append(f"{result.auto_buy} labels being bought")
        messages.success(request, f"Rules applied to {result.routed} open order(s): {', '.join(parts)}.")
        return redirect("shipping_rules")


class RuleFormView(OrganizationViewMixin, View):
    """New rule (no pk) or one rule's page: everyone may read it, owners and admins change it."""

    write_permission = Perm.RULES_MANAGE

    def _rule(self) -> LogisticsRule | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(LogisticsRule.objects, pk=pk) if pk else None

    def _render(self, request: HttpRequest, form: RuleForm, rule: LogisticsRule | None) -> HttpResponse:
        can_edit = Perm.RULES_MANAGE in request.permissions
        if not can_edit:
            for field in form.fields.values():
                field.disabled = True
        extra = {
            **{f"conditions.{k}": v for k, v in kept_outside_form(rule and rule.conditions, FORM_CONDITIONS).items()},
            **{f"actions.{k}": v for k, v in kept_outside_form(rule and rule.actions, FORM_ACTIONS).items()},
        }
        return render(
            request,
            "shipping/rules_form.html",
            {"form": form, "rule": rule, "can_edit": can_edit, "kept": extra},
            status=400 if form.is_bound and form.errors else 200,
        )

    def get(self, request: HttpRequest, pk: str | None = None) -> HttpResponse:
        rule = self._rule()
        units = units_of(request.organization)
        initial = RuleForm.initial_from(rule, units) if rule else None
        return self._render(request, RuleForm(initial=initial, units=units), rule)

    def post(self, request: HttpRequest, pk: str | None = None) -> HttpResponse:
        rule = self._rule()
        form = RuleForm(request.POST, units=units_of(request.organization))
        if not form.is_valid():
            return self._render(request, form, rule)
        try:
            saved = rule_save(
                actor=request.actor,
                name=form.cleaned_data["name"],
                conditions={**kept_outside_form(rule and rule.conditions, FORM_CONDITIONS), **form.conditions()},
                actions={**kept_outside_form(rule and rule.actions, FORM_ACTIONS), **form.actions()},
                enabled=form.cleaned_data["enabled"],
                rule=rule,
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self._render(request, form, rule)
        messages.success(request, f"Rule “{saved.name}” saved.")
        return redirect("shipping_rules")


class RuleTestView(OrganizationViewMixin, View):
    """ "Test this rule": the first open orders the form's current conditions match, with the reasons. A read: the
    conditions come in the query string and nothing is saved."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = RuleForm(request.GET, units=units_of(request.organization))
        context: dict[str, Any] = {"errors": [], "results": None, "limit": TEST_LIMIT}
        form.is_valid()
        if errors := {k: v for k, v in form.errors.items() if k in FORM_CONDITIONS}:
            context["errors"] = [f"{form.fields[k].label}: {' '.join(v)}" for k, v in errors.items()]
        else:
            try:
                conditions = Conditions.from_json(form.conditions())
            except ValidationError as error:
                context["errors"] = [
                    f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
                    for k, v in error.message_dict.items()
                ]
            else:
                context["results"] = rule_test(rule_or_conditions=conditions, limit=TEST_LIMIT)
        return render(request, "shipping/rules_test_results.html", context)


def _ordered_ids() -> list[str]:
    return [
        str(pk) for pk in LogisticsRule.objects.order_by("priority", "created_at", "pk").values_list("pk", flat=True)
    ]


class RulesReorderView(OrganizationViewMixin, View):
    """The drag-and-drop list POSTs the rules' ids in their new order (JSON {"ids": [...]} or form fields `id`)."""

    write_permission = Perm.RULES_MANAGE

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.content_type == "application/json":
            try:
                ids = json.loads(request.body or b"{}").get("ids", [])
            except (ValueError, AttributeError):
                return JsonResponse({"ok": False, "error": 'Send {"ids": [...]}.'}, status=400)
        else:
            ids = request.POST.getlist("id")
        if not isinstance(ids, list) or not ids:
            return JsonResponse({"ok": False, "error": "No rule ids given."}, status=400)
        try:
            ordered = rules_reorder(actor=request.actor, ordered_ids=ids)
        except ValidationError as error:
            return JsonResponse({"ok": False, "error": " ".join(error.messages)}, status=400)
        return JsonResponse({"ok": True, "ids": [str(r.pk) for r in ordered]})


class RuleMoveView(OrganizationViewMixin, View):
    """↑/↓: the keyboard and no-JavaScript way to reorder."""

    write_permission = Perm.RULES_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        rule = get_object_or_404(LogisticsRule.objects, pk=pk)
        ids = _ordered_ids()
        at = ids.index(str(rule.pk))
        to = at - 1 if request.POST.get("direction") == "up" else at + 1
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
            rules_reorder(actor=request.actor, ordered_ids=ids)
        return redirect("shipping_rules")


class RuleToggleView(OrganizationViewMixin, View):
    write_permission = Perm.RULES_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        rule = get_object_or_404(LogisticsRule.objects, pk=pk)
        try:
            rule_save(
                actor=request.actor,
                name=rule.name,
                conditions=rule.conditions,
                actions=rule.actions,
                enabled=not rule.enabled,
                rule=rule,
            )
        except ValidationError as error:
            messages.error(request, f"“{rule.name}” needs fixing first: {' '.join(error.messages)}")
        else:
            messages.success(request, f"Rule “{rule.name}” {'enabled' if rule.enabled else 'disabled'}.")
        return redirect("shipping_rules")
