"""What TikTok's seller-shipping answers (Mark Package As Shipped, Update Shipping Info) mean, and what a person does
about each. The codes and messages are the spec's (shared/platforms/tiktok-shop/spec/api-reference/fulfillment/
mark-package-as-shipped.spec.json); the fixes are ours. Kept in the adapter: the rest of Dropline asks
`seller_shipping_fix(code)` and never reads a platform code itself."""

from __future__ import annotations

# "Already shipped" in its several spellings: the order's lines already have a shipped package. Not a failure: the
# caller looks at the platform's order and adopts what is there.
ALREADY_SHIPPED_CODES = frozenset({21008099, 21011006, 21011020, 21042056})

SELLER_SHIPPING_FIXES: dict[int, str] = {
    11028006: "TikTok cannot match this tracking number to any carrier: check the number and the carrier, then send "
    "it again.",
    21004012: "Tracking numbers are letters and digits only: remove spaces, dashes and other characters.",
    21004015: "The tracking number does not look like one of this carrier's: choose the carrier that printed the "
    "label, or correct the number.",
    21004016: "TikTok cannot verify tracking for this carrier: choose another carrier from the list.",
    21008025: "TikTok fulfils this order (FBT): there is nothing to ship.",
    21008106: "TikTok does not take seller-shipping tracking for this store's region.",
    21011003: "The order cannot ship yet (unpaid or in the buyer's remorse window): wait until it is to ship.",
    21011004: "This order ships on official TikTok logistics: buy a TikTok Shipping label instead.",
    21011007: "The buyer has an after-sale request: handle it in TikTok Seller Center first, then send again.",
    21011012: "TikTok's trade rules do not allow seller shipping for this order: switch the store's delivery option to "
    "TikTok Shipping in Seller Center and buy a label.",
    21011013: "TikTok's logistics rules no longer accept seller shipping for this order: switch the store's delivery "
    "option (logistics template) to TikTok Shipping in Seller Center and buy a label.",
    21011022: "TikTok does not recognise the carrier or the tracking number: check both and send again.",
    21011025: "This tracking number is already used on another order: enter this parcel's own tracking number.",
    21011026: "This tracking number has been used too many times: enter this parcel's own tracking number.",
    21011029: "Some of the order's items are not on this order any more: refresh the order and send again.",
    21011048: "The order has several packages: ship it from TikTok Seller Center, one package at a time.",
    21042057: "The order is not awaiting shipment (cancelled or already shipped): check it in TikTok Seller Center.",
}
DEFAULT_FIX = "Check the order in TikTok Seller Center, then send again."
RETRY_LATER_FIX = "Temporary problem at TikTok: send again in a few minutes."


def seller_shipping_fix(code: object, *, retryable: bool = False) -> str:
    if retryable:
        return RETRY_LATER_FIX
    return SELLER_SHIPPING_FIXES.get(code if isinstance(code, int) else -1, DEFAULT_FIX)
