"""Where a US listing is, to its time zone: by ZIP code (its first three digits give the
state), by the state named in the place, or by a city we know. Each state counts as its main
zone; the few split states (parts of Florida's panhandle, Texas's west, …) choose theirs in
the form."""

from functools import cache

from panamia.fields import time_zones

EASTERN, CENTRAL, MOUNTAIN = "America/New_York", "America/Chicago", "America/Denver"
ARIZONA, PACIFIC = "America/Phoenix", "America/Los_Angeles"
ALASKA, HAWAII, PUERTO_RICO = "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico"

# The zones offered first, in the words a member reads.
US_ZONES = (
    (EASTERN, "Eastern time (New York, Miami, Atlanta)"),
    (CENTRAL, "Central time (Chicago, Houston, New Orleans)"),
    (MOUNTAIN, "Mountain time (Denver, Salt Lake City)"),
    (ARIZONA, "Arizona time (Phoenix)"),
    (PACIFIC, "Pacific time (Los Angeles, Seattle)"),
    (ALASKA, "Alaska time (Anchorage)"),
    (HAWAII, "Hawaii time (Honolulu)"),
    (PUERTO_RICO, "Puerto Rico and the Virgin Islands"),
)

STATES = {
    "AL": ("Alabama", CENTRAL), "AK": ("Alaska", ALASKA), "AZ": ("Arizona", ARIZONA),
    "AR": ("Arkansas", CENTRAL), "CA": ("California", PACIFIC), "CO": ("Colorado", MOUNTAIN),
    "CT": ("Connecticut", EASTERN), "DE": ("Delaware", EASTERN),
    "DC": ("District of Columbia", EASTERN), "FL": ("Florida", EASTERN),
    "GA": ("Georgia", EASTERN), "HI": ("Hawaii", HAWAII), "ID": ("Idaho", MOUNTAIN),
    "IL": ("Illinois", CENTRAL), "IN": ("Indiana", EASTERN), "IA": ("Iowa", CENTRAL),
    "KS": ("Kansas", CENTRAL), "KY": ("Kentucky", EASTERN), "LA": ("Louisiana", CENTRAL),
    "ME": ("Maine", EASTERN), "MD": ("Maryland", EASTERN), "MA": ("Massachusetts", EASTERN),
    "MI": ("Michigan", EASTERN), "MN": ("Minnesota", CENTRAL),
    "MS": ("Mississippi", CENTRAL), "MO": ("Missouri", CENTRAL), "MT": ("Montana", MOUNTAIN),
    "NE": ("Nebraska", CENTRAL), "NV": ("Nevada", PACIFIC), "NH": ("New Hampshire", EASTERN),
    "NJ": ("New Jersey", EASTERN), "NM": ("New Mexico", MOUNTAIN), "NY": ("New York", EASTERN),
    "NC": ("North Carolina", EASTERN), "ND": ("North Dakota", CENTRAL), "OH": ("Ohio", EASTERN),
    "OK": ("Oklahoma", CENTRAL), "OR": ("Oregon", PACIFIC), "PA": ("Pennsylvania", EASTERN),
    "PR": ("Puerto Rico", PUERTO_RICO), "RI": ("Rhode Island", EASTERN),
    "SC": ("South Carolina", EASTERN), "SD": ("South Dakota", CENTRAL),
    "TN": ("Tennessee", CENTRAL), "TX": ("Texas", CENTRAL), "UT": ("Utah", MOUNTAIN),
    "VT": ("Vermont", EASTERN), "VA": ("Virginia", EASTERN), "VI": ("Virgin Islands", PUERTO_RICO),
    "WA": ("Washington", PACIFIC), "WV": ("West Virginia", EASTERN),
    "WI": ("Wisconsin", CENTRAL), "WY": ("Wyoming", MOUNTAIN),
}

# The first three digits of a ZIP code, as ranges, to the state (USPS's prefixes).
ZIP_PREFIXES = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"),
    (30, 38, "NH"), (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"),
    (60, 69, "CT"), (70, 89, "NJ"), (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"),
    (200, 205, "DC"), (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"),
    (290, 299, "SC"), (300, 319, "GA"), (320, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"),
    (386, 397, "MS"), (398, 399, "GA"), (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"),
    (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"),
    (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"), (630, 658, "MO"),
    (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"), (730, 749, "OK"),
    (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"), (840, 847, "UT"),
    (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"),
    (967, 968, "HI"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)
# Cities named alone ("Miami"), to their state: South Florida first, then the largest.
CITIES = {
    "miami": "FL", "miami beach": "FL", "hialeah": "FL", "doral": "FL", "coral gables": "FL",
    "homestead": "FL", "kendall": "FL", "north miami": "FL", "little havana": "FL",
    "wynwood": "FL", "fort lauderdale": "FL", "hollywood": "FL", "boca raton": "FL",
    "west palm beach": "FL", "orlando": "FL", "tampa": "FL", "jacksonville": "FL",
    "tallahassee": "FL", "new york": "NY", "brooklyn": "NY", "los angeles": "CA",
    "san francisco": "CA", "san diego": "CA", "chicago": "IL", "houston": "TX",
    "dallas": "TX", "austin": "TX", "san antonio": "TX", "phoenix": "AZ", "denver": "CO",
    "seattle": "WA", "atlanta": "GA", "boston": "MA", "philadelphia": "PA",
    "washington": "DC", "new orleans": "LA", "san juan": "PR", "honolulu": "HI",
}
BY_NAME = {name.lower(): code for code, (name, _) in STATES.items()}
US_ZONE_NAMES = dict(US_ZONES)


def state_of_zip(zip_code: str | None) -> str | None:
    digits = (zip_code or "").strip()[:3]
    if len(digits) != 3 or not digits.isdigit():
        return None
    prefix = int(digits)
    return next((state for low, high, state in ZIP_PREFIXES if low <= prefix <= high), None)


def state_named(place: str | None) -> str | None:
    """The state in `Miami, FL`, `Orlando, Florida` or `florida`, else of a city we know
    (`Miami`), if any."""
    parts = [part.strip().rstrip(".") for part in (place or "").split(",")]
    for words in reversed(parts):
        if words.upper() in STATES:
            return words.upper()
        if words.lower() in BY_NAME:
            return BY_NAME[words.lower()]
    return CITIES.get(parts[0].lower())


def zone_for(*, zip_code: str | None = None, place: str | None = None) -> str | None:
    """The time zone of a US ZIP code, else of the state named in `place`; None if neither
    tells."""
    state = state_of_zip(zip_code) or state_named(place)
    return STATES[state][1] if state else None


def in_words(zone: str) -> str:
    return US_ZONE_NAMES.get(zone) or zone.replace("_", " ").replace("/", " / ")


@cache
def _elsewhere() -> tuple[tuple[str, str], ...]:
    return tuple((zone, in_words(zone)) for zone in time_zones()
                 if zone not in US_ZONE_NAMES and "/" in zone and not zone.startswith("Etc/"))


def zone_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The US zones in words, then every other zone by its place (`Europe / Madrid`); a
    zone already stored stays a choice."""
    elsewhere = list(_elsewhere())
    if current and current not in US_ZONE_NAMES and (current, in_words(current)) not in elsewhere:
        elsewhere.insert(0, (current, in_words(current)))
    return [*US_ZONES, *elsewhere]
