"""The local gazetteer (streets, landmarks, neighbourhoods) and its geocoder; no internet.

Import: a CSV with the header `kind,name,city,lat,lon,radius_m` and an optional `alt_names`
column (names separated by `|`); each alternative name becomes its own place at the same
coordinates, with the same kind, city and radius. Rows are checked like the cells' (a bad row
is counted under its reason and skipped); an empty `radius_m` or 0 takes the kind's default
(`DEFAULT_RADIUS_M`). **Replacement rule**: an import replaces, in one transaction, every place
of the cities its valid rows name (cities compared after `normalise`, so "Salé" and "Sale" are
one city); places of other cities stay. Re-importing a file therefore never duplicates, and a file
without any valid row changes nothing. Gazetteer files are small (a city is a few thousand
names): the file is read whole before the transaction.

Geocoding: the query is normalised; a leading house number before a street type ("12 avenue
Mohammed V", "n° 3 rue …") is kept in the match as `house_number` but does not move the point:
there is no house-number interpolation, the match is the street's own point and radius.
Candidates are the places whose key contains every query token (a SQL LIKE per token), then
scored here: the exact key (1.0) > every token a whole word (0.6-0.9) > every token a word
prefix (0.3-0.5) > a token inside a word (0.1-0.2), more of the key covered scoring higher;
at equal score landmarks and streets come before neighbourhoods. One place listed under
several names is returned once, under its best-scoring name.
"""

from __future__ import annotations

import asyncio
import csv
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, delete, insert, select

from gateway.location.cells import BadRow, ImportReport, parse_float, parse_position
from gateway.persistence.db import Database
from gateway.persistence.models import PlaceRow

places = cast(Table, PlaceRow.__table__)

KINDS = ("landmark", "street", "neighbourhood")
KIND_RANK = {"landmark": 0, "street": 0, "neighbourhood": 1}
DEFAULT_RADIUS_M = {"landmark": 100.0, "street": 500.0, "neighbourhood": 1000.0}
REQUIRED = ("kind", "name", "city", "lat", "lon", "radius_m")
NAME_MAX, CITY_MAX = 160, 64

