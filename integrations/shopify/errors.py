"""What Shopify's refusals mean for Dropline (an `ErrorKind`) and what a seller does about each (a fix), per operation.

Shopify refuses in three places: the HTTP status (401 token, 402/423 shop frozen or locked), the top-level GraphQL
`errors` (THROTTLED, ACCESS_DENIED, MAX_COST_EXCEEDED, ...; their code in `extensions.code`) and a mutation's
`userErrors` (inventorySetQuantities gives a `code`; fulfillmentCreate's UserError has only `field` and `message`,
so its table matches words of the message). The client keeps Shopify's code, message and request id on the error;
this module adds the kind and the fix. The rest of Dropline reads `error.kind` and `error.fix`, never a code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from integrations.errors import ErrorKind, PlatformError


@dataclass(frozen=True)
class Meaning:
    kind: ErrorKind
    fix: str


@dataclass(frozen=True)
class OperationErrors:
    """One operation's table: known codes, message patterns (lower-case words, for refusals without a code), the
    fix for any other refusal and the fix while Shopify is failing."""

    meanings: Mapping[str, Meaning]
    otherwise: str
    temporary: str = "Temporary problem at Shopify: Dropline tries again shortly."
    patterns: tuple[tuple[str, Meaning], ...] = ()

    def meaning(self, code: str, message: str) -> Meaning | None:
        found = self.meanings.get(code)
        if found is not None:
            return found
        lowered = message.lower().replace("_", " ")
        return next((meaning for words, meaning in self.patterns if words in lowered), None)


RECONNECT = "Shopify refused Dropline's access to this store: reconnect it under Stores (and approve what it asks)."
# Failures of any call, whatever the operation (the client's own codes and Shopify's top-level error codes).
_ANY_CALL: dict[str, Meaning] = {
    "ACCESS_DENIED": Meaning(
        ErrorKind.AUTH_EXPIRED,
        "Shopify says Dropline lacks a permission for this: reconnect the store under Stores and approve every "
        "permission Dropline asks for.",
    ),
    "http_402": Meaning(
        ErrorKind.REFUSED,
        "The Shopify store is frozen (its plan is unpaid): settle it in Shopify admin → Settings → Plan.",
    ),
    "http_423": Meaning(ErrorKind.REFUSED, "The Shopify store is locked: see Shopify admin, or ask Shopify support."),
    "http_404": Meaning(
        ErrorKind.NOT_FOUND, "Shopify does not know this store address any more: reconnect the store under Stores."
    ),
    "MAX_COST_EXCEEDED": Meaning(
        ErrorKind.INVALID, "Shopify found Dropline's request too large: report it to Dropline support."
    ),
}


# ------------------------------------------------------------------------------------------------------- orders
ORDERS = OperationErrors(meanings=_ANY_CALL, otherwise="Shopify would not list this store's orders now.")


# -------------------------------------------------------------------------- reporting a shipment (fulfillmentCreate)
_SHIPPED = Meaning(ErrorKind.ALREADY_DONE, "These items are marked fulfilled on Shopify already: Dropline adopts it.")
_HOLD = Meaning(
    ErrorKind.NOT_SHIPPABLE_YET,
    "The order is on hold in Shopify: release the hold (Shopify admin → the order → Release hold), then send again.",
)
_SCHEDULED = Meaning(
    ErrorKind.NOT_SHIPPABLE_YET,
    "Shopify schedules this order for later (a subscription or pre-order): send the tracking once it is due.",
)
_CANCELLED = Meaning(ErrorKind.NOT_SHIPPABLE, "The order is cancelled on Shopify: there is nothing to ship.")
_NOT_OURS = Meaning(
    ErrorKind.NOT_SHIPPABLE,
    "A fulfillment service or another app fulfils these items in Shopify: report the shipment there, or move the "
    "items to one of your own locations in Shopify admin.",
)
SHIPMENT_REPORT = OperationErrors(
    meanings={
        **_ANY_CALL,
        # Dropline's own look-first checks (adapter.report_shipment).
        "already_shipped": _SHIPPED,
        "nothing_to_fulfil": _SHIPPED,
        "on_hold": _HOLD,
        "scheduled": _SCHEDULED,
        "cancelled": _CANCELLED,
        "not_merchant_managed": _NOT_OURS,
        "unknown_line": Meaning(
            ErrorKind.INVALID, "Some of these items are not on the Shopify order any more: refresh the order."
        ),
        "not_found": Meaning(ErrorKind.NOT_FOUND, "Shopify has no such order in this store."),
        "too_many_lines": Meaning(
            ErrorKind.REFUSED,
            "This order has more items per location than Dropline reports at once: mark it fulfilled in Shopify admin.",
        ),
    },
    # fulfillmentCreate's userErrors carry no code: words of their message [guesses, docs/platforms/shopify.md].
    patterns=(
        ("on hold", _HOLD),
        ("cancel", _CANCELLED),
        ("scheduled", _SCHEDULED),
        ("already fulfilled", _SHIPPED),
        ("closed", _SHIPPED),
        ("remaining", _SHIPPED),
        ("quantity", _SHIPPED),
        ("tracking", Meaning(ErrorKind.INVALID, "Shopify refused the tracking number: check it and send again.")),
        ("company", Meaning(ErrorKind.INVALID, "Shopify refused the carrier: choose one from the list.")),
        ("location", _NOT_OURS),
    ),
    otherwise="Shopify refused to mark the order fulfilled: check the order in Shopify admin, then send again.",
    temporary="Temporary problem at Shopify: send again in a few minutes.",
)


# --------------------------------------------------------------------------------- stock (inventorySetQuantities)
_LINKS = " check this store's location links in Dropline."
STOCK_PUSH = OperationErrors(
    meanings={
        **_ANY_CALL,
        # Dropline's own checks before sending (adapter.push_stock).
        "several_locations": Meaning(
            ErrorKind.INVALID,
            "This variant is stocked at several Shopify locations: link this store's Shopify locations to your "
            "warehouses so Dropline can send a quantity for each.",
        ),
        "no_location": Meaning(
            ErrorKind.INVALID,
            "Shopify stocks this variant at no location: stock it at one (Shopify admin → the product → Inventory).",
        ),
        "not_tracked": Meaning(
            ErrorKind.INVALID,
            "Shopify does not track this variant's inventory: turn on 'Track quantity' for it in Shopify admin.",
        ),
        "unknown_variant": Meaning(
            ErrorKind.NOT_FOUND, "Shopify no longer has this variant (deleted): sync the store's listings again."
        ),
        # InventorySetQuantitiesUserErrorCode [names inferred, docs/platforms/shopify.md].
        "ITEM_NOT_STOCKED_AT_LOCATION": Meaning(
            ErrorKind.INVALID, "Shopify does not stock this variant at that location: stock it there, or" + _LINKS
        ),
        "INVALID_LOCATION": Meaning(ErrorKind.INVALID, "Shopify does not know that location:" + _LINKS),
        "INVALID_INVENTORY_ITEM": Meaning(
            ErrorKind.NOT_FOUND, "Shopify no longer has this variant's stock record: sync the store's listings."
        ),
        "NON_MUTABLE_INVENTORY_ITEM": Meaning(
            ErrorKind.REFUSED,
            "Shopify does not let apps change this variant's stock (another app or a bundle owns it).",
        ),
        "INVALID_QUANTITY_NEGATIVE": Meaning(ErrorKind.INVALID, "Shopify refused a negative quantity."),
        "INVALID_QUANTITY_TOO_HIGH": Meaning(ErrorKind.INVALID, "Shopify refused the quantity as too high."),
        "INVALID_QUANTITY_TOO_LOW": Meaning(ErrorKind.INVALID, "Shopify refused the quantity as too low."),
        "IDEMPOTENCY_CONCURRENT_REQUEST": Meaning(
            ErrorKind.TEMPORARY, "Shopify was still applying the same stock update: it is sent again shortly."
        ),
        "CHANGE_FROM_QUANTITY_STALE": Meaning(
            ErrorKind.TEMPORARY, "The stock changed on Shopify while Dropline set it: it is sent again shortly."
        ),
    },
    otherwise="Shopify refused the stock update.",
    temporary="Shopify did not take the stock update this time; Dropline tries again shortly.",
)


# ------------------------------------------------------------------------ notifications (webhookSubscriptionCreate)
NOTIFICATIONS = OperationErrors(
    meanings=_ANY_CALL, otherwise="Shopify refused to send this store's notifications to Dropline."
)

# Reads that have no table of their own (locations, catalogue, stock levels).
READS = OperationErrors(meanings=_ANY_CALL, otherwise="Shopify would not answer this request now.")


# ------------------------------------------------------------------------------------------------- applying them
def explain(error: PlatformError, operation: OperationErrors) -> PlatformError:
    """Give `error` its meaning for this operation (kind and fix), in place; returns it for `raise explain(...)`."""
    if error.kind == ErrorKind.OUTCOME_UNKNOWN:
        return error  # the caller looks on Shopify before anything else
    if error.kind == ErrorKind.AUTH_EXPIRED and error.code not in operation.meanings:
        error.fix = error.fix or RECONNECT
        return error
    if error.retryable:
        error.fix = error.fix or operation.temporary
        return error
    meaning = operation.meaning(str(error.code), error.message)
    if meaning is not None:
        error.kind, error.fix = meaning.kind, meaning.fix
    else:
        error.fix = error.fix or operation.otherwise
    return error


def refusal_fix(operation: OperationErrors, code: str, message: str) -> str:
    """The fix for one refused item of a batch (a per-item userError), ending with Shopify's words for support."""
    meaning = operation.meaning(code, message)
    text = meaning.fix if meaning else f"{operation.otherwise} {message}".strip()
    return f"{text} (Shopify {code})"[:500] if code else text[:500]


@contextmanager
def explained(operation: OperationErrors) -> Iterator[None]:
    """Every PlatformError raised inside carries this operation's kind and fix."""
    try:
        yield
    except PlatformError as error:
        explain(error, operation)
        raise
