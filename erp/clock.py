"""One clock: which time zone a time is shown in, and how it is written (docs/time.md).

- People see moments (ship-by, bought, sent, printed) in the **organization's** zone: `organization_zone`.
- Warehouse-local times (cut-off, pickup slots, working hours) are in the **warehouse's** zone: `warehouse_zone`.
- Days (date filters, the compliance chart, the spend report) are the organization's days: `day_start`.
- `format_local` writes a moment in a zone and always names the zone ("Dec 4, 09:28 PST"); `format_iso` is the CSV
  form (ISO 8601 with the offset); `format_clock_time` names the zone of a time of day (a cut-off, "17:00 CST").

The zone is always passed or looked up from the organization explicitly, never taken from Django's active zone, so a
Celery worker (no request) writes PDFs and emails in the same zone as the pages. Templates use the filters of
`erp.templatetags.clock`. A warehouse's zone defaults from its address: `zone_for_address`.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from erp.tenancy import organization_in_scope

if TYPE_CHECKING:
    from erp.models import Organization
    from inventory.models import Warehouse

UTC = ZoneInfo("UTC")

Style = Literal["short", "seconds", "year", "date"]
_FORMATS: dict[str, str] = {
    "short": "%b %-d, %H:%M",  # Dec 4, 09:28 PST
    "seconds": "%b %-d, %H:%M:%S",  # Dec 4, 09:28:05 PST
    "year": "%b %-d, %Y %H:%M",  # Dec 4, 2026 09:28 PST
    "date": "%a %b %-d, %H:%M",  # Fri Dec 4, 09:28 PST
}


def zone_named(name: str | None, fallback: ZoneInfo = UTC) -> ZoneInfo:
    """The zone of an IANA name, or `fallback` for a blank or unknown one."""
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def organization_zone(organization: Organization | None = None) -> ZoneInfo:
    """The organization's zone (the one given, else the one in scope); UTC when there is none."""
    organization = organization or organization_in_scope()
    return zone_named(organization.time_zone if organization is not None else None)


def warehouse_zone(warehouse: Warehouse | None, fallback: ZoneInfo | None = None) -> ZoneInfo:
    """The warehouse's zone: the one chosen, else the one its address implies, else `fallback` (the organization's)."""
    fallback = fallback or organization_zone()
    if warehouse is None:
        return fallback
    by_address = zone_named(zone_for_address(warehouse.country_code, warehouse.state), fallback)
    return zone_named(warehouse.time_zone, by_address)


def zone_abbreviation(moment: datetime, zone: tzinfo) -> str:
    """The zone's name at that moment: "PST", "CEST"; "UTC+03" where the tz database has no letters."""
    local, zone = in_zone(moment, zone)
    name = local.tzname() or str(zone)
    return name if name[:1].isalpha() else f"UTC{name}"


def in_zone(moment: datetime, zone: tzinfo) -> tuple[datetime, tzinfo]:
    """`moment` in `zone`, or in UTC when the zone's offset would carry it past year 1 or year 9999: a stored
    extreme (docs/adr/0014) is shown in UTC rather than take the page down."""
    try:
        return moment.astimezone(zone), zone
    except OverflowError:
        try:
            return moment.astimezone(UTC), UTC
        except OverflowError:
            return moment, moment.tzinfo or UTC


def format_local(moment: datetime | None, zone: tzinfo, style: Style = "short", *, empty: str = "—") -> str:
    """A moment as people read it in `zone`, the zone always named: "Dec 4, 09:28 PST"."""
    if moment is None:
        return empty
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    local, zone = in_zone(moment, zone)
    if style != "date" and not 2000 <= local.year < 2100:  # a stored extreme: the year is the news
        style = "year"
    # %-d is glibc-only; years before 1000 are written with four digits (strftime's %Y would drop the zeros)
    text = local.strftime(_FORMATS[style].replace("%-d", str(local.day)).replace("%Y", f"{local.year:04d}"))
    return f"{text} {zone_abbreviation(local, zone)}"


def format_iso(moment: datetime | None, zone: tzinfo) -> str:
    """The CSV form: ISO 8601 in `zone` with its offset, "2026-12-04T09:28:00-08:00" (name the zone in the header)."""
    if moment is None:
        return ""
    return in_zone(moment, zone)[0].isoformat(timespec="seconds")


def format_clock_time(value: time | None, zone: tzinfo, *, on: date | None = None, empty: str = "—") -> str:
    """A time of day in a zone (a warehouse cut-off), named by its abbreviation on `on` (today): "17:00 CST"."""
    if value is None:
        return empty
    day = on or timezone.now().astimezone(zone).date()
    return f"{value:%H:%M} {zone_abbreviation(datetime.combine(day, value, tzinfo=zone), zone)}"


def now_in(zone: tzinfo) -> datetime:
    return timezone.now().astimezone(zone)


def day_start(day: date, zone: tzinfo | None = None) -> datetime:
    """The first moment of `day` in `zone` (default: the organization's in scope): where a day filter or a day
    column starts, so "Dec 4" is the seller's Dec 4, not UTC's."""
    return datetime.combine(day, time.min, tzinfo=zone or organization_zone())


