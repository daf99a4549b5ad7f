"""Area names of fixed-line numbers, for the home country only.

The names are libphonenumber's geocoding data, as shipped by the `phonenumbers` package.
Its `geocoder` module imports the tables of every country at once: about 105 MB of
resident memory and 0.35 s (measured here, phonenumbers 9.0.43), for the 77 Moroccan
entries we use. So a short-lived child process imports it and hands back the home
country's table as JSON; the gateway keeps only that.
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys

logger = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")  # French names first: they spell Moroccan places better

_EXTRACT = """
import json, sys
from phonenumbers.geodata import GEOCODE_DATA
prefix = sys.argv[1]
json.dump({k: v for k, v in GEOCODE_DATA.items() if k.startswith(prefix)}, sys.stdout)
"""


@functools.cache
def area_table(country_code: int) -> dict[str, str]:
    """{E.164 digit prefix: area name} for one country calling code; {} if unavailable."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", _EXTRACT, str(country_code)],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        raw: dict[str, dict[str, str]] = json.loads(result.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        logger.error("area names for +%d unavailable: %s", country_code, exc)
        return {}
    table = {}
    for prefix, names in raw.items():
        name = next((names[lang] for lang in LANGUAGES if names.get(lang)), None)
        if name:
            table[prefix] = name
    return table


def area_of(e164: str, country_code: int) -> str | None:
    """The area of the longest matching prefix, e.g. "+212537…" -> "Rabat"."""
    digits = e164.lstrip("+")
    table = area_table(country_code)
    for end in range(len(digits), len(str(country_code)), -1):
        name = table.get(digits[:end])
        if name:
            return name
    return None
