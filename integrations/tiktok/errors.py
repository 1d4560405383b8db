"""What TikTok's refusals mean for Dropline (an `ErrorKind`) and what a person does about each (a fix), per operation.

The codes and messages are the spec's (shared/platforms/tiktok-shop/spec/api-reference/...); the fixes are ours. The
same code can mean different things to different calls (21011006 "already shipped" is a refusal when buying a label
but the sign of success when reporting a shipment), so each operation has its own table. The adapter applies them
with `explained(...)`; the rest of Dropline reads `error.kind` and `error.fix` and never a TikTok code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from integrations.errors import ErrorKind, PlatformError
from integrations.interface import ItemError, PackageRefusal


@dataclass(frozen=True)
class Meaning:
    kind: ErrorKind
    fix: str


@dataclass(frozen=True)
class OperationErrors:
    """One operation's table: known codes, the fix for any other refusal, the fix while TikTok is failing."""

    meanings: Mapping[int, Meaning]
    otherwise: str
    temporary: str = "Temporary problem at TikTok: try again in a few minutes."


def _refused(fix: str) -> Meaning:
    return Meaning(ErrorKind.REFUSED, fix)


# ---------------------------------------------------------------------------------- buying a label (Create Packages)
LABEL_PURCHASE = OperationErrors(
    meanings={
        21022025: Meaning(ErrorKind.ALREADY_DONE, "The label was bought already: Dropline adopts it."),
        11021012: Meaning(
            ErrorKind.ADDRESS_UNDELIVERABLE,
            "Edit the address: TikTok says it cannot be delivered. Ask the buyer to correct it in TikTok.",
        ),
        11021014: Meaning(
            ErrorKind.NO_SERVICE,
            "The package is over the carriers' size or weight limits: check the SKU weights and dimensions.",
        ),
        21011037: Meaning(
            ErrorKind.NO_SERVICE,
            "No TikTok Shipping service can take this package: check the weight, the dimensions and the address.",
        ),
        21011003: Meaning(
            ErrorKind.NOT_SHIPPABLE_YET,
            "The order cannot ship yet (unpaid, cancelled or in the buyer's remorse window). Wait and retry.",
        ),
        21011007: Meaning(
            ErrorKind.NOT_SHIPPABLE_YET,
            "The buyer asked to cancel: accept or reject the request in TikTok Seller Center, then retry.",
        ),
        21008025: Meaning(ErrorKind.NOT_SHIPPABLE, "TikTok fulfils this order (FBT): there is no label to buy."),
        21011012: Meaning(
            ErrorKind.NOT_SHIPPABLE,
            "This order uses seller shipping, not TikTok Shipping: it cannot get an official label here.",
        ),
        21011006: Meaning(ErrorKind.NOT_SHIPPABLE, "The order has already shipped."),
    },
    otherwise="Check the order in TikTok Seller Center, then retry.",
    temporary="Temporary problem at TikTok: Dropline retries automatically.",
)

# Ship Package (outside the US: TikTok created the package at payment): "package has been shipped" means done.
PACKAGE_SHIP = OperationErrors(
    meanings={
        code: Meaning(ErrorKind.ALREADY_DONE, "The package was shipped already: Dropline adopts it.")
        for code in (11006021, 21008099, 21011040)
    },
    otherwise=LABEL_PURCHASE.otherwise,
    temporary=LABEL_PURCHASE.temporary,
)
NO_PACKAGE_YET = Meaning(
    ErrorKind.NOT_READY,
    "TikTok has not created this order's package yet: it does so at payment. Dropline retries; if it stays like "
    "this, check the order in TikTok Seller Center.",
)