# ------------------------------------------------------------------------------------- a zone from an address
# Each US state, DC and territory. Where a state spans two zones, the zone of most of its people (noted).
US_STATE_ZONES: dict[str, str] = {
    "AL": "America/Chicago",
    "AK": "America/Anchorage",  # the Aleutians west of 169.5°W are on Hawaii-Aleutian time
    "AZ": "America/Phoenix",  # no DST (the Navajo Nation, which observes it, is a minority)
    "AR": "America/Chicago",
    "CA": "America/Los_Angeles",
    "CO": "America/Denver",
    "CT": "America/New_York",
    "DE": "America/New_York",
    "DC": "America/New_York",
    "FL": "America/New_York",  # the western panhandle is Central
    "GA": "America/New_York",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",  # southern Idaho (Boise) is Mountain; the panhandle is Pacific
    "IL": "America/Chicago",
    "IN": "America/Indiana/Indianapolis",  # most counties Eastern; the NW and SW corners are Central
    "IA": "America/Chicago",
    "KS": "America/Chicago",  # four western counties are Mountain
    "KY": "America/New_York",  # Louisville and the east; the western half is Central with fewer people
    "LA": "America/Chicago",
    "ME": "America/New_York",
    "MD": "America/New_York",
    "MA": "America/New_York",
    "MI": "America/Detroit",  # four Upper Peninsula counties are Central
    "MN": "America/Chicago",
    "MS": "America/Chicago",
    "MO": "America/Chicago",
    "MT": "America/Denver",
    "NE": "America/Chicago",  # the panhandle is Mountain
    "NV": "America/Los_Angeles",  # West Wendover is Mountain
    "NH": "America/New_York",
    "NJ": "America/New_York",
    "NM": "America/Denver",
    "NY": "America/New_York",
    "NC": "America/New_York",
    "ND": "America/Chicago",  # the south-west is Mountain
    "OH": "America/New_York",
    "OK": "America/Chicago",
    "OR": "America/Los_Angeles",  # most of Malheur County is Mountain
    "PA": "America/New_York",
    "RI": "America/New_York",
    "SC": "America/New_York",
    "SD": "America/Chicago",  # the western half (Rapid City) is Mountain, with fewer people
    "TN": "America/Chicago",  # Nashville and Memphis are Central; East Tennessee (Knoxville) is Eastern
    "TX": "America/Chicago",  # El Paso and Hudspeth counties are Mountain
    "UT": "America/Denver",
    "VT": "America/New_York",
    "VA": "America/New_York",
    "WA": "America/Los_Angeles",
    "WV": "America/New_York",
    "WI": "America/Chicago",
    "WY": "America/Denver",
    # Territories
    "PR": "America/Puerto_Rico",
    "VI": "America/St_Thomas",
    "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan",
    "AS": "Pacific/Pago_Pago",
    "UM": "Pacific/Wake",  # the Minor Outlying Islands span several zones; Wake Island is the inhabited one
}
# A territory written as its own country code.
_US_TERRITORY_COUNTRIES = {"PR", "VI", "GU", "MP", "AS", "UM"}

CA_PROVINCE_ZONES: dict[str, str] = {
    "AB": "America/Edmonton",
    "BC": "America/Vancouver",  # the north-east (Dawson Creek) and the Kootenays differ; most people are Pacific
    "MB": "America/Winnipeg",
    "NB": "America/Moncton",
    "NL": "America/St_Johns",  # Labrador is mostly Atlantic; most people are on the island
    "NS": "America/Halifax",
    "NT": "America/Yellowknife",
    "NU": "America/Iqaluit",  # Nunavut spans three zones; Iqaluit, the capital, is Eastern
    "ON": "America/Toronto",  # the north-west (Thunder Bay west) is partly Central
    "PE": "America/Halifax",
    "QC": "America/Toronto",  # the Magdalen Islands and the far east differ
    "SK": "America/Regina",
    "YT": "America/Whitehorse",
}

# Countries the product ships from that are one zone (or, for Mexico, default to Mexico City's).
COUNTRY_ZONES: dict[str, str] = {
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "ES": "Europe/Madrid",  # the Canary Islands are an hour behind
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "PL": "Europe/Warsaw",
    "MX": "America/Mexico_City",  # Mexico spans four zones; most people are on Central time
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "MY": "Asia/Kuala_Lumpur",
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
    "PH": "Asia/Manila",
}

_US_STATE_NAMES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "washington dc": "DC", "florida": "FL",
    "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME",
    "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH",
    "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
    "us virgin islands": "VI", "virgin islands": "VI", "guam": "GU", "northern mariana islands": "MP",
    "american samoa": "AS",
}  # fmt: skip
_CA_PROVINCE_NAMES: dict[str, str] = {
    "alberta": "AB", "british columbia": "BC", "manitoba": "MB", "new brunswick": "NB",
    "newfoundland and labrador": "NL", "newfoundland": "NL", "nova scotia": "NS", "northwest territories": "NT",
    "nunavut": "NU", "ontario": "ON", "prince edward island": "PE", "quebec": "QC", "québec": "QC",
    "saskatchewan": "SK", "yukon": "YT",
}  # fmt: skip


def _region_code(state: str, names: dict[str, str]) -> str:
    text = " ".join(state.replace(".", "").split()).lower()
    return names.get(text, text.upper())


def zone_for_address(country_code: str | None, state: str | None) -> str | None:
    """The IANA zone an address implies (US state or territory, Canadian province, single-zone country), or None
    when the address does not say (the caller falls back to the organization's zone)."""
    country = (country_code or "").strip().upper()
    region = state or ""
    if country in _US_TERRITORY_COUNTRIES:
        return US_STATE_ZONES[country]
    if country == "US":
        return US_STATE_ZONES.get(_region_code(region, _US_STATE_NAMES))
    if country == "CA":
        return CA_PROVINCE_ZONES.get(_region_code(region, _CA_PROVINCE_NAMES))
    return COUNTRY_ZONES.get(country)
