"""The gazetteer on both databases: import, replacement by city, geocoding, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gateway.location.gazetteer import DEFAULT_RADIUS_M, geocode, import_places
from gateway.location.import_cli import places as places_group
from gateway.persistence.db import Database
from gateway.persistence.models import PlaceRow

SAMPLE = Path(__file__).parents[1] / "fixtures" / "location" / "places_rabat.csv"
PLACES = 60  # 34 valid rows and 26 alternative names


async def _count(database: Database, city: str | None = None) -> int:
    query = select(func.count()).select_from(PlaceRow)
    if city is not None:
        query = query.where(PlaceRow.city == city)
    async with database.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


@pytest.fixture
async def gazetteer(database: Database) -> Database:
    await import_places(database, SAMPLE)
    return database


async def test_the_sample_imports_with_alt_names_and_counts_bad_rows(database: Database) -> None:
    report = await import_places(database, SAMPLE)
    assert (report.read, report.imported, report.places) == (38, 34, PLACES)
    assert dict(report.skipped) == {"kind": 1, "latitude": 1, "city": 1, "name": 1}
    assert [(e.line, e.reason) for e in report.examples] == [
        (36, "kind"), (37, "latitude"), (38, "city"), (39, "name"),
    ]  # fmt: skip
    assert report.cities == ["Rabat", "Salé", "Témara"]
    assert report.replaced == 0
    assert await _count(database) == PLACES


async def test_a_reimport_replaces_the_files_cities_without_duplicates(
    gazetteer: Database, tmp_path: Path
) -> None:
    again = await import_places(gazetteer, SAMPLE)
    assert again.replaced == PLACES
    assert await _count(gazetteer) == PLACES
    smaller = tmp_path / "sale.csv"
    smaller.write_text(
        "kind,name,city,lat,lon,radius_m\nlandmark,Bab Lamrissa,SALE,34.0368,-6.8158,60\n",
        encoding="utf-8",
    )
    report = await import_places(gazetteer, smaller)
    assert report.replaced == 13  # Salé's 7 rows and 6 alternative names; "SALE" is Salé
    assert await _count(gazetteer, "Salé") == 0
    assert await _count(gazetteer, "SALE") == 1
    assert await _count(gazetteer, "Rabat") == 41  # other cities untouched


async def test_a_file_without_a_valid_row_changes_nothing(
    gazetteer: Database, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,name,city,lat,lon,radius_m\ntower,X,Rabat,34,-6.8,10\n", encoding="utf-8")
    report = await import_places(gazetteer, bad)
    assert (report.imported, report.places, report.replaced) == (0, 0, 0)
    assert await _count(gazetteer) == PLACES


async def test_a_header_without_a_required_column_is_refused(
    database: Database, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("kind,name,city,lat,lon\nstreet,Rue X,Rabat,34,-6.8\n", encoding="utf-8")
    with pytest.raises(ValueError, match="radius_m"):
        await import_places(database, odd)


@pytest.mark.parametrize("query", ["av mohammed 5", "avenue mohammed v", "Av. Mohammed V"])
async def test_geocode_finds_a_street_under_its_spelling_variants(
    gazetteer: Database, query: str
) -> None:
    matches = await geocode(gazetteer, query)
    assert [(m.name, m.city, m.score) for m in matches[:2]] == [
        ("Avenue Mohammed V", "Rabat", 1.0), ("Avenue Mohammed V", "Salé", 1.0),
    ]  # fmt: skip
    assert (matches[0].latitude, matches[0].longitude, matches[0].radius_m) == (
        34.0195, -6.8365, 900.0
    )  # fmt: skip
    assert matches[0].house_number is None


async def test_geocode_finds_the_arabic_name_at_the_same_point(gazetteer: Database) -> None:
    [match] = await geocode(gazetteer, "شارع محمد الخامس", city="Rabat")
    assert (match.name, match.kind, match.score) == ("شارع محمد الخامس", "street", 1.0)
    assert (match.latitude, match.longitude) == (34.0195, -6.8365)
    [gate] = await geocode(gazetteer, "باب الاحد")  # written without the hamza
    assert (gate.name, gate.kind) == ("باب الأحد", "landmark")


async def test_the_city_filter_ignores_case_and_accents(gazetteer: Database) -> None:
    matches = await geocode(gazetteer, "avenue mohammed v", city="sale")
    assert [(m.name, m.city) for m in matches] == [("Avenue Mohammed V", "Salé")]
    assert await geocode(gazetteer, "bab lamrissa", city="Rabat") == []


async def test_a_house_number_is_kept_but_does_not_move_the_point(gazetteer: Database) -> None:
    [match] = await geocode(gazetteer, "12 avenue Mohammed V", city="Rabat")
    assert match.house_number == "12"
    assert (match.latitude, match.longitude, match.score) == (34.0195, -6.8365, 1.0)


async def test_at_equal_score_landmarks_and_streets_come_before_neighbourhoods(
    database: Database, tmp_path: Path
) -> None:
    ties = tmp_path / "kenitra.csv"
    ties.write_text(
        "kind,name,city,lat,lon,radius_m\n"
        "neighbourhood,Hay Orangers,Kénitra,34.2600,-6.5800,900\n"
        "landmark,Lycée Orangers,Kénitra,34.2610,-6.5810,80\n"
        "street,Rue Orangers,Kénitra,34.2620,-6.5820,300\n",
        encoding="utf-8",
    )
    await import_places(database, ties)
    matches = await geocode(database, "orangers")
    assert len({m.score for m in matches}) == 1
    assert [m.kind for m in matches] == ["street", "landmark", "neighbourhood"]


async def test_the_exact_key_comes_first_and_a_place_comes_once(gazetteer: Database) -> None:
    hassan = await geocode(gazetteer, "hassan", city="Rabat", limit=10)
    names = [m.name for m in hassan]
    assert names[0] == "Hassan"  # the neighbourhood's exact key beats the landmark
    assert names.index("Tour Hassan") < names.index("Avenue Hassan II")  # more of it covered
    assert "Hassan Tower" not in names  # the tower's other name: the same place, once


async def test_a_prefix_finds_a_place_below_whole_words(gazetteer: Database) -> None:
    matches = await geocode(gazetteer, "oudaya")
    assert matches[0].name == "Kasbah des Oudayas"
    assert 0.3 < matches[0].score <= 0.5
    riad = await geocode(gazetteer, "quartier riad")
    assert (riad[0].name, riad[0].score) == ("Hay Riad", 1.0)


async def test_an_empty_radius_takes_the_kinds_default(gazetteer: Database) -> None:
    [street] = await geocode(gazetteer, "avenue ibn sina")
    assert street.radius_m == DEFAULT_RADIUS_M["street"]


def test_the_cli_imports_then_searches_as_json(database_url: str) -> None:
    runner = CliRunner()
    imported = runner.invoke(places_group, ["import", str(SAMPLE), "--database-url", database_url])
    assert imported.exit_code == 0, imported.output
    assert "read 38, imported 34, skipped 4" in imported.output
    assert f"places written {PLACES} for Rabat, Salé, Témara, replacing 0" in imported.output
    found = runner.invoke(
        places_group, ["search", "av mohammed 5", "--city", "Salé", "--database-url", database_url]
    )
    assert found.exit_code == 0, found.output
    [match] = json.loads(found.output)
    assert (match["name"], match["city"], match["kind"]) == ("Avenue Mohammed V", "Salé", "street")
    assert set(match) == {"place_id", "kind", "name", "city", "latitude", "longitude",
                          "radius_m", "score", "house_number"}  # fmt: skip


def test_the_cli_exits_2_on_a_missing_file_or_no_valid_row(
    database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    missing = runner.invoke(places_group, ["import", str(tmp_path / "x.csv"), "--database-url",
                                           database_url])  # fmt: skip
    assert missing.exit_code == 2
    assert "no such file" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,name,city,lat,lon,radius_m\nstreet,,Rabat,34,-6.8,10\n", encoding="utf-8")
    empty = runner.invoke(places_group, ["import", str(bad), "--database-url", database_url])
    assert empty.exit_code == 2
    assert f"no valid row in {bad}" in empty.output