# --------------------------------------------------------------- combining and splitting packages (TikTok only)
_AFTER_SALE = Meaning(
    ErrorKind.NOT_SHIPPABLE_YET,
    "The buyer has an open cancellation or return request on this order: approve or reject it (Dropline's "
    "cancellations, or TikTok Seller Center), then try again.",
)
PACKAGE_COMBINE = OperationErrors(
    meanings={
        21011033: Meaning(
            ErrorKind.ALREADY_DONE,
            "These orders are already combined into one package on TikTok: Dropline reads the package and uses it.",
        ),
        21011046: _refused(
            "One of these orders is already combined with another: uncombine it first, or ship it in that package."
        ),
        21011007: _AFTER_SALE,
        21011028: _refused("The package belongs to another shop: refresh the combinable orders and try again."),
        21011031: _refused(
            "TikTok no longer groups these orders together (one was shipped, cancelled or changed): refresh the "
            "combinable orders and try again."
        ),
        10007014: _refused(
            "TikTok does not allow these orders to ship together any more: ship them as separate parcels."
        ),
    },
    otherwise="TikTok refused to combine these orders: ship them as separate parcels, or check them in Seller Center.",
    temporary="Temporary problem at TikTok: combining is tried again shortly.",
)
PACKAGE_UNCOMBINE = OperationErrors(
    meanings={
        21011029: _refused("That order is not in this package any more: refresh the order and look again."),
        21011028: PACKAGE_COMBINE.meanings[21011028],
        21011007: _AFTER_SALE,
    },
    otherwise="TikTok refused to uncombine the package: check it in TikTok Seller Center.",
    temporary=PACKAGE_COMBINE.temporary,
)
ORDER_SPLIT = OperationErrors(
    meanings={
        21011035: _refused(
            "TikTok does not allow splitting this order (its region or its state): ship it as one parcel from one "
            "warehouse, e.g. move the stock or pick another supplier."
        ),
        21011036: _refused(
            "TikTok does not allow the same SKU in several packages here: keep each SKU's units in one group."
        ),
        21011046: _refused("The order is combined with another buyer's order: uncombine it first, then split it."),
        21011007: _AFTER_SALE,
    },
    otherwise="TikTok refused to split the order: ship it as one parcel, or check it in TikTok Seller Center.",
    temporary="Temporary problem at TikTok: splitting is tried again shortly.",
)

# ------------------------------------------------------------------------------ a bought label's document, again
_REPRINT = " Reprint it from TikTok Seller Center (Orders > the order > Print shipping label), or rebuy it here."
LABEL_DOCUMENT = OperationErrors(
    meanings={
        21042102: Meaning(
            ErrorKind.NOT_FOUND, "TikTok no longer prints this label: the parcel has been picked up." + _REPRINT
        ),
        21023059: Meaning(
            ErrorKind.NOT_FOUND,
            "The package was cancelled on TikTok: buy a new label if the order still ships." + _REPRINT,
        ),
        21023035: Meaning(
            ErrorKind.NOT_FOUND,
            "TikTok has no shipment arranged for this package: check the order, then buy its label again." + _REPRINT,
        ),
    },
    otherwise="TikTok would not give the label again." + _REPRINT,
    temporary="TikTok did not answer: print again in a few minutes." + _REPRINT,
)

