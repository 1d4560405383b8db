"""Static reference data used by the seed: names, addresses, catalogue, carriers.

Addresses are realistic (real city/state/ZIP combinations) but the street numbers are invented.
"""

from __future__ import annotations

FIRST_NAMES = [
    "David",
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Sofia",
    "Carlos",
    "Emily",
    "Liam",
    "Priya",
    "Noah",
    "Olivia",
    "Mateo",
    "Hannah",
    "Ethan",
    "Grace",
    "Lucas",
    "Chloe",
    "Daniel",
    "Zoe",
]
LAST_NAMES = [
    "Kong",
    "Garcia",
    "Smith",
    "Johnson",
    "Nguyen",
    "Patel",
    "Brown",
    "Lopez",
    "Miller",
    "Davis",
    "Wilson",
    "Martinez",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Lee",
    "Harris",
    "Clark",
]

# (line1, line2, city, state, state_code, postal_code, area_code)
US_ADDRESSES: list[tuple[str, str, str, str, str, str, str]] = [
    ("1199 Coleman Ave", "", "San Jose", "California", "CA", "95110", "408"),
    ("5800 Bristol Pkwy", "Suite 100", "Culver City", "California", "CA", "90230", "310"),
    ("350 5th Ave", "Apt 4B", "New York", "New York", "NY", "10118", "212"),
    ("233 S Wacker Dr", "", "Chicago", "Illinois", "IL", "60606", "312"),
    ("1500 Marilla St", "", "Dallas", "Texas", "TX", "75201", "214"),
    ("400 Broad St", "", "Seattle", "Washington", "WA", "98109", "206"),
    ("1 Independence Mall", "Unit 12", "Philadelphia", "Pennsylvania", "PA", "19106", "215"),
    ("600 Peachtree St NE", "", "Atlanta", "Georgia", "GA", "30308", "404"),
    ("3300 Biscayne Blvd", "Apt 1203", "Miami", "Florida", "FL", "33137", "305"),
    ("1701 Wynkoop St", "", "Denver", "Colorado", "CO", "80202", "303"),
    ("100 Cambridge St", "Floor 2", "Boston", "Massachusetts", "MA", "02114", "617"),
    ("2 E Congress St", "", "Tucson", "Arizona", "AZ", "85701", "520"),
    ("800 Occidental Ave S", "", "Seattle", "Washington", "WA", "98134", "206"),
    ("111 S Michigan Ave", "", "Chicago", "Illinois", "IL", "60603", "312"),
    ("4001 S Decatur Blvd", "Apt 37", "Las Vegas", "Nevada", "NV", "89103", "702"),
    ("700 Clark Ave", "", "St. Louis", "Missouri", "MO", "63102", "314"),
]

# Deliberately bad US addresses: (kind, line1, line2, city, state, state_code, postal_code, area_code).
# "unknown_postal" and "missing_line1" are undeliverable (11021012); "po_box" is deliverable only by USPS.
BAD_US_ADDRESSES: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("unknown_postal", "742 Evergreen Terrace", "", "Springfield", "Oregon", "OR", "00000", "541"),
    ("po_box", "PO Box 1234", "", "Austin", "Texas", "TX", "78767", "512"),
    ("missing_line1", "", "", "Portland", "Oregon", "OR", "97204", "503"),
]

UK_ADDRESSES: list[tuple[str, str, str, str, str, str, str]] = [
    ("221B Baker Street", "", "London", "England", "Greater London", "NW1 6XE", "20"),
    ("10 Deansgate", "Flat 3", "Manchester", "England", "Greater Manchester", "M3 1AZ", "161"),
    ("45 George Street", "", "Edinburgh", "Scotland", "City of Edinburgh", "EH2 2HT", "131"),
    ("12 Broad Street", "", "Birmingham", "England", "West Midlands", "B1 2HF", "121"),
]

# (title, [(sku_name, seller_sku_suffix, price, weight_lb, (l, w, h) inches)])
CATALOGUE: list[tuple[str, list[tuple[str, str, str, float, tuple[float, float, float]]]]] = [
    (
        "Women's Winter Crochet Cardigan",
        [
            ("Red, M", "RED-M", "24.99", 0.9, (12, 10, 3)),
            ("Red, L", "RED-L", "24.99", 1.0, (12, 10, 3)),
            ("Black, M", "BLK-M", "26.99", 0.9, (12, 10, 3)),
        ],
    ),
    (
        "Stainless Steel Water Bottle 32oz",
        [("Silver", "SIL", "19.50", 1.4, (11, 4, 4)), ("Matte Black", "MBK", "21.00", 1.4, (11, 4, 4))],
    ),
    ("LED Desk Lamp with Wireless Charger", [("White", "WHT", "39.99", 3.2, (18, 8, 6))]),
    (
        "Organic Cotton Baby Onesie 3-Pack",
        [("0-3M", "03M", "18.00", 0.5, (9, 7, 2)), ("3-6M", "36M", "18.00", 0.6, (9, 7, 2))],
    ),
    ("Cast Iron Skillet 12in", [("12 inch", "12IN", "34.95", 8.0, (20, 13, 3))]),
    (
        "Yoga Mat Non-Slip 6mm",
        [("Purple", "PUR", "29.99", 2.5, (25, 6, 6)), ("Teal", "TEAL", "29.99", 2.5, (25, 6, 6))],
    ),
    ("Bluetooth Earbuds Pro", [("Black", "BK", "49.00", 0.3, (5, 4, 2))]),
    ("Standing Desk Frame (oversize)", [("Frame", "FRAME", "219.00", 64.0, (72, 30, 12))]),
]

BUYER_MESSAGES = [
    "Please ship asap!",
    "Gift - no invoice please",
    "Leave at the back door",
    "Can you double bag it?",
    "Birthday present, thanks!",
]
CANCEL_REASONS_BUYER = ["No longer needed", "Need to change shipping address", "Found a better price"]
CANCEL_REASONS_SELLER = ["Out of stock", "Pricing error", "Unable to deliver to buyer address"]
CANCEL_REASONS_SYSTEM = ["Package delivery failed", "Seller did not ship within the required time", "Payment timeout"]

# Shipping services sold through TikTok Shipping in the US (ids are stable so clients can store them).
# (service id, name, provider id, provider name, base price, price per lb, max lb, po_box_ok, min days, max days)
US_SERVICES: list[tuple[str, str, str, str, float, float, float, bool, int, int]] = [
    ("7208502187360519982", "USPS Ground Advantage", "7117858858072016686", "USPS", 4.50, 0.85, 70, True, 2, 5),
    ("7208502187360536366", "USPS Priority Mail", "7117858858072016686", "USPS", 8.10, 1.40, 70, True, 1, 3),
    ("7208502187360552750", "UPS Ground", "7117859084333745966", "UPS", 9.25, 0.95, 150, False, 1, 5),
    ("7208502187360569134", "FedEx 2Day", "7129736293386585862", "FedEx", 18.40, 2.10, 150, False, 2, 2),
]

US_PROVIDERS: list[tuple[str, str]] = [
    ("7117858858072016686", "USPS"),
    ("7117859084333745966", "UPS"),
    ("7129736293386585862", "FedEx"),
]
UK_PROVIDERS: list[tuple[str, str]] = [("7117861200000000001", "Royal Mail"), ("7117861200000000002", "Evri")]
