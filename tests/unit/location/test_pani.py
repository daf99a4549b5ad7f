"""P-Access-Network-Info: cell identities of every radio, trust, and garbled values."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.location.pani import (
    MAX_HEADER_CHARS,
    CellId,
    PaniEntry,
    cell_fix,
    parse_pani,
    require_trusted_cell,
    trusted_cell,
)
from gateway.location.parsed import LocationParseError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "location"


def samples() -> dict[str, str]:
    lines = (FIXTURES / "pani_samples.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


def invite_pani_values() -> list[str]:
    lines = (FIXTURES / "invite_headers.txt").read_text(encoding="utf-8").splitlines()
    prefix = "P-Access-Network-Info:"
    return [line.removeprefix(prefix).strip() for line in lines if line.startswith(prefix)]


def malformed(*values: str) -> None:
    with pytest.raises(LocationParseError) as caught:
        parse_pani(values)
    assert caught.value.code == "pani-malformed"


@pytest.mark.parametrize(
    ("label", "cell"),
    [
        ("geran", CellId("GSM", 604, 0, "00", 0x03F1, 0x2B67)),
        ("utran", CellId("UMTS", 604, 2, "02", 0x1F40, 0x0ABCDEF)),
        ("eutran", CellId("LTE", 604, 1, "01", 0x1A2B, 0x1234567)),
        ("eutran_mnc3", CellId("LTE", 310, 260, "260", 0x1A2B, 0x1234567)),
        ("eutran_5gc", CellId("LTE", 604, 1, "01", 0x00A1B2, 0x1234567)),
        ("nr", CellId("NR", 604, 1, "01", 0x00A1B2, 0x0123456AB)),
    ],
)
def test_cell_of_each_radio_is_decoded(label: str, cell: CellId) -> None:
    (entry,) = parse_pani([samples()[label]])
    assert entry.cell == cell and entry.network_provided


def test_lte_cell_keeps_its_28_bit_eci_and_nr_its_36_bit_nci() -> None:
    (lte,) = parse_pani(["3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=60401FFFFFFFFFFF"])
    (nr,) = parse_pani(["3GPP-NR-TDD; utran-cell-id-3gpp=60401FFFFFFFFFFFFFFF"])
    assert lte.cell is not None and lte.cell.cell == 2**28 - 1 and lte.cell.area == 0xFFFF
    assert nr.cell is not None and nr.cell.cell == 2**36 - 1 and nr.cell.area == 0xFFFFFF
    assert not lte.network_provided


def test_wlan_entry_has_no_cell_but_keeps_its_parameters() -> None:
    (entry,) = parse_pani([samples()["wlan"]])
    params = {"i-wlan-node-id": "ffeeddccbbaa", "network-provided": ""}
    assert entry == PaniEntry("IEEE-802.11", True, None, params)


def test_quoted_parameters_are_unquoted() -> None:
    (entry,) = parse_pani([samples()["nr"]])
    assert entry.params["local-time-zone"] == "UTC+01:00"


def test_ue_entry_first_and_network_entry_second_trusts_the_network_one() -> None:
    ue, network = parse_pani(invite_pani_values())
    assert not ue.network_provided and ue.cell is not None and ue.cell.cell == 0x7654321
    assert network.network_provided
    assert trusted_cell([ue, network]) == CellId("LTE", 604, 1, "01", 0x1A2B, 0x1234567)


def test_two_entries_in_one_header_value_are_both_read() -> None:
    value = (
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604011A2B7654321, "
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604011A2B1234567; network-provided"
    )
    entries = parse_pani([value])
    assert [e.network_provided for e in entries] == [False, True]
    assert require_trusted_cell(entries).cell == 0x1234567


def test_without_network_provided_no_cell_is_trusted() -> None:
    entries = parse_pani(["3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604011A2B7654321"])
    assert entries[0].cell is not None
    assert trusted_cell(entries) is None
    with pytest.raises(LocationParseError) as caught:
        require_trusted_cell(entries)
    assert caught.value.code == "pani-untrusted"


def test_network_provided_entry_without_a_cell_is_passed_over() -> None:
    entries = parse_pani([samples()["wlan"], samples()["geran"]])
    assert trusted_cell(entries) == CellId("GSM", 604, 0, "00", 0x03F1, 0x2B67)


def test_cell_fix_names_the_cell_for_a_later_lookup() -> None:
    cell = CellId("LTE", 604, 1, "01", 0x1A2B, 0x1234567)
    fix = cell_fix(cell)
    assert (fix.source, fix.method, fix.latitude, fix.radius_m) == ("cell", "Cell", None, None)
    assert fix.details == {
        "radio": "LTE",
        "mcc": "604",
        "mnc": "01",
        "area": "6699",
        "cell": "19088743",
    }
    assert cell.lookup_key == ("LTE", 604, 1, 6699, 19088743)


@pytest.mark.parametrize(
    "value",
    [
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=60401123",
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604011A2G1234567",
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=60A011A2B1234567",
        "3GPP-NR-FDD; utran-cell-id-3gpp=604011A2B1234567",
        "3GPP-GERAN; cgi-3gpp=60400 03F12B67",
        "3GPP-GERAN; cgi-3gpp=6040003F12B67; network-provided=yes",
        '3GPP-E-UTRAN-FDD; utran-cell-id-3gpp="604011A2B1234567',
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604011A2B1234567; utran-cell-id-3gpp=1",
        "3GPP E-UTRAN-FDD; utran-cell-id-3gpp=604011A2B1234567",
        "",
        "3GPP-E-UTRAN-FDD,",
        "; network-provided",
        "3GPP-E-UTRAN-FDD; " + "x" * MAX_HEADER_CHARS,
    ],
)
def test_garbled_values_are_malformed(value: str) -> None:
    malformed(value)


def test_more_than_eight_entries_are_refused() -> None:
    malformed(", ".join(["IEEE-802.11"] * 5), ", ".join(["IEEE-802.11"] * 4))