# Arabic letters unified after the marks (tashkeel, hamza above/below) are gone; tatweel out.
_ARABIC = str.maketrans(
    {"ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None}
    | {digit: str(n) for n, digit in enumerate("٠١٢٣٤٥٦٧٨٩")}
    | {digit: str(n) for n, digit in enumerate("۰۱۲۳۴۵۶۷۸۹")}
)
STREET_WORDS = {
    "av": "avenue", "ave": "avenue", "avn": "avenue",
    "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard", "boul": "boulevard",
    "r": "rue", "pl": "place",
    "quartier": "hay", "qrt": "hay", "qr": "hay",
}  # fmt: skip
# What may follow a house number: French street types and their Arabic forms (normalised).
STREET_TYPES = frozenset({"avenue", "boulevard", "rue", "place", "impasse", "route", "allee",
                          "derb", "zenkat", "شارع", "زنقه", "ساحه", "طريق", "درب"})  # fmt: skip
_HOUSE = re.compile(r"\d{1,5}[a-z]?")
_NUMBER_WORDS = frozenset({"n", "no", "num", "numero"})


def _roman(n: int) -> str:
    return "x" * (n // 10) + ("", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix")[n % 10]


ROMAN = {_roman(n): str(n) for n in range(1, 21)}  # "Mohammed V" and "Mohammed 5" are one


def normalise(text: str) -> str:
    """The lookup key of a name or a query.

    Casefolded; accents and every combining mark dropped (NFKD), which also removes the Arabic
    tashkeel and turns أ إ آ into ا and ؤ ئ into و ي; ٱ → ا, ة → ه, ى → ي, tatweel removed,
    Arabic-Indic digits made ASCII; punctuation becomes a space and spaces collapse; street
    words unified (av/av./ave → avenue, bd/blvd → boulevard, r. → rue, pl → place,
    quartier → hay) and roman numerals up to XX written in digits. Articles are kept.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    spaced = "".join(ch if ch.isalnum() else " " for ch in kept.translate(_ARABIC))
    words = (STREET_WORDS.get(word, word) for word in spaced.split())
    return " ".join(ROMAN.get(word, word) for word in words)


def parse_query(text: str) -> tuple[list[str], str | None]:
    """The query's tokens, and its house number when one leads a street type."""
    tokens = normalise(text).split()
    start = 1 if len(tokens) > 2 and tokens[0] in _NUMBER_WORDS else 0
    if len(tokens) > start + 1 and _HOUSE.fullmatch(tokens[start]):
        rest = tokens[start + 1 :]
        suffix = rest[0] if rest[0] in ("bis", "ter") else None
        if suffix is not None:
            rest = rest[1:]
        if rest and rest[0] in STREET_TYPES:
            return rest, " ".join(filter(None, (tokens[start], suffix)))
    return tokens, None


def _forms(word: str) -> tuple[str, ...]:
    """A key word, and without its Arabic article ("الخامس" also answers "خامس")."""
    return (word, word[2:]) if word.startswith("ال") and len(word) > 3 else (word,)


def score(tokens: list[str], key: str) -> float | None:
    """How well `key` answers the query tokens (see the module), or None if it does not."""
    if not tokens:
        return None
    if " ".join(tokens) == key:
        return 1.0
    forms = [form for word in key.split() for form in _forms(word)]
    tier = 3
    for token in tokens:
        if token in forms:
            continue
        if any(form.startswith(token) for form in forms):
            tier = min(tier, 2)
        elif token in key:
            tier = 1
        else:
            return None
    coverage = min(1.0, len(tokens) / len(key.split()))
    low, span = {3: (0.6, 0.3), 2: (0.3, 0.2), 1: (0.1, 0.1)}[tier]
    return round(low + span * coverage, 3)


@dataclass(frozen=True)
class GeocodeMatch:
    place_id: int
    kind: str
    name: str
    city: str | None
    latitude: float
    longitude: float
    radius_m: float
    score: float
    house_number: str | None = None


@dataclass
class PlacesReport(ImportReport):
    """An import's report, with the places written (names included) and the cities replaced."""

    places: int = 0
    cities: list[str] = field(default_factory=list)
    replaced: int = 0

    def as_dict(self) -> dict[str, Any]:
        return super().as_dict() | {"places": self.places, "cities": self.cities,
                                    "replaced": self.replaced}  # fmt: skip


def parse_place(values: dict[str, str | None]) -> list[dict[str, Any]]:
    """A row as its places (the name, then each alternative name), or BadRow."""
    kind = (values["kind"] or "").strip().lower()
    if kind not in KINDS:
        raise BadRow("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    city = (values["city"] or "").strip()
    if not city or len(city) > CITY_MAX or not normalise(city):
        raise BadRow("city", f"missing or longer than {CITY_MAX}: {city!r}")
    latitude, longitude = parse_position(values["lat"] or "", values["lon"] or "")
    radius_text = (values["radius_m"] or "").strip()
    radius = parse_float(radius_text, "radius_m", 0.0, 1e6) if radius_text else 0.0
    names = [(values["name"] or "").strip()]
    names += [alt.strip() for alt in (values.get("alt_names") or "").split("|") if alt.strip()]
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        key = normalise(name)
        if not key or len(name) > NAME_MAX or len(key) > NAME_MAX:
            raise BadRow("name", f"empty or longer than {NAME_MAX}: {name!r}")
        rows.setdefault(key, {"kind": kind, "name": name, "key": key, "city": city,
                              "latitude": latitude, "longitude": longitude,
                              "radius_m": radius or DEFAULT_RADIUS_M[kind]})  # fmt: skip
    return list(rows.values())


def read_places(path: Path, report: PlacesReport) -> list[dict[str, Any]]:
    """Every valid place of the file; bad and repeated rows counted in `report`."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as text:
        reader = csv.DictReader(text, skipinitialspace=True)
        header = [name.strip() for name in reader.fieldnames or ()]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise ValueError(f"the header lacks the columns {', '.join(missing)}")
        reader.fieldnames = header
        for row in reader:
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            report.read += 1
            try:
                rows = parse_place(row)
            except BadRow as problem:
                report.reject(reader.line_num, problem)
                continue
            report.imported += 1
            for place in rows:
                same = tuple(place[name] for name in ("kind", "key", "city", "latitude",
                                                      "longitude"))  # fmt: skip
                found.setdefault(same, place)
    return list(found.values())


def replace_places(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Delete the places of the rows' cities, insert the rows; the number deleted."""
    wanted = {normalise(row["city"]) for row in rows}
    existing = conn.execute(select(places.c.city).distinct()).scalars()
    cities = [city for city in existing if city is not None and normalise(city) in wanted]
    deleted = conn.execute(delete(places).where(places.c.city.in_(cities))).rowcount
    conn.execute(insert(places), rows)
    return deleted


async def import_places(database: Database, path: Path) -> PlacesReport:
    """Import a gazetteer CSV (see the module for the columns and the replacement rule).

    Raises OSError when the file cannot be read, ValueError when its header lacks a column."""
    started = time.monotonic()
    report = PlacesReport(path=str(path))
    rows = await asyncio.to_thread(read_places, path, report)
    if rows:
        report.replaced = await database.write(lambda conn: replace_places(conn, rows))
    report.places = len(rows)
    report.cities = sorted({row["city"] for row in rows})
    report.seconds = time.monotonic() - started
    return report


async def geocode(
    database: Database, text: str, *, city: str | None = None, limit: int = 5
) -> list[GeocodeMatch]:
    """The best `limit` places for `text`, within `city` when given (see the module)."""
    tokens, house_number = parse_query(text)
    if not tokens or limit < 1:
        return []
    # Keys and tokens are letters, digits and single spaces only: no LIKE wildcard to escape.
    query = select(places).where(and_(*(places.c.key.contains(token) for token in tokens)))
    async with database.engine.connect() as conn:
        candidates = (await conn.execute(query)).mappings().all()
    city_key = normalise(city) if city else None
    scored: list[tuple[float, Any]] = []
    for row in candidates:
        if city_key is not None and normalise(row["city"] or "") != city_key:
            continue
        value = score(tokens, row["key"])
        if value is not None:
            scored.append((value, row))
    scored.sort(key=lambda item: (-item[0], KIND_RANK.get(item[1]["kind"], 2),
                                  len(item[1]["name"]), item[1]["id"]))  # fmt: skip
    matches: list[GeocodeMatch] = []
    seen: set[tuple[Any, ...]] = set()
    for value, row in scored:
        spot = (row["kind"], row["city"], row["latitude"], row["longitude"])
        if spot in seen:
            continue
        seen.add(spot)
        matches.append(GeocodeMatch(
            place_id=row["id"], kind=row["kind"], name=row["name"], city=row["city"],
            latitude=row["latitude"], longitude=row["longitude"], radius_m=row["radius_m"],
            score=value, house_number=house_number,
        ))  # fmt: skip
        if len(matches) == limit:
            break
    return matches
