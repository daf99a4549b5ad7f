"""The last-resort fix of a fixed-line caller: the area of the number, coarse.

libphonenumber names the area of a Moroccan fixed-line number ("Rabat/Témara", "Fès/Maknès"
…; gateway/callers/areas.py). Each name is looked up in a small table of town centres
(approximate coordinates, rounded to 0.01°, as any map shows them); an area naming several
towns becomes their centre, with a radius that holds them all plus `TOWN_RADIUS_M`. A name
we do not know ("Maroc Sud") gives no fix.
"""

from __future__ import annotations

import unicodedata

from gateway.location.geodesy import centre_and_radius, haversine_m
from gateway.location.parsed import ParsedFix

TOWN_RADIUS_M = 20_000.0

_TOWNS: dict[str, tuple[float, float]] = {
    "agadir": (30.42, -9.60), "inezgane": (30.36, -9.54), "ait melou": (30.33, -9.50),
    "al hoceima": (35.25, -3.93), "chefchaouen": (35.17, -5.27), "asilah": (35.47, -6.03),
    "berkane": (34.92, -2.32), "casablanca": (33.57, -7.59),
    "el kelaa des sraghna": (32.05, -7.41), "es-semara": (26.74, -11.67),
    "tarfaya": (27.94, -12.92), "essaouira": (31.51, -9.77), "figuig": (32.11, -1.23),
    "fnideq": (35.85, -5.36), "martil": (35.62, -5.28), "mdiq": (35.68, -5.32),
    "fes": (34.03, -5.00), "oujda": (34.68, -1.91), "meknes": (33.89, -5.55),
    "taza": (34.21, -4.01), "nador": (35.17, -2.93), "errachidia": (31.93, -4.42),
    "goulmima": (31.69, -4.96), "guelmim": (28.99, -10.06), "tan tan": (28.44, -11.10),
    "ifrane": (33.53, -5.11), "taroudannt": (30.47, -8.88), "khemisset": (33.82, -6.07),
    "kenitra": (34.26, -6.58), "laayoune": (27.15, -13.20), "dakhla": (23.68, -15.96),
    "larache": (35.19, -6.16), "marrakech": (31.63, -8.00), "midelt": (32.68, -4.73),
    "mohammedia": (33.69, -7.39), "el jadida": (33.25, -8.51), "ouarzazate": (30.92, -6.89),
    "ouazzane": (34.80, -5.58), "oued zem": (32.86, -6.57), "rabat": (34.02, -6.84),
    "temara": (33.93, -6.91), "safi": (32.30, -9.24), "el youssoufia": (32.25, -8.53),
    "sale": (34.05, -6.80), "settat": (33.00, -7.62), "souk larbaa": (34.68, -6.00),
    "tanger": (35.76, -5.83), "tetouan": (35.57, -5.37), "oulad teima": (30.40, -9.21),
    "tiznit": (29.70, -9.73), "bouarfa": (32.53, -1.96),
}  # fmt: skip
_SPELLINGS = {"maknes": "meknes", "cherfchaouen": "chefchaouen", "ait melloul": "ait melou"}


def _key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPELLINGS.get(plain, plain)


def area_fix(region: str) -> ParsedFix | None:
    """The coarse fix of a fixed-line area name, or None when no town of it is known."""
    towns = [_TOWNS[key] for key in map(_key, region.split("/")) if key in _TOWNS]
    if not towns:
        return None
    if len(towns) == 1:
        (lat, lon), spread = towns[0], 0.0
    else:
        lat, lon, _ = centre_and_radius(towns)
        spread = max(haversine_m(lat, lon, t_lat, t_lon) for t_lat, t_lon in towns)
    return ParsedFix(
        "fixed-line", latitude=lat, longitude=lon,
        radius_m=spread + TOWN_RADIUS_M, method="fixed-line area",
        details={"area": region[:96]},
    )  # fmt: skip