# ------------------------------------------------------------ seller shipping (Mark Package As Shipped, Update Info)
_ALREADY_SHIPPED = Meaning(ErrorKind.ALREADY_DONE, "The order's lines have a shipped package already.")
SHIPMENT_REPORT = OperationErrors(
    meanings={
        **dict.fromkeys((21008099, 21011006, 21011020, 21042056), _ALREADY_SHIPPED),
        11028006: Meaning(
            ErrorKind.INVALID,
            "TikTok cannot match this tracking number to any carrier: check the number and the carrier, then send "
            "it again.",
        ),
        21004012: Meaning(
            ErrorKind.INVALID,
            "Tracking numbers are letters and digits only: remove spaces, dashes and other characters.",
        ),
        21004015: Meaning(
            ErrorKind.INVALID,
            "The tracking number does not look like one of this carrier's: choose the carrier that printed the "
            "label, or correct the number.",
        ),
        21004016: Meaning(
            ErrorKind.INVALID, "TikTok cannot verify tracking for this carrier: choose another carrier from the list."
        ),
        21008025: Meaning(ErrorKind.NOT_SHIPPABLE, "TikTok fulfils this order (FBT): there is nothing to ship."),
        21008106: Meaning(
            ErrorKind.NOT_SHIPPABLE, "TikTok does not take seller-shipping tracking for this store's region."
        ),
        21011003: Meaning(
            ErrorKind.NOT_SHIPPABLE_YET,
            "The order cannot ship yet (unpaid or in the buyer's remorse window): wait until it is to ship.",
        ),
        21011004: Meaning(
            ErrorKind.NOT_SHIPPABLE,
            "This order ships on official TikTok logistics: buy a TikTok Shipping label instead.",
        ),
        21011007: Meaning(
            ErrorKind.NOT_SHIPPABLE_YET,
            "The buyer has an after-sale request: handle it in TikTok Seller Center first, then send again.",
        ),
        21011012: Meaning(
            ErrorKind.NOT_SHIPPABLE,
            "TikTok's trade rules do not allow seller shipping for this order: switch the store's delivery option "
            "to TikTok Shipping in Seller Center and buy a label.",
        ),
        21011013: Meaning(
            ErrorKind.NOT_SHIPPABLE,
            "TikTok's logistics rules no longer accept seller shipping for this order: switch the store's delivery "
            "option (logistics template) to TikTok Shipping in Seller Center and buy a label.",
        ),
        21011022: _refused("TikTok does not recognise the carrier or the tracking number: check both and send again."),
        21011025: Meaning(
            ErrorKind.INVALID,
            "This tracking number is already used on another order: enter this parcel's own tracking number.",
        ),
        21011026: Meaning(
            ErrorKind.INVALID,
            "This tracking number has been used too many times: enter this parcel's own tracking number.",
        ),
        21011029: _refused(
            "Some of the order's items are not on this order any more: refresh the order and send again."
        ),
        21011048: _refused("The order has several packages: ship it from TikTok Seller Center, one package at a time."),
        21042057: Meaning(
            ErrorKind.NOT_SHIPPABLE,
            "The order is not awaiting shipment (cancelled or already shipped): check it in TikTok Seller Center.",
        ),
    },
    otherwise="Check the order in TikTok Seller Center, then send again.",
    temporary="Temporary problem at TikTok: send again in a few minutes.",
)

# ---------------------------------------------------------------------------------- stock (Update Inventory)
STOCK_PUSH = OperationErrors(
    meanings={
        12019022: Meaning(ErrorKind.INVALID, "TikTok needs a warehouse for this SKU."),
        12019028: Meaning(
            ErrorKind.INVALID,
            "This SKU is stocked in several TikTok warehouses: link this store's TikTok warehouses to yours so "
            "Dropline can send a quantity for each.",
        ),
        12052533: Meaning(
            ErrorKind.INVALID,
            "TikTok has this SKU in other warehouses than the ones Dropline sent: check this store's warehouse links.",
        ),
        12052556: Meaning(
            ErrorKind.NOT_FOUND,
            "TikTok no longer has this SKU in this product (deleted or moved): sync the store's listings again.",
        ),
        12052097: Meaning(
            ErrorKind.INVALID, "A warehouse Dropline sent does not exist on TikTok: check this store's warehouse links."
        ),
        12052530: Meaning(
            ErrorKind.INVALID, "A warehouse Dropline sent belongs to another shop: check this store's warehouse links."
        ),
        12052055: Meaning(ErrorKind.INVALID, "TikTok refused the quantity (it takes 0 to 99,999 per warehouse)."),
        12052037: Meaning(
            ErrorKind.NOT_SHIPPABLE_YET,
            "The product is not active on TikTok (deactivated, frozen or under review): TikTok takes stock only for "
            "active products. It is sent again once the product is active.",
        ),
        12052032: Meaning(ErrorKind.NOT_FOUND, "The product no longer exists on TikTok."),
        12052048: Meaning(ErrorKind.NOT_FOUND, "The product is not listed in this TikTok shop."),
    },
    otherwise="TikTok refused the stock update.",
    temporary="TikTok did not take the stock update this time; Dropline tries again shortly.",
)


