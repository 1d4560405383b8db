"""TikTok's refusals, in words a person can act on (integrations.tiktok.errors)."""

from __future__ import annotations

import pytest

from integrations.errors import ErrorKind, PlatformError
from integrations.interface import ItemError
from integrations.tiktok import errors
from integrations.tiktok.errors import stock_refusal_text


def test_error_messages_are_plain_and_keep_the_platform_code() -> None:
    text = stock_refusal_text(
        12052990, "Check failed", (ItemError(code=12052097, message="The warehouse does not exist", ref="7"),)
    )
    assert text.startswith("A warehouse Dropline sent does not exist on TikTok")
    assert text.endswith("(TikTok 12052990/12052097)")
    assert stock_refusal_text(12345, "odd").endswith("odd. (TikTok 12345)")


@pytest.mark.parametrize(
    ("operation", "code", "kind"),
    [
        (errors.LABEL_PURCHASE, 21022025, ErrorKind.ALREADY_DONE),
        (errors.LABEL_PURCHASE, 11021012, ErrorKind.ADDRESS_UNDELIVERABLE),
        (errors.LABEL_PURCHASE, 21011006, ErrorKind.NOT_SHIPPABLE),  # buying: the order shipped without this label
        (errors.SHIPMENT_REPORT, 21011006, ErrorKind.ALREADY_DONE),  # reporting: it is shipped, adopt it
        (errors.PACKAGE_SHIP, 11006021, ErrorKind.ALREADY_DONE),
        (errors.STOCK_PUSH, 12052032, ErrorKind.NOT_FOUND),
    ],
)
def test_one_code_means_what_its_operation_says(operation: errors.OperationErrors, code: int, kind: ErrorKind) -> None:
    error = errors.explain(PlatformError("tiktok", code, "refused"), operation)
    assert (error.kind, error.code) == (kind, code)
    assert error.fix == operation.meanings[code].fix


def test_unknown_codes_get_the_operations_fix_and_temporary_ones_say_retry() -> None:
    unknown = errors.explain(PlatformError("tiktok", 99999999, "odd"), errors.LABEL_PURCHASE)
    assert (unknown.kind, unknown.fix) == (ErrorKind.REFUSED, errors.LABEL_PURCHASE.otherwise)
    busy = errors.explain(PlatformError("tiktok", 36009003, "busy", retryable=True), errors.SHIPMENT_REPORT)
    assert (busy.kind, busy.fix) == (ErrorKind.TEMPORARY, errors.SHIPMENT_REPORT.temporary)


def test_explained_keeps_the_exception_and_adds_its_meaning() -> None:
    original = PlatformError("tiktok", 21011007, "buyer asked to cancel")
    with pytest.raises(PlatformError) as caught, errors.explained(errors.LABEL_PURCHASE):
        raise original
    assert caught.value is original
    assert caught.value.kind == ErrorKind.NOT_SHIPPABLE_YET
    assert "accept or reject the request" in caught.value.fix
