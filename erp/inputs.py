"""What Dropline accepts from outside: the ranges and the one check per kind of value (docs/adr/0014-input-ranges.md).

Every way in — a dashboard form, an API serializer, a CSV row, a platform payload, a query parameter — checks a value
with the same function here, so a value one of them refuses, none of them accepts:

- **moments** (ship-by, a filter's day, `since=`) between `EARLIEST` and `LATEST`: far enough apart for any real
  deadline or report, far enough from year 1 and year 9999 that converting to any time zone cannot overflow;
- **whole numbers** of units within `MAX_UNITS` (a PostgreSQL `integer` column holds 2^31 - 1: sums must fit too);
- **amounts** within their column's digits (`validate_amount`), never NaN or infinite;
- **text** without NUL (PostgreSQL refuses it in text columns), ids that are UUIDs (`parse_uuid`), ISO 3166 countries
  and ISO 4217 currencies.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import django_filters
import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
MAX_UNITS = 1_000_000  # units in one receipt, count, adjustment or threshold
MAX_STOCK = 2**31 - 1  # on hand or reserved in one warehouse: PostgreSQL's integer
MAX_TEXT = 10_000  # free text (a buyer's message) in characters: a page, not a megabyte

M = TypeVar("M", bound=Model)

_RANGE_TEXT = f"between {EARLIEST:%Y-%m-%d} and {LATEST.year - 1}-12-31"
COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
# ISO 4217's codes for gold, testing and "no currency" are not what an order is paid in.
_NOT_MONEY = {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
CURRENCIES = frozenset(currency.alpha_3 for currency in pycountry.currencies) - _NOT_MONEY


# ---------------------------------------------------------------------------------------------------- moments
def validate_moment(value: datetime | None) -> None:
    """A moment (aware or naive = UTC) in the accepted range."""
    if value is None:
        return
    try:
        moment = timezone.make_aware(value, UTC) if timezone.is_naive(value) else value.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 with a positive offset is before year 1 in UTC
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValidationError(f"Must be {_RANGE_TEXT}.", code="out_of_range")


def validate_day(value: date | None) -> None:
    if value is not None and not EARLIEST.date() <= value < LATEST.date():
        raise ValidationError(f"Must be {_RANGE_TEXT}.", code="out_of_range")


class DayField(forms.DateField):
    """A day typed into a form or a filter, in the accepted range."""

    default_validators = [validate_day]


class MomentField(IsoDateTimeField):
    """A moment (ISO 8601) in a form or a filter, in the accepted range; an offset beyond ±24 h is invalid, not an
    error."""

    default_validators = [validate_moment]

    def to_python(self, value: Any) -> datetime | None:
        try:
            return super().to_python(value)
        except (OverflowError, ValueError) as error:  # "+25:00", or a year-1 value shifted before year 1
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error


class DayFilter(django_filters.DateFilter):
    """A filter's day (`ship_by_to=`), in the accepted range: 9999-12-31 is a 400, not a 500."""

    field_class = DayField


class MomentFilter(django_filters.IsoDateTimeFilter):
    """A filter's moment (`since=`), in the accepted range and with a real offset."""

    field_class = MomentField


# ---------------------------------------------------------------------------------------------------- numbers
def validate_units(value: int | None) -> None:
    """A number of units (signed for an adjustment) within ±MAX_UNITS."""
    if value is not None and abs(value) > MAX_UNITS:
        raise ValidationError(f"At most {MAX_UNITS:,} units at a time.", code="out_of_range")


def parse_units(text: str) -> int:
    """A whole number of units from text (a CSV cell): "1e30", "NaN", "1.5" and out-of-range values are refused."""
    try:
        value = int(text.strip())
    except ValueError as error:
        raise ValidationError(f"“{text[:40]}” is not a whole number.", code="invalid") from error
    validate_units(value)
    return value


def validate_amount(value: Decimal | None, *, max_digits: int = 12, decimal_places: int = 2) -> None:
    """An amount that fits a DecimalField(max_digits, decimal_places), and is not negative."""
    if value is None:
        return
    if not value.is_finite():
        raise ValidationError("Must be a number.", code="invalid")
    if value < 0:
        raise ValidationError("Cannot be negative.", code="min_value")
    if value >= Decimal(10) ** (max_digits - decimal_places):
        raise ValidationError(
            f"Must be less than {Decimal(10) ** (max_digits - decimal_places):,}.", code="out_of_range"
        )


# -------------------------------------------------------------------------------------------------------- text
def validate_no_nul(value: str | None) -> None:
    if value and "\x00" in value:
        raise ValidationError("Contains a NUL character.", code="null_characters_not_allowed")


def validate_text(value: str | None, *, max_length: int = MAX_TEXT) -> None:
    """Free text (a buyer's message, a note): no NUL, at most `max_length` characters."""
    validate_no_nul(value)
    if value and len(value) > max_length:
        raise ValidationError(f"At most {max_length:,} characters (this has {len(value):,}).", code="max_length")


def validate_country_code(value: str | None) -> None:
    if value and value.upper() not in COUNTRIES:
        raise ValidationError(f"“{value[:10]}” is not an ISO 3166 country code (e.g. US, GB).", code="invalid")


def validate_currency(value: str | None) -> None:
    """An ISO 4217 code in capitals, as every platform and every amount in Dropline writes it."""
    if value and value not in CURRENCIES:
        raise ValidationError(f"“{value[:10]}” is not an ISO 4217 currency code (e.g. USD, GBP).", code="invalid")


# --------------------------------------------------------------------------------------------------------- ids
def parse_uuid(value: object) -> UUID | None:
    """An id from request data, or None when it is not one (a tampered form value is "no such object")."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def parse_uuids(values: Iterable[object]) -> list[UUID]:
    """The ids among `values`; the others are left out."""
    return [found for found in map(parse_uuid, values) if found is not None]


def object_or_404(queryset: QuerySet[M], value: object) -> M:
    """The row whose id `value` is, in `queryset` (scoped by the caller); a value that is not an id is a 404 like a
    missing row, never a server error."""
    pk = parse_uuid(value)
    row = queryset.filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise Http404("No such object.")
    return row
