"""The reasons a TikTok Shop seller may give to cancel an order, by order status: data, not logic.

Source: shared/platforms/tiktok-shop/spec/api-reference/return-and-refund/cancel-reasons.json, "US market" >
"Seller Initiates Cancel Reason" (reason names and texts verbatim). Only the US table is carried: Dropline sells in
the US. Other markets have tables of their own with other names (the UK's end in `_uk`); they are added here, keyed by
market, when a store outside the US is connected. A reason that does not fit the order's status is refused by Cancel
Order with 25001021.

The appendix lists UNPAID and "ON_HOLD and AWAITING_SHIPMENT". AWAITING_COLLECTION (a label bought, the parcel not yet
collected) takes the ON_HOLD / AWAITING_SHIPMENT reasons (guess: the appendix does not list it). An order with a
parcel on its way or delivered, or finished, has none: PARTIALLY_SHIPPING included (a whole-order cancellation cannot
call back the parcel already shipped; guess).
"""

from __future__ import annotations

from integrations.interface import OrderStatus, Reason

US_SELLER_CANCEL_UNPAID: tuple[Reason, ...] = (
    Reason("seller_cancel_unpaid_reason_out_of_stock", "Out of stock"),
    Reason("seller_cancel_unpaid_reason_wrong_price", "Pricing error"),
    Reason("seller_cancel_unpaid_reason_buyer_hasnt_paid_within_time_allowed", "Buyer did not pay on time"),
    Reason("seller_cancel_unpaid_reason_buyer_requested_cancellation", "Buyer requested cancellation"),
)
US_SELLER_CANCEL_PAID: tuple[Reason, ...] = (
    Reason("seller_cancel_reason_out_of_stock", "Out of stock"),
    Reason("seller_cancel_reason_wrong_price", "Pricing error"),
    Reason("seller_cancel_paid_reason_address_not_deliver", "Unable to deliver to buyer address"),
    Reason("seller_cancel_paid_reason_buyer_requested_cancellation", "Buyer requested cancellation"),
)
US_SELLER_CANCEL: dict[str, tuple[Reason, ...]] = {
    OrderStatus.UNPAID: US_SELLER_CANCEL_UNPAID,
    OrderStatus.ON_HOLD: US_SELLER_CANCEL_PAID,
    OrderStatus.AWAITING_SHIPMENT: US_SELLER_CANCEL_PAID,
    OrderStatus.AWAITING_COLLECTION: US_SELLER_CANCEL_PAID,
}


def seller_cancel_reasons(status: str) -> list[Reason]:
    """The reasons for an order in this Dropline order status (an `OrderStatus` value); empty: it cannot be cancelled
    by the seller."""
    return list(US_SELLER_CANCEL.get(status, ()))
