"""`line19 location parse`: parsed fixes as JSON, or the error and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "location"


def test_a_pidf_lo_file_prints_its_fixes_as_json() -> None:
    result = CliRunner().invoke(
        main,
        ["location", "parse", "--kind", "pidf-lo", str(FIXTURES / "pidf_circle_confidence.xml")],
    )
    assert result.exit_code == 0, result.output
    fixes = json.loads(result.output)
    assert fixes and fixes[0]["source"] == "pidf-lo" and fixes[0]["radius_m"] > 0


def test_an_aml_message_on_stdin_prints_its_fix() -> None:
    lines = (FIXTURES / "aml_sms.txt").read_text().splitlines()
    line = next(text for text in lines if text.startswith("gnss_rabat"))
    message = line.split(" ", 1)[1]
    result = CliRunner().invoke(main, ["location", "parse", "--kind", "aml", "-"], input=message)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["latitude"] == 33.97421


def test_a_pani_with_a_network_provided_cell_prints_it() -> None:
    value = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604010835A1D8C01; network-provided\n"
    result = CliRunner().invoke(main, ["location", "parse", "--kind", "pani", "-"], input=value)
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert entry["network_provided"] is True and entry["cell"]["mcc"] == 604


def test_a_garbled_payload_exits_2_with_its_error_code() -> None:
    result = CliRunner().invoke(
        main, ["location", "parse", "--kind", "aml", "-"], input='A"ML=1;lt=+1;ml=3'
    )
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"]["code"].startswith("aml-")
