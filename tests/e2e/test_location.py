"""Where is the caller? Every source on a real call through Asterisk, kept with its provenance.

sipp sends an INVITE with two Geolocation headers (a PIDF-LO by value in a multipart body,
and one by reference served here over HTTP) and two P-Access-Network-Info headers (the
handset's own, then the network's); an AML message is posted during the call, another for
a number that never called.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import REPO, TRUNKS, Gateway, Sipp, caller_with, wait_for

TOKEN = "aml-token-maroc-telecom"
FIXTURES = REPO / "tests" / "fixtures" / "location"
# A cell of cells_sample.csv: LTE, 604/01, TAC 2101, ECI 27391233 (34.0209, -6.8345, 850 m).
KNOWN_CELL = f"60401{2101:04X}{27391233:07X}"

BY_VALUE = """<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
 xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0"
 xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:caller@ims.example.ma">
<dm:device id="handset"><gp:geopriv><gp:location-info>
<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>34.02088 -6.84165</gml:pos>
<gs:radius uom="urn:ogc:def:uom:EPSG::9001">35</gs:radius></gs:Circle>
</gp:location-info><gp:usage-rules/><gp:method>GPS</gp:method></gp:geopriv>
</dm:device></presence>"""

BY_REFERENCE = """<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
 xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0"
 entity="pres:caller@ims.example.ma"><tuple id="lr"><status><gp:geopriv><gp:location-info>
<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>34.0215 -6.8420</gml:pos>
<gs:radius uom="urn:ogc:def:uom:EPSG::9001">400</gs:radius></gs:Circle>
</gp:location-info><gp:usage-rules/><gp:method>Cell</gp:method></gp:geopriv></status>
</tuple></presence>"""

SDP = """v=0
o=caller 53655765 2353687637 IN IP4 [local_ip]
s=Line 19 caller
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000"""


def aml_sms(lat: float, lon: float, radius: int) -> str:
    """An AML SMS positioned now, whose ml= is its real length."""
    top = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    body = (f'A"ML=1;lt=+{lat:.5f};lg={lon:+.5f};rd={radius};top={top};lc=68;pm=G;'
            "si=604001234567890;ei=356938035643809;mcc=604;mnc=01;ml=")  # fmt: skip
    for digits in (2, 3):
        text = f"{body}{len(body) + digits:0{digits}d}"
        if len(text) == len(body) + digits:
            return text
    raise AssertionError("no consistent ml")


@pytest.fixture
def location_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = BY_REFERENCE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/pidf+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/loc/abc"
    server.shutdown()
    server.server_close()


def post_aml(gateway: Gateway, text: str, sender: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{gateway.base_url}/api/v1/location/aml", data=text.encode(), method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain",
                 "X-AML-Sender": sender},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_every_location_source_of_a_real_call_is_kept_and_the_best_fix_follows_the_aml(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
    location_server: str,
) -> None:
    gateway = make_gateway("sqlite", start=False)
    gateway.extra_env["LINE19_AML_TOKENS"] = json.dumps({"maroc-telecom": TOKEN})
    gateway.start()
    imported = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "cells", "import", str(FIXTURES / "cells_sample.csv"),
         "--database-url", gateway.database_url], capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    operators(["op-rabat-1"], hold_ms=15000)

    body = (f"--b1\nContent-Type: application/sdp\n\n{SDP}\n\n--b1\n"
            "Content-Type: application/pidf+xml\nContent-ID: <target123@ims.example.ma>\n\n"
            f"{BY_VALUE}\n--b1--")  # fmt: skip
    headers = [
        "Geolocation: <cid:target123@ims.example.ma>",
        f"Geolocation: <{location_server}>",
        "Geolocation-Routing: yes",
        "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=60401FFFF0000001",
        f"P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp={KNOWN_CELL}; "
        "network-provided",
    ]
    peer = caller_with(TRUNKS["maroc-telecom"], "0612340601", 20000, log_dir, "located",
                       headers=headers, body=("multipart/mixed;boundary=b1", body))  # fmt: skip

    def located() -> dict[str, Any] | None:
        calls = gateway.call_from("+212612340601")
        sources = {fix["source"] for fix in calls[0]["locations"]} if calls else set()
        return calls[0] if {"pidf-lo", "cell"} <= sources and len(sources) >= 2 else None

    call = wait_for(located, 30, 0.5, "the INVITE's fixes on the call")
    fixes = call["locations"]
    by_value = [f for f in fixes if f["source"] == "pidf-lo" and f["radius_m"] == 35]
    by_reference = [f for f in fixes if f["details"].get("reference") == location_server]
    cell = [f for f in fixes if f["source"] == "cell"]
    assert by_value and by_value[0]["status"] == "accepted" and by_value[0]["method"] == "GPS"
    assert abs(by_value[0]["latitude"] - 34.02088) < 1e-6
    assert by_reference and by_reference[0]["radius_m"] == 400
    assert cell and cell[0]["status"] == "accepted" and cell[0]["radius_m"] == 850
    assert cell[0]["details"]["cell"] == "27391233"  # the network's cell, not the handset's
    assert call["best_location"]["id"] == by_value[0]["id"]

    status, answer = post_aml(gateway, aml_sms(34.02101, -6.84170, 8), "0612340601")
    assert status == 202 and answer["status"] == "accepted", answer
    assert answer["call_id"] == call["id"] and answer["best_location_id"] == answer["location_id"]

    status, stray = post_aml(gateway, aml_sms(34.0300, -6.8300, 12), "0699999999")
    assert status == 202 and stray["status"] == "unmatched" and stray["call_id"] is None

    status, garbled = post_aml(gateway, 'A"ML=1;lt=+34.0;lg=-6.8;ml=999', "0612340601")
    assert status == 422 and garbled["error"]["details"]["status"] == "rejected"

    assert peer.wait(60) == 0, peer.errors()
    final = gateway.get(f"/api/v1/calls/{call['id']}")
    assert final["best_location"]["source"] == "aml" and final["best_location"]["radius_m"] == 8
    incident = gateway.get(f"/api/v1/incidents/{final['incident_id']}")
    assert incident["best_location"]["id"] == final["best_location"]["id"]
    assert len(incident["locations"]) == len(final["locations"]) >= 5


def test_a_call_located_in_sale_goes_to_the_sale_room_whatever_its_trunk(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway("sqlite")
    operators(["op-rabat-1", "op-sale-1"], hold_ms=2000)
    in_sale = BY_VALUE.replace("34.02088 -6.84165", "34.0531 -6.7985")
    body = (f"--b1\nContent-Type: application/sdp\n\n{SDP}\n\n--b1\n"
            "Content-Type: application/pidf+xml\nContent-ID: <sale@ims.example.ma>\n\n"
            f"{in_sale}\n--b1--")  # fmt: skip
    peer = caller_with(TRUNKS["maroc-telecom"], "0612340602", 6000, log_dir, "in-sale",
                       headers=["Geolocation: <cid:sale@ims.example.ma>"],
                       body=("multipart/mixed;boundary=b1", body))  # fmt: skip
    assert peer.wait(60) == 0, peer.errors()

    def answered() -> dict[str, Any] | None:
        calls = gateway.call_from("+212612340602")
        return calls[0] if calls and calls[0]["status"] == "completed" else None

    call = wait_for(answered, 30, 0.5, "the located call to be answered")
    assert call["room"] == "sale" and call["operator"] == "op-sale-1"  # Maroc Telecom: Rabat
    received = next(e for e in call["timeline"] if e["kind"] == "received")
    assert received["details"]["room_by"] == "location"