def stock_refusal_text(code: int | str | None, message: str, details: Sequence[ItemError] = ()) -> str:
    """One line a seller can act on for a refused stock update, ending with TikTok's code(s) for support. "Check
    failed" (12052990) says what is wrong in its per-warehouse details."""
    codes = [str(code)] if code not in (None, "") else []
    meaning = STOCK_PUSH.meanings.get(code) if isinstance(code, int) else None
    text = meaning.fix if meaning else None
    for detail in details:
        codes.append(str(detail.code))
        detail_meaning = STOCK_PUSH.meanings.get(detail.code)
        text = text or (detail_meaning.fix if detail_meaning else None)
        if detail.ref and not text:
            text = f"TikTok refused warehouse {detail.ref}: {detail.message}"
    if text is None:
        text = f"TikTok refused the stock update: {message or 'no reason given'}."
    suffix = f" (TikTok {'/'.join(codes)})" if codes else ""
    return (text + suffix)[:500]


# --------------------------------------------------------------- after-sales (Return & Refund API, TikTok only)
# Codes from return-and-refund/*.spec.json. A decision refused because the request is no longer at that step (TikTok
# or the seller in Seller Center decided it, the deadline passed, the buyer withdrew it) means it was decided
# elsewhere: ALREADY_DONE (or NOT_FOUND when it is closed without effect), and the caller reads the request again.
_RE_READ = " Dropline reads the request again and shows where it stands."
_DECIDED = Meaning(
    ErrorKind.ALREADY_DONE,
    "This request was answered already (in TikTok Seller Center, or by TikTok when the time to answer ran out)."
    + _RE_READ,
)
_WITHDRAWN = Meaning(
    ErrorKind.NOT_FOUND, "The buyer withdrew this request, or TikTok closed it: there is nothing to answer." + _RE_READ
)
_NOT_THIS_SHOP = Meaning(
    ErrorKind.NOT_FOUND, "TikTok says this order is not in this shop: check which store the order belongs to."
)
_ORDER_NOT_FOUND = Meaning(ErrorKind.NOT_FOUND, "TikTok has no such order in this shop.")
_INVALID_REQUEST = Meaning(
    ErrorKind.INVALID, "TikTok refused the request as malformed: report it to Dropline support with TikTok's code."
)
_BUSY = Meaning(ErrorKind.TEMPORARY, "TikTok is updating this request at the same moment: try again in a minute.")
_UNKNOWN_REASON = Meaning(
    ErrorKind.INVALID, "TikTok does not know this reason any more: reload the list of reasons and choose again."
)
_REASON_OFFLINE = Meaning(
    ErrorKind.INVALID, "TikTok has withdrawn this reason: reload the list of reasons and choose another."
)
_REASON_NOT_FOR_THIS = Meaning(
    ErrorKind.INVALID,
    "This reason is not one TikTok takes for this answer: reload the list of reasons and choose again.",
)
_OPERATOR = Meaning(
    ErrorKind.REFUSED,
    "TikTok's customer service handles this request now (the buyer or the seller asked them to): follow it in "
    "TikTok Seller Center.",
)
_DECISION_TYPE = Meaning(
    ErrorKind.INVALID, "That answer does not fit this kind of request (refund, return or replacement)." + _RE_READ
)
_AFTER_SALE_COMMON: dict[int, Meaning] = {
    25001001: _INVALID_REQUEST,
    11050001: _INVALID_REQUEST,
    25020005: _NOT_THIS_SHOP,
    25007006: _ORDER_NOT_FOUND,
    25001028: _BUSY,  # "reverse lock failed"
    25001058: _BUSY,  # "reverse downstream data load error"
    25007002: _BUSY,  # "db access error"
}

# Search Cancellations / Search Returns / Get Reject Reasons / Get Return Records.
AFTER_SALE_READ = OperationErrors(
    meanings=_AFTER_SALE_COMMON,
    otherwise="TikTok would not list this store's after-sale requests now: try again later.",
    temporary="Temporary problem at TikTok: the after-sale requests are read again shortly.",
)

