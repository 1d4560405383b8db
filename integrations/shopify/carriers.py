"""The tracking companies a seller picks from when reporting a shipment to Shopify.

Shopify builds the tracking link itself for a company named exactly as in its list of supported tracking companies
(capitalisation matters, contract notes §4), so Dropline offers only names from that list and never sends a URL.
The notes do not carry the list: these are the common ones of Shopify's published "supported tracking companies"
as remembered [a guess, docs/platforms/shopify.md]; check them against FulfillmentTrackingInfo's documentation.
"""

from __future__ import annotations

from integrations.interface import ShippingProvider

TRACKING_COMPANIES = (
    "UPS",
    "USPS",
    "FedEx",
    "DHL Express",
    "DHL eCommerce",
    "DHL eCommerce Asia",
    "Amazon Logistics US",
    "Amazon Logistics UK",
    "OnTrac",
    "Canada Post",
    "Purolator",
    "Canpar",
    "Royal Mail",
    "Evri",
    "DPD",
    "DPD UK",
    "DPD Local",
    "GLS",
    "Deutsche Post",
    "La Poste",
    "Colissimo",
    "Chronopost",
    "PostNL",
    "Poste Italiane",
    "Correos",
    "An Post",
    "Australia Post",
    "StarTrack",
    "New Zealand Post",
    "Japan Post (EN)",
    "China Post",
    "SF Express",
    "YunExpress",
    "4PX",
    "Singapore Post",
    "TNT",
)


def tracking_companies() -> list[ShippingProvider]:
    return [ShippingProvider(provider_id=name, name=name) for name in TRACKING_COMPANIES]
