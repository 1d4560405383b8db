"""Writing logistics rules: create or update one (`rule_save`), put them in order (`rules_reorder`); audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from erp.actors import Actor
from erp.services import audit_record
from erp.tenancy import current_organization
from integrations.models import Store
from inventory.models import Warehouse
from shipping.models import LogisticsRule
from shipping.rules.schema import Actions, Conditions


def _validated(name: str, conditions: dict, actions: dict) -> tuple[str, Conditions | None, Actions | None]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the rule a name."]
    elif len(name) > 120:
        errors["name"] = ["Keep the name to 120 characters."]
    parsed_conditions = parsed_actions = None
    try:
        parsed_conditions = Conditions.from_json(conditions)
    except ValidationError as error:
        errors.update({f"conditions.{k}": v for k, v in error.message_dict.items()})
    try:
        parsed_actions = Actions.from_json(actions)
    except ValidationError as error:
        errors.update({f"actions.{k}": v for k, v in error.message_dict.items()})
    if parsed_conditions is not None and parsed_conditions.store_ids:
        found = {
            str(pk) for pk in Store.objects.filter(pk__in=parsed_conditions.store_ids).values_list("pk", flat=True)
        }
        if missing := [s for s in parsed_conditions.store_ids if s not in found]:
            errors["conditions.store_ids"] = [f"No store with id {', '.join(missing)} in your organization."]
    warehouse_id = parsed_actions.warehouse_id if parsed_actions is not None else None
    if warehouse_id and not Warehouse.objects.filter(pk=warehouse_id).exists():
        errors["actions.warehouse_id"] = ["No warehouse with this id in your organization."]
    if errors:
        raise ValidationError(errors)
    return name, parsed_conditions, parsed_actions


@transaction.atomic
def rule_save(
    *,
    actor: Actor,
    name: str,
    conditions: dict,
    actions: dict,
    enabled: bool = True,
    rule: LogisticsRule | None = None,
) -> LogisticsRule:
    """Create a rule (it goes last) or update one. Raises ValidationError keyed by field ("conditions.countries")."""
    name, parsed_conditions, parsed_actions = _validated(name, conditions, actions)
    assert parsed_conditions is not None
    assert parsed_actions is not None
    values = {
        "name": name,
        "enabled": enabled,
        "conditions": parsed_conditions.to_json(),
        "actions": parsed_actions.to_json(),
    }
    if rule is None:
        last = LogisticsRule.objects.aggregate(last=Max("priority"))["last"]
        rule = LogisticsRule.objects.create(priority=(last or 0) + 10, **values)
        audit_record(
            organization=current_organization(),
            actor=actor,
            action="logistics_rule.created",
            target=rule,
            changes=values,
        )
        return rule
    changes = {k: [getattr(rule, k), v] for k, v in values.items() if getattr(rule, k) != v}
    if changes:
        for key, value in values.items():
            setattr(rule, key, value)
        rule.updated_at = timezone.now()
        rule.save(update_fields=[*values, "updated_at"])
        audit_record(
            organization=current_organization(),
            actor=actor,
            action="logistics_rule.updated",
            target=rule,
            changes=changes,
        )
    return rule


@transaction.atomic
def rules_reorder(*, actor: Actor, ordered_ids: list) -> list[LogisticsRule]:
    """Put the rules in this order (priorities 10, 20, 30...). Rules not listed keep their order, after these."""
    wanted = [str(i) for i in ordered_ids]
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"ordered_ids": "A rule is listed twice."})
    rules = list(LogisticsRule.objects.select_for_update().order_by("pk"))
    by_id = {str(r.pk): r for r in rules}
    if unknown := [i for i in wanted if i not in by_id]:
        raise ValidationError({"ordered_ids": f"No rule with id {', '.join(unknown)} in your organization."})
    rest = sorted((r for r in rules if str(r.pk) not in set(wanted)), key=lambda r: (r.priority, r.created_at, r.pk))
    ordered = [by_id[i] for i in wanted] + rest
    now = timezone.now()
    for position, rule in enumerate(ordered, start=1):
        rule.priority = position * 10
        rule.updated_at = now
    LogisticsRule.objects.bulk_update(ordered, ["priority", "updated_at"])
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="logistics_rules.reordered",
        changes={"order": [str(r.pk) for r in ordered]},
    )
    return ordered


def rule_delete(*, actor: Actor, rule: LogisticsRule) -> None:
    """Remove a rule. Orders it routed keep what it did (their warehouse, tags, labels); the audit log keeps what it
    said."""
    values = {"name": rule.name, "conditions": rule.conditions, "actions": rule.actions, "enabled": rule.enabled}
    audit_record(
        organization=current_organization(), actor=actor, action="logistics_rule.deleted", target=rule, changes=values
    )
    rule.delete()
