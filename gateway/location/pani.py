"""SIP `P-Access-Network-Info` header values (3GPP TS 24.229 §7.2A.4) to cell identities.

    P-Access-Network-Info = "P-Access-Network-Info" HCOLON access-net-spec *(COMMA access-net-spec)
    access-net-spec       = (access-type / access-class) *(SEMI access-info)
    access-info           = cgi-3gpp / utran-cell-id-3gpp / ... / "network-provided" / ...

Cell strings, quoted or not (MCC and MNC decimal, the rest hexadecimal):

    3GPP-GERAN     cgi-3gpp            MCC(3) MNC(2|3) LAC(4) CI(4)        13 | 14 chars
    3GPP-UTRAN-*   utran-cell-id-3gpp  MCC(3) MNC(2|3) LAC(4) UC-Id(7)     16 | 17 chars
    3GPP-E-UTRAN-* utran-cell-id-3gpp  MCC(3) MNC(2|3) TAC(4) ECI(7)       16 | 17 chars
                                       MCC(3) MNC(2|3) TAC(6) ECI(7)       18 | 19 (5GC)
    3GPP-NR-*      utran-cell-id-3gpp  MCC(3) MNC(2|3) TAC(6) NCI(9)       20 | 21 chars

MNC length rule: the string carries no separator, so the access type picks the layout and the
total length then decides: for every access type above, each (MNC digits, TAC width) choice
gives a different length, so exactly one layout fits or the value is "pani-malformed".

Trust: a UE may write any PANI it likes. An entry carrying the `network-provided` parameter
was added by a network node (the P-CSCF, from what the access network told it), and the
operator's edge is expected to strip such entries coming from a UE; `trusted_cell` therefore
only ever returns the cell of a network-provided entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from gateway.location.parsed import (
    LocationParseError,
    ParsedFix,
    is_token,
    parse_params,
    split_outside_quotes,
)

CODE = "pani-malformed"
MAX_HEADER_CHARS = 1024
MAX_ENTRIES = 8

Radio = Literal["GSM", "UMTS", "LTE", "NR"]
# access-type prefix -> (radio, access-info parameter, [(area hex digits, cell hex digits)])
_LAYOUTS: tuple[tuple[str, Radio, str, tuple[tuple[int, int], ...]], ...] = (
    ("3GPP-GERAN", "GSM", "cgi-3gpp", ((4, 4),)),
    ("3GPP-UTRAN", "UMTS", "utran-cell-id-3gpp", ((4, 7),)),
    ("3GPP-E-UTRAN", "LTE", "utran-cell-id-3gpp", ((4, 7), (6, 7))),
    ("3GPP-NR", "NR", "utran-cell-id-3gpp", ((6, 9),)),
)
_HEX = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class CellId:
    """A serving cell: `area` is the LAC or TAC, `cell` the CI, UC-Id, ECI or NCI."""

    radio: Radio
    mcc: int
    mnc: int
    mnc_text: str  # as written, so "01" and "001" stay apart
    area: int
    cell: int

    @property
    def lookup_key(self) -> tuple[str, int, int, int, int]:
        """(radio, mcc, mnc, area, cell), the key of an OpenCelliD-style cell table."""
        return (self.radio, self.mcc, self.mnc, self.area, self.cell)


@dataclass(frozen=True)
class PaniEntry:
    """One access-net-spec: its access type, whether the network vouches for it, its cell."""

    access_type: str
    network_provided: bool
    cell: CellId | None
    params: dict[str, str] = field(default_factory=dict)


def parse_pani(values: Iterable[str]) -> list[PaniEntry]:
    """Every access-net-spec of every P-Access-Network-Info header value, in order."""
    entries: list[PaniEntry] = []
    for value in values:
        if len(value) > MAX_HEADER_CHARS:
            raise LocationParseError(CODE, f"header value longer than {MAX_HEADER_CHARS} chars")
        for spec in split_outside_quotes(value, ",", code=CODE):
            entries.append(_entry(spec))
            if len(entries) > MAX_ENTRIES:
                raise LocationParseError(CODE, f"more than {MAX_ENTRIES} access-net-specs")
    return entries


def trusted_cell(entries: Iterable[PaniEntry]) -> CellId | None:
    """The cell of the first network-provided entry that names one; never a UE-provided one."""
    return next((e.cell for e in entries if e.network_provided and e.cell is not None), None)


def require_trusted_cell(entries: Iterable[PaniEntry]) -> CellId:
    """`trusted_cell`, or "pani-untrusted" when no network-provided entry names a cell."""
    cell = trusted_cell(entries)
    if cell is None:
        raise LocationParseError("pani-untrusted", "no network-provided cell in PANI")
    return cell


def cell_fix(cell: CellId) -> ParsedFix:
    """A position-less fix naming the cell; the cell table supplies the coordinates."""
    return ParsedFix(
        "cell",
        method="Cell",
        details={
            "radio": cell.radio,
            "mcc": str(cell.mcc),
            "mnc": cell.mnc_text,
            "area": str(cell.area),
            "cell": str(cell.cell),
        },
    )


def _entry(spec: str) -> PaniEntry:
    access_type, *items = split_outside_quotes(spec, ";", code=CODE)
    access_type = access_type.strip()
    if not is_token(access_type):
        raise LocationParseError(CODE, f"bad access type {access_type[:40]!r}")
    params = parse_params(items, code=CODE)
    if params.get("network-provided", "") != "":
        raise LocationParseError(CODE, "network-provided takes no value")
    cell = None
    for prefix, radio, key, shapes in _LAYOUTS:
        if access_type.upper().startswith(prefix) and key in params:
            cell = _cell(radio, params[key], shapes)
    return PaniEntry(access_type, "network-provided" in params, cell, params)


def _cell(radio: Radio, value: str, shapes: tuple[tuple[int, int], ...]) -> CellId:
    fits = [(mnc, area, cell) for area, cell in shapes for mnc in (2, 3)
            if 3 + mnc + area + cell == len(value)]  # fmt: skip
    if len(fits) != 1 or not _HEX.fullmatch(value):
        raise LocationParseError(CODE, f"{radio} cell id {value[:32]!r} has no known layout")
    mnc_digits, area_digits, _ = fits[0]
    mcc_text, mnc_text = value[:3], value[3 : 3 + mnc_digits]
    if not (mcc_text + mnc_text).isdigit():
        raise LocationParseError(CODE, f"MCC/MNC of {value[:32]!r} are not decimal digits")
    area_end = 3 + mnc_digits + area_digits
    return CellId(
        radio=radio,
        mcc=int(mcc_text),
        mnc=int(mnc_text),
        mnc_text=mnc_text,
        area=int(value[3 + mnc_digits : area_end], 16),
        cell=int(value[area_end:], 16),
    )
