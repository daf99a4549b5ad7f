"""The camera registry: imported from CSV, offered on the incident nearest its location."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from dispatch_core.location import FixSource
from gateway.app import create_app
from gateway.cli import main
from gateway.keys import DATABASE_KEY, INTAKE_KEY, LOCATIONS_KEY
from gateway.location.parsed import ParsedFix
from gateway.persistence import camera_store
from gateway.services.intake import IntakeRequest
from gateway.services.location import LocationInput
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
CAMERAS = Path(__file__).parents[1] / "fixtures" / "cameras_sample.csv"


def test_cameras_are_imported_from_csv_bad_rows_skipped_and_a_reimport_updates(
    database_url: str,
) -> None:
    imported = CliRunner().invoke(
        main, ["cameras", "import", str(CAMERAS), "--database-url", database_url]
    )
    assert imported.exit_code == 0, imported.output
    assert "4 cameras imported, 2 rows skipped" in imported.output
    again = CliRunner().invoke(main, ["cameras", "import", str(CAMERAS),
                                      "--database-url", database_url])  # fmt: skip
    assert again.exit_code == 0 and "4 cameras imported" in again.output


async def test_the_incident_offers_the_cameras_nearest_its_best_location(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    client = await aiohttp_client(create_app(Settings(database_url=database_url, agi_port=0,
                                                      ami_enabled=False)))  # fmt: skip
    rows, _ = camera_store.read_csv(CAMERAS)
    await client.app[DATABASE_KEY].write(lambda conn: camera_store.upsert(conn, rows))
    call = await client.app[INTAKE_KEY].take_call(
        IntakeRequest(external_id="c.1", trunk="inwi", caller_raw="0612347777")
    )
    now = datetime.now(UTC)
    fix = ParsedFix("aml", latitude=34.0200, longitude=-6.8410, radius_m=10.0)
    await client.app[LOCATIONS_KEY].record(
        LocationInput(FixSource.AML, "test", now, parsed=fix, call_id=call.call_id)
    )
    incident = await (await client.get(f"/api/v1/incidents/{call.incident_id}")).json()
    names = [camera["name"] for camera in incident["cameras"]]
    assert names[0] == "Bab El Had (towards the medina)" and "Salé medina" not in names
    assert incident["cameras"][0]["distance_m"] < 100


def test_a_file_without_a_valid_camera_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "none.csv"
    empty.write_text("name,lat,lon,stream_url\nx,1000,0,rtsp://a/b\n")
    result = CliRunner().invoke(main, ["cameras", "import", str(empty), "--database-url",
                                       f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"])  # fmt: skip
    assert result.exit_code == 2