# Approve Cancellation / Reject Cancellation.
CANCELLATION_DECIDE = OperationErrors(
    meanings={
        **_AFTER_SALE_COMMON,
        25011012: _DECIDED,  # "reverse status cannot approve application"
        25011011: _DECIDED,  # "reverse status cannot reject application"
        25020010: _DECIDED,  # "Aftersales has been approved and cannot be rejected."
        25020003: _DECIDED,  # "decision not match reverse status"
        25020009: _WITHDRAWN,  # "reverse already cancelled"
        25020004: Meaning(
            ErrorKind.INVALID, "This cancellation was not asked by the buyer: there is nothing to approve or reject."
        ),
        25001003: Meaning(
            ErrorKind.REFUSED, "The order is no longer in a state TikTok lets the seller answer in." + _RE_READ
        ),
        25001045: Meaning(
            ErrorKind.REFUSED,
            "The order has shipped: TikTok cannot call the parcel back from the carrier, so the cancellation cannot "
            "be approved. Reject it (reason: the product is on its way), and the buyer may ask for a return.",
        ),
        25001014: _UNKNOWN_REASON,
        25001020: _REASON_OFFLINE,
        25001016: _REASON_NOT_FOR_THIS,
        25001057: _REASON_NOT_FOR_THIS,
    },
    otherwise="TikTok refused the answer to this cancellation request: answer it in TikTok Seller Center.",
    temporary="Temporary problem at TikTok: answer again in a few minutes (the same answer is never taken twice).",
)

# Approve Return / Reject Return.
RETURN_DECIDE = OperationErrors(
    meanings={
        **_AFTER_SALE_COMMON,
        25011012: _DECIDED,  # "reverse status cannot approve application"
        25011011: _DECIDED,  # "reverse status cannot reject application"
        25020010: _DECIDED,  # "Aftersales has been approved and cannot be rejected."
        25011013: Meaning(  # "reverse status cannot approve receive"
            ErrorKind.ALREADY_DONE,
            "TikTok is not waiting for the parcel to be confirmed: it has not arrived yet, or the request was "
            "answered already." + _RE_READ,
        ),
        25020011: Meaning(
            ErrorKind.ALREADY_DONE,
            "The returned parcel has arrived: answer the request at that step (accept or dispute the parcel)."
            + _RE_READ,
        ),
        25020012: _DECIDED,  # "status can't reject receive"
        25020003: _DECIDED,
        25020009: _WITHDRAWN,
        25020004: _DECISION_TYPE,
        25011035: Meaning(
            ErrorKind.NOT_READY,
            "The returned parcel has not arrived yet: dispute it once it has arrived and been inspected.",
        ),
        25001044: Meaning(
            ErrorKind.REFUSED, "TikTok does not let this return request be approved: see it in Seller Center."
        ),
        25001003: Meaning(
            ErrorKind.REFUSED, "The order is no longer in a state TikTok lets the seller answer in." + _RE_READ
        ),
        25007007: Meaning(
            ErrorKind.REFUSED,
            "A negotiation with the buyer is open on this request: finish it in TikTok Seller Center.",
        ),
        25011010: _OPERATOR,
        25011023: Meaning(
            ErrorKind.REFUSED, "TikTok handles returns of authenticity-guaranteed orders itself: nothing to answer."
        ),
        25011025: Meaning(
            ErrorKind.REFUSED, "The buyer was refunded at once (quick refund): the returned parcel cannot be disputed."
        ),
        25011026: Meaning(
            ErrorKind.REFUSED, "TikTok's warehouse receives returns of orders it fulfils (FBT): nothing to answer here."
        ),
        25011032: Meaning(ErrorKind.REFUSED, "A partial refund cannot be offered at this step." + _RE_READ),
        25001014: _UNKNOWN_REASON,
        25001020: _REASON_OFFLINE,
        25001016: _REASON_NOT_FOR_THIS,
        25001057: _REASON_NOT_FOR_THIS,
    },
    otherwise="TikTok refused the answer to this return request: answer it in TikTok Seller Center.",
    temporary="Temporary problem at TikTok: answer again in a few minutes (the same answer is never taken twice).",
)

