"""`line19 location parse`: an integrator's view of what the gateway makes of a payload."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import BinaryIO

import click

from gateway.location.aml import parse_aml_sms
from gateway.location.pani import PaniEntry, parse_pani
from gateway.location.parsed import LocationParseError
from gateway.location.pidf_lo import parse_pidf_lo

MAX_INPUT = 1024 * 1024


@click.group("location")
def location() -> None:
    """Caller-location payloads (PIDF-LO, AML, P-Access-Network-Info)."""


@location.command("parse")
@click.option("--kind", type=click.Choice(["pidf-lo", "aml", "pani"]), required=True)
@click.argument("source", type=click.File("rb"))
def parse(kind: str, source: BinaryIO) -> None:
    """Print the fix(es) parsed from SOURCE (a file, or - for stdin) as JSON.

    pidf-lo: a PIDF-LO document. aml: the SMS form (A"ML=1;…). pani: one
    P-Access-Network-Info header value per line. A payload that cannot be parsed prints
    its error code and message on stderr and exits with status 2.
    """
    data = source.read(MAX_INPUT + 1)
    try:
        if len(data) > MAX_INPUT:
            raise LocationParseError("too-large", f"more than {MAX_INPUT} bytes")
        if kind == "pidf-lo":
            result: object = [fix.to_json_dict() for fix in parse_pidf_lo(data)]
        elif kind == "aml":
            text = data.decode("utf-8", "replace")
            result = parse_aml_sms(text, received_at=datetime.now(UTC)).to_json_dict()
        else:
            lines = [line for line in data.decode("utf-8", "replace").splitlines() if line]
            result = [_pani_json(entry) for entry in parse_pani(lines)]
    except LocationParseError as exc:
        click.echo(json.dumps({"error": {"code": exc.code, "message": exc.message}}), err=True)
        sys.exit(2)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _pani_json(entry: PaniEntry) -> dict[str, object]:
    cell = entry.cell
    return {
        "access_type": entry.access_type,
        "network_provided": entry.network_provided,
        "cell": None if cell is None else {
            "radio": str(cell.radio), "mcc": cell.mcc, "mnc": cell.mnc_text,
            "area": cell.area, "cell": cell.cell,
        },
    }  # fmt: skip
