"""The mutations (§4, §5, §7.4): business refusals are `userErrors` in an HTTP 200 answer (§10.2, §10.3); only
argument-level problems (a missing `changeFromQuantity`, a missing `@idempotent` where it is mandatory, a missing
scope) are top-level `errors`.

Every refusal happens before anything changes: a mutation applies all of its input or none of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError, GraphQLResolveInfo
from graphql.execution.values import get_directive_values

from . import ops
from .graph import Context, require
from .render import SUPPORTED_ACTIONS, render_fulfillment, render_group, render_subscription
from .state import (
    UNAVAILABLE_NAMES,
    FulfillmentOrder,
    IdempotencyRecord,
    InventoryChange,
    InventoryItem,
    LineItem,
    Tracking,
    WebhookSubscription,
    gid,
    parse_gid,
)
from .topics import ENUM_TO_TOPIC, TOPIC_SCOPES

Payload = dict[str, Any]
UserError = dict[str, Any]

# Shopify's documented inventory reasons ("quantities states" page); the notes name only `restock` and suggest
# `correction`, and mark the list a gap (§11) [guess].
INVENTORY_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
ADJUSTABLE_NAMES = ("available", "incoming", *UNAVAILABLE_NAMES)
MAX_QUANTITY = 1_000_000_000
URI_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")

# Carriers whose tracking URL Shopify builds itself when only the company and number are sent (§4.1) [guess: a few].
CARRIER_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
}

MSG_IDEMPOTENT_REQUIRED = "The @idempotent directive is required for this mutation but was not provided."
MSG_ITEM = "The specified inventory item could not be found."
MSG_LOCATION = "The specified location could not be found."
MSG_NOT_STOCKED = "The specified inventory item is not stocked at the location."
MSG_QTY_LINE = "Invalid fulfillment order line item quantity requested."


def user_error(field: list[str] | None, message: str, code: str | None = None) -> UserError:
    err: UserError = {"field": field, "message": message}
    if code is not None:
        err["code"] = code
    return err


# ---------------------------------------------------------------------------------------------- @idempotent (§5.3)
def _idempotency_key(info: GraphQLResolveInfo) -> str | None:
    directive = info.schema.get_directive("idempotent")
    if directive is None:
        return None
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    if values is None:
        return None
    return str(values["key"])


def idempotent(
    info: GraphQLResolveInfo,
    mutation: str,
    args: dict[str, Any],
    required: bool,
    run: Callable[[], tuple[Payload, dict[str, Any]]],
    replay: Callable[[dict[str, Any]], Payload],
    mismatch: Callable[[], Payload],
) -> Payload:
    """Run a mutation under an idempotency key: the first result is kept (plain data, `run`'s second value) and a
    retry with the same key and the same arguments gets it again (`replay`) without applying anything; the same key
    with other arguments is refused (`mismatch`)."""
    ctx: Context = info.context
    key = _idempotency_key(info)
    if key is None:
        if required:
            raise GraphQLError(MSG_IDEMPOTENT_REQUIRED, extensions={"code": "BAD_REQUEST"})
        return run()[0]
    if not key.strip():
        raise GraphQLError("The idempotency key must not be blank.", extensions={"code": "BAD_REQUEST"})
    fingerprint = json.dumps(args, sort_keys=True, default=str)
    slot = (ctx.client_id, ctx.shop.id, mutation, key)
    ttl = ctx.cfg.idempotency_ttl_seconds
    record = ctx.world.idempotency.get(slot)
    if record is not None and ctx.now - record.created_at <= ttl:
        if record.fingerprint != fingerprint:
            return mismatch()
        return replay(record.result)
    payload, result = run()
    ctx.world.idempotency[slot] = IdempotencyRecord(key, mutation, fingerprint, result, ctx.now)
    return payload


# ---------------------------------------------------------------------------------------------- inventory (§5)
def _inventory_target(
    ctx: Context, raw_item: Any, raw_location: Any, path: list[str], code_prefix: str = ""
) -> tuple[InventoryItem | None, int | None, list[UserError]]:
    """The item and location named by GIDs, or the userErrors that refuse them. A ProductVariant GID where an
    InventoryItem GID belongs is not found (§10.4)."""
    errors: list[UserError] = []
    world = ctx.world
    item = None
    parsed = parse_gid(raw_item)
    if parsed and parsed[0] == "InventoryItem" and parsed[1] in world.inventory_items:
        candidate = world.inventory_items[parsed[1]]
        if world.item_shop(candidate) == ctx.shop.id:
            item = candidate
    if item is None:
        message = MSG_ITEM
        if parsed and parsed[0] == "ProductVariant":
            message += f" {raw_item} is a ProductVariant id; use its inventoryItem.id."
        errors.append(user_error([*path, "inventoryItemId"], message, "INVALID_INVENTORY_ITEM"))
    location_id = None
    parsed_loc = parse_gid(raw_location)
    if parsed_loc and parsed_loc[0] == "Location" and parsed_loc[1] in ctx.shop.location_ids:
        location_id = parsed_loc[1]
    else:
        errors.append(user_error([*path, "locationId"], MSG_LOCATION, "INVALID_LOCATION"))
    if item is not None and location_id is not None and location_id not in item.levels:
        errors.append(user_error([*path, "locationId"], MSG_NOT_STOCKED, "ITEM_NOT_STOCKED_AT_LOCATION"))
    return item, location_id, errors


def _common_input_errors(inp: dict[str, Any]) -> list[UserError]:
    errors = []
    if inp["reason"] not in INVENTORY_REASONS:
        errors.append(user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    ref = inp.get("referenceDocumentUri")
    if ref is not None and not URI_RE.match(ref):
        errors.append(
            user_error(
                ["input", "referenceDocumentUri"],
                "The specified reference document is invalid.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        )
    return errors


def _group_payload(ctx: Context, group_id: int | None, errors: list[UserError]) -> Payload:
    group = next((g for g in ctx.world.adjustment_groups if g.id == group_id), None) if group_id else None
    return {
        "inventoryAdjustmentGroup": render_group(ctx.world, group) if group else None,
        "userErrors": errors,
    }


def inventory_set_quantities(info: GraphQLResolveInfo, input: dict[str, Any]) -> Payload:
    ctx = require(info, "inventorySetQuantities", "write_inventory")
    if ctx.modern:
        for q in input["quantities"]:
            if "changeFromQuantity" not in q:
                # §5.1: from 2026-04 it must be sent, even as null [message as reported by users of the live API].
                raise GraphQLError(
                    "InventoryQuantityInput must include the following argument: changeFromQuantity.",
                    extensions={"code": "INVALID_FIELD_ARGUMENTS"},
                )

    def run() -> tuple[Payload, dict[str, Any]]:
        errors, group_id = _set_quantities(ctx, input)
        return _group_payload(ctx, group_id, errors), {"group_id": group_id, "userErrors": errors}

    return idempotent(
        info,
        "inventorySetQuantities",
        {"input": input},
        required=ctx.modern and ctx.cfg.idempotency_required_for_set_quantities,
        run=run,
        replay=lambda r: _group_payload(ctx, r["group_id"], r["userErrors"]),
        mismatch=lambda: _group_payload(ctx, None, [_mismatch("IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]),
    )


def _mismatch(code: str) -> UserError:
    return user_error(None, "The same idempotency key cannot be used with different operation parameters.", code)


def _set_quantities(ctx: Context, inp: dict[str, Any]) -> tuple[list[UserError], int | None]:
    name = inp["name"]
    errors: list[UserError] = []
    if name not in ("available", "on_hand"):
        errors.append(
            user_error(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
        )
    errors += _common_input_errors(inp)
    ignore_compare = bool(inp.get("ignoreCompareQuantity"))
    seen: set[tuple[int, int]] = set()
    targets: list[tuple[InventoryItem, int, int]] = []
    for i, q in enumerate(inp["quantities"]):
        path = ["input", "quantities", str(i)]
        item, location_id, target_errors = _inventory_target(ctx, q["inventoryItemId"], q["locationId"], path)
        errors += target_errors
        quantity = q["quantity"]
        if quantity < 0:
            errors.append(
                user_error([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
            )
        elif quantity > MAX_QUANTITY:
            errors.append(
                user_error(
                    [*path, "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        if item is None or location_id is None or target_errors:
            continue
        if (item.id, location_id) in seen:
            errors.append(
                user_error(
                    path,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
            continue
        seen.add((item.id, location_id))
        if name in ("available", "on_hand"):
            current = item.levels[location_id].get(name)
            errors += _compare_errors(ctx, q, current, path, ignore_compare)
        targets.append((item, location_id, quantity))
    if errors:
        return errors, None
    changes: list[InventoryChange] = []
    for item, location_id, quantity in targets:
        # Setting on_hand moves available by the same amount: committed and the unavailable states stay.
        delta = quantity - item.levels[location_id].get(name)
        changes += ops.move(ctx.world, item, location_id, {"available": delta}, ctx.now)
    group = ops.record(
        ctx.world,
        ctx.shop.id,
        inp["reason"],
        changes,
        ctx.now,
        "inventorySetQuantities",
        inp.get("referenceDocumentUri"),
    )
    return [], group.id if group else None


def _compare_errors(ctx: Context, q: dict[str, Any], current: int, path: list[str], ignore: bool) -> list[UserError]:
    """Compare-and-swap (§5.1): from 2026-04 `changeFromQuantity` (null skips the check); before, `compareQuantity`
    unless `ignoreCompareQuantity`, with `changeFromQuantity` (2026-01) as the alternative."""
    change_from = q.get("changeFromQuantity")
    if change_from is not None and change_from != current:
        return [
            user_error(
                [*path, "changeFromQuantity"],
                "The changeFromQuantity value does not match persisted value.",
                "CHANGE_FROM_QUANTITY_STALE",
            )
        ]
    if ctx.modern or ignore or change_from is not None:
        return []
    compare = q.get("compareQuantity")
    if compare is None:
        return [
            user_error(
                [*path, "compareQuantity"],
                "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        ]
    if compare != current:
        return [
            user_error(
                [*path, "compareQuantity"],
                "The compareQuantity value does not match persisted value.",
                "COMPARE_QUANTITY_STALE",
            )
        ]
    return []


def inventory_adjust_quantities(info: GraphQLResolveInfo, input: dict[str, Any]) -> Payload:
    ctx = require(info, "inventoryAdjustQuantities", "write_inventory")

    def run() -> tuple[Payload, dict[str, Any]]:
        errors, group_id = _adjust_quantities(ctx, input)
        return _group_payload(ctx, group_id, errors), {"group_id": group_id, "userErrors": errors}

    return idempotent(
        info,
        "inventoryAdjustQuantities",
        {"input": input},
        required=ctx.modern,  # §5.3: mandatory for inventoryAdjustQuantities from 2026-04
        run=run,
        replay=lambda r: _group_payload(ctx, r["group_id"], r["userErrors"]),
        mismatch=lambda: _group_payload(ctx, None, [_mismatch("IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]),
    )


def _adjust_quantities(ctx: Context, inp: dict[str, Any]) -> tuple[list[UserError], int | None]:
    name = inp["name"]
    errors: list[UserError] = []
    if name not in ADJUSTABLE_NAMES:
        errors.append(
            user_error(
                ["input", "name"],
                f"The quantity name must be one of: {', '.join(ADJUSTABLE_NAMES)}.",
                "INVALID_QUANTITY_NAME",
            )
        )
    errors += _common_input_errors(inp)
    planned: list[tuple[InventoryItem, int, int, str | None]] = []
    for i, c in enumerate(inp["changes"]):
        path = ["input", "changes", str(i)]
        item, location_id, target_errors = _inventory_target(ctx, c["inventoryItemId"], c["locationId"], path)
        errors += target_errors
        ledger = c.get("ledgerDocumentUri")
        # §5.2: required for every name except available, not supported with available, never a Shopify GID.
        if name == "available" and ledger is not None:
            errors.append(
                user_error(
                    [*path, "ledgerDocumentUri"],
                    "A ledger document URI is not supported when adjusting available.",
                    "INVALID_AVAILABLE_DOCUMENT",
                )
            )
        elif name != "available" and name in ADJUSTABLE_NAMES and not ledger:
            errors.append(
                user_error(
                    [*path, "ledgerDocumentUri"],
                    "A ledger document URI is required except when adjusting available.",
                    "INVALID_QUANTITY_DOCUMENT",
                )
            )
        elif ledger is not None and (ledger.startswith("gid://shopify/") or not URI_RE.match(ledger)):
            errors.append(
                user_error(
                    [*path, "ledgerDocumentUri"],
                    "The ledger document URI is invalid; a Shopify GID is not allowed.",
                    "INVALID_LEDGER_DOCUMENT",
                )
            )
        if item is None or location_id is None or target_errors or name not in ADJUSTABLE_NAMES:
            continue
        current = item.levels[location_id].get(name)
        change_from = c.get("changeFromQuantity")
        if change_from is not None and change_from != current:
            errors.append(
                user_error(
                    [*path, "changeFromQuantity"],
                    "The changeFromQuantity value does not match persisted value.",
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
        after = current + c["delta"]
        if name != "available" and after < 0:
            errors.append(user_error([*path, "delta"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"))
        if after > MAX_QUANTITY:
            errors.append(
                user_error(
                    [*path, "delta"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        planned.append((item, location_id, c["delta"], ledger))
    if errors:
        return errors, None
    changes: list[InventoryChange] = []
    for item, location_id, delta, ledger in planned:
        moved = ops.move(ctx.world, item, location_id, {name: delta}, ctx.now)
        for change in moved:
            change.ledger_document_uri = ledger if change.name == name else None
        changes += moved
    group = ops.record(
        ctx.world,
        ctx.shop.id,
        inp["reason"],
        changes,
        ctx.now,
        "inventoryAdjustQuantities",
        inp.get("referenceDocumentUri"),
    )
    return [], group.id if group else None


# ---------------------------------------------------------------------------------------------- fulfillment (§4)
def fulfillment_create(info: GraphQLResolveInfo, fulfillment: dict[str, Any], message: str | None = None) -> Payload:
    ctx = require(info, "fulfillmentCreate", "write_merchant_managed_fulfillment_orders")
    errors, plan = _plan_fulfillment(ctx, fulfillment)
    if errors:
        return {"fulfillment": None, "userErrors": errors}
    tracking, tracking_errors = _tracking(fulfillment.get("trackingInfo"))
    if tracking_errors:
        return {"fulfillment": None, "userErrors": tracking_errors}
    order = ctx.world.orders[plan[0][0].order_id]
    created = ops.fulfil(
        ctx.world, order, plan, tracking, ctx.now, notify_customer=bool(fulfillment.get("notifyCustomer"))
    )
    return {"fulfillment": render_fulfillment(ctx.world, created, ctx.cfg), "userErrors": []}


def _plan_fulfillment(
    ctx: Context, inp: dict[str, Any]
) -> tuple[list[UserError], list[tuple[FulfillmentOrder, LineItem, int]]]:
    world = ctx.world
    base = ["fulfillment", "lineItemsByFulfillmentOrder"]
    groups = inp["lineItemsByFulfillmentOrder"]
    if not groups:
        return [user_error(base, "At least one fulfillment order must be specified.")], []
    errors: list[UserError] = []
    chosen: list[tuple[int, FulfillmentOrder, dict[str, Any]]] = []
    for i, g in enumerate(groups):
        path = [*base, str(i), "fulfillmentOrderId"]
        parsed = parse_gid(g["fulfillmentOrderId"])
        fo = world.fulfillment_orders.get(parsed[1]) if parsed and parsed[0] == "FulfillmentOrder" else None
        if fo is None or fo.shop_id != ctx.shop.id:
            errors.append(user_error(path, "Fulfillment order does not exist."))
        elif any(fo is other for _, other, _ in chosen):
            errors.append(
                user_error(path, f"Fulfillment order {g['fulfillmentOrderId']} was specified more than once.")
            )
        else:
            chosen.append((i, fo, g))
    if errors:
        return errors, []
    # §10.2 and FulfillmentCreatePayload: one call covers fulfillment orders of one order at one location.
    if len({fo.order_id for _, fo, _ in chosen}) > 1:
        return [user_error(base, "All fulfillment orders must belong to the same order.")], []
    if len({fo.location_id for _, fo, _ in chosen}) > 1:
        return [user_error(base, "All fulfillment orders must be assigned to a single location.")], []
    plan: list[tuple[FulfillmentOrder, LineItem, int]] = []
    for i, fo, g in chosen:
        status = world.fo_status(fo)
        if "CREATE_FULFILLMENT" not in SUPPORTED_ACTIONS.get(status, []):
            errors.append(
                user_error(
                    [*base, str(i), "fulfillmentOrderId"],
                    f"Fulfillment order {gid('FulfillmentOrder', fo.id)} has an unfulfillable status= "
                    f"{status.lower()}.",
                )
            )
            continue
        order = world.orders[fo.order_id]
        fo_lines = {li.fulfillment_order_line_item_id: li for li in world.fo_lines(fo)}
        requested = g.get("fulfillmentOrderLineItems")
        if not requested:
            # "If you don't specify line items, then the mutation fulfills all items in the fulfillment order."
            plan += [(fo, li, order.remaining(li)) for li in fo_lines.values() if order.remaining(li) > 0]
            continue
        wanted: dict[int, tuple[int, int]] = {}  # FO line item id -> (quantity, first index)
        for j, line in enumerate(requested):
            path = [*base, str(i), "fulfillmentOrderLineItems", str(j)]
            parsed = parse_gid(line["id"])
            if parsed and parsed[0] == "LineItem":
                # §10.2: the order's LineItem id where a FulfillmentOrderLineItem id belongs.
                errors.append(
                    user_error(
                        [*path, "id"],
                        f"Fulfillment order line item does not exist. {line['id']} is an order LineItem id; "
                        "fulfillmentOrderLineItems takes FulfillmentOrderLineItem ids.",
                    )
                )
            elif not parsed or parsed[0] != "FulfillmentOrderLineItem" or parsed[1] not in fo_lines:
                errors.append(user_error([*path, "id"], "Fulfillment order line item does not exist."))
            else:
                qty, first = wanted.get(parsed[1], (0, j))
                wanted[parsed[1]] = (qty + line["quantity"], first)
        for line_id, (qty, j) in wanted.items():
            li = fo_lines[line_id]
            if qty <= 0 or qty > order.remaining(li):
                errors.append(
                    user_error([*base, str(i), "fulfillmentOrderLineItems", str(j), "quantity"], MSG_QTY_LINE)
                )
            else:
                plan.append((fo, li, qty))
    if not errors and not plan:
        errors.append(user_error(base, MSG_QTY_LINE))
    return errors, plan


def _tracking(info: dict[str, Any] | None) -> tuple[list[Tracking], list[UserError]]:
    if not info:
        return [], []
    numbers = [n for n in [info.get("number"), *(info.get("numbers") or [])] if n]
    urls = [u for u in [info.get("url"), *(info.get("urls") or [])] if u]
    for u in urls:
        if urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).netloc:
            return [], [user_error(["fulfillment", "trackingInfo", "url"], f"Tracking url {u!r} is not a valid URL.")]
    company = info.get("company")
    numbers = list(dict.fromkeys(numbers))
    if not numbers and not urls and not company:
        return [], []
    rows = []
    for n in range(max(len(numbers), len(urls), 1)):
        number = numbers[n] if n < len(numbers) else None
        url = urls[n] if n < len(urls) else None
        if url is None and number and company in CARRIER_URLS:
            url = CARRIER_URLS[company].format(number)
        rows.append(Tracking(company, number, url))
    return rows, []


# ---------------------------------------------------------------------------------------------- webhooks (§7.4)
def _uri_error(ctx: Context, uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and parts.netloc:
        hosts = ctx.cfg.insecure_webhook_hosts
        if "*" in hosts or (parts.hostname or "") in hosts:
            return None
        return "Address protocol http:// is not supported"
    return "Address is invalid"


def webhook_subscription_create(info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]) -> Payload:
    ctx = require(info, "webhookSubscriptionCreate")
    world = ctx.world
    rest_topic = ENUM_TO_TOPIC[topic]
    scopes = TOPIC_SCOPES[rest_topic]
    if scopes and not any(s in ctx.scopes or s.replace("read_", "write_", 1) in ctx.scopes for s in scopes):
        required = " or ".join(f"`{s}`" for s in scopes)
        return _sub_error(["topic"], f"Access denied for topic {topic}. Required access: {required} access scope.")
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not uri:
        return _sub_error(["webhookSubscription", "uri"], "Address can't be blank")
    problem = _uri_error(ctx, uri)
    if problem:
        return _sub_error(["webhookSubscription", "uri"], problem)
    fmt = webhookSubscription.get("format") or "JSON"
    if fmt != "JSON":
        return _sub_error(["webhookSubscription", "format"], "The sandbox delivers JSON only.")
    for sub in world.subscriptions.values():
        if sub.client_id == ctx.client_id and sub.shop_id == ctx.shop.id and sub.topic == rest_topic and sub.uri == uri:
            return _sub_error(["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")
    sub = WebhookSubscription(
        id=world.ids.next("webhook_subscription"),
        client_id=ctx.client_id,
        shop_id=ctx.shop.id,
        topic=rest_topic,
        uri=uri,
        api_version=ctx.version,
        created_at=ctx.now,
        updated_at=ctx.now,
        format=fmt,
        include_fields=list(webhookSubscription.get("includeFields") or []),
        filter=webhookSubscription.get("filter"),
    )
    world.subscriptions[sub.id] = sub
    return {"webhookSubscription": render_subscription(sub, ctx.supported), "userErrors": []}


def _sub_error(field: list[str], message: str) -> Payload:
    return {"webhookSubscription": None, "userErrors": [user_error(field, message)]}


def webhook_subscription_delete(info: GraphQLResolveInfo, id: str) -> Payload:
    ctx = require(info, "webhookSubscriptionDelete")
    parsed = parse_gid(id)
    sub = ctx.world.subscriptions.get(parsed[1]) if parsed and parsed[0] == "WebhookSubscription" else None
    if sub is None or sub.client_id != ctx.client_id or sub.shop_id != ctx.shop.id:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [user_error(["id"], "Webhook subscription does not exist")],
        }
    del ctx.world.subscriptions[sub.id]
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


MUTATIONS: dict[str, Callable[..., Payload]] = {
    "fulfillmentCreate": fulfillment_create,
    "inventorySetQuantities": inventory_set_quantities,
    "inventoryAdjustQuantities": inventory_adjust_quantities,
    "webhookSubscriptionCreate": webhook_subscription_create,
    "webhookSubscriptionDelete": webhook_subscription_delete,
}