# Cancel Order (the seller cancels) and Calculate Refund (what that would refund).
_SHIPPED = Meaning(
    ErrorKind.REFUSED,
    "The order has shipped: TikTok cannot call the parcel back from the carrier, so it can no longer be cancelled. "
    "The buyer may ask for a refund or a return once it arrives.",
)
ORDER_CANCEL = OperationErrors(
    meanings={
        **_AFTER_SALE_COMMON,
        25001011: Meaning(
            ErrorKind.REFUSED,
            "The order already has an open cancellation or return request, or is cancelled: answer that request "
            "instead (Dropline reads the order's requests again).",
        ),
        25001051: Meaning(ErrorKind.REFUSED, "The order is completed or cancelled: it cannot be cancelled now."),
        25001045: _SHIPPED,
        25001014: _UNKNOWN_REASON,
        25001015: Meaning(
            ErrorKind.INVALID, "This is not a reason a seller may give: choose one of the seller's reasons."
        ),
        25001020: _REASON_OFFLINE,
        25001021: Meaning(
            ErrorKind.INVALID,
            "This reason does not fit the order's status on TikTok (unpaid and paid orders take different reasons): "
            "refresh the order and choose a reason again.",
        ),
        25001046: Meaning(
            ErrorKind.REFUSED, "TikTok's risk control blocked this cancellation: cancel it in TikTok Seller Center."
        ),
        25005010: Meaning(
            ErrorKind.INVALID,
            "TikTok cancels only whole orders for this reason: cancel every line, or choose out of stock.",
        ),
        25005011: Meaning(
            ErrorKind.INVALID, "Some of these lines are cancelled or returned already: refresh the order and try again."
        ),
    },
    otherwise="TikTok refused to cancel the order: cancel it in TikTok Seller Center.",
    temporary="TikTok did not answer: Dropline checks whether the order was cancelled before trying again.",
)
NO_REASON = Meaning(ErrorKind.INVALID, "Choose a reason: TikTok needs one from its list.")
REFUND_ESTIMATE = OperationErrors(
    meanings={**_AFTER_SALE_COMMON, **{code: ORDER_CANCEL.meanings[code] for code in (25001014, 25001015, 25001021)}},
    otherwise="TikTok could not work out the refund for this order now.",
    temporary="TikTok did not answer: the refund is worked out again shortly.",
)


# ------------------------------------------------------------------------------------------------- applying them
def explain(error: PlatformError, operation: OperationErrors) -> PlatformError:
    """Give `error` its meaning for this operation (kind and fix), in place; returns it for `raise explain(...)`."""
    if error.kind == ErrorKind.AUTH_EXPIRED:
        error.fix = error.fix or "TikTok refused Dropline's access to this store: reconnect it under Stores."
        return error
    if error.kind == ErrorKind.OUTCOME_UNKNOWN:
        return error  # the caller looks on the platform before anything else; no fix for a person yet
    if error.retryable:
        error.fix = operation.temporary
        return error
    meaning = operation.meanings.get(error.code) if isinstance(error.code, int) else None
    if meaning is not None:
        error.kind, error.fix = meaning.kind, meaning.fix
    else:
        error.fix = error.fix or operation.otherwise
    return error


def refusal_explained(refusal: PackageRefusal, operation: OperationErrors) -> PackageRefusal:
    """A per-package refusal of a batch call, with its kind and fix for this operation."""
    meaning = operation.meanings.get(int(refusal.code)) if refusal.code.isdigit() else None
    if meaning is None:
        return replace(refusal, fix=refusal.fix or operation.otherwise)
    return replace(refusal, kind=meaning.kind, fix=meaning.fix)


@contextmanager
def explained(operation: OperationErrors) -> Iterator[None]:
    """Every PlatformError raised inside carries this operation's kind and fix."""
    try:
        yield
    except PlatformError as error:
        explain(error, operation)
        raise
