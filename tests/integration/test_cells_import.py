"""The cell table on both databases: OpenCelliD import, re-import, bad rows, lookup, the CLI."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from gateway.location.cells import DEFAULT_RANGE_M, find_cell, import_cells, lookup_cell
from gateway.location.import_cli import cells as cells_group
from gateway.persistence.db import Database, open_database
from gateway.persistence.models import CellRow

SAMPLE = Path(__file__).parents[1] / "fixtures" / "location" / "cells_sample.csv"
VALID_ROWS = 26
BAD_REASONS = {"cdma": 1, "mcc": 1, "latitude": 2, "null_island": 1, "range": 1, "cell": 1,
               "columns": 1, "radio": 1}  # fmt: skip


async def _count(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(CellRow))).scalar_one())


async def test_the_sample_imports_its_valid_rows_and_counts_bad_ones_by_reason(
    database: Database,
) -> None:
    report = await import_cells(database, SAMPLE)
    assert (report.read, report.imported) == (VALID_ROWS + 9, VALID_ROWS)
    assert dict(report.skipped) == BAD_REASONS
    assert [(e.line, e.reason) for e in report.examples] == [
        (28, "cdma"), (29, "mcc"), (30, "latitude"), (31, "null_island"), (32, "range"),
        (33, "cell"), (34, "columns"), (35, "radio"), (36, "latitude"),
    ]  # fmt: skip
    assert report.seconds > 0
    assert await _count(database) == VALID_ROWS


async def test_a_reimport_updates_the_rows_and_never_duplicates_them(
    database: Database, tmp_path: Path
) -> None:
    await import_cells(database, SAMPLE)
    await import_cells(database, SAMPLE)
    assert await _count(database) == VALID_ROWS
    moved = tmp_path / "moved.csv"
    moved.write_text(
        SAMPLE.read_text(encoding="utf-8").replace(
            "LTE,604,1,2101,27391233,312,-6.8345,34.0209,850,",
            "LTE,604,1,2101,27391233,312,-6.8400,34.0300,400,",
        ),
        encoding="utf-8",
    )
    report = await import_cells(database, moved, batch_size=4)
    assert report.imported == VALID_ROWS
    assert await _count(database) == VALID_ROWS
    cell = await find_cell(database, "LTE", 604, 1, 2101, 27391233)
    assert cell is not None
    assert (cell.latitude, cell.longitude, cell.range_m) == (34.03, -6.84, 400.0)


async def test_lookup_finds_a_cell_by_its_key_inside_a_write_unit(database: Database) -> None:
    await import_cells(database, SAMPLE)
    cell = await database.write(lambda conn: lookup_cell(conn, "lte", 604, 1, 2101, 27391233))
    assert cell is not None
    assert (cell.radio, cell.latitude, cell.longitude, cell.range_m) == (
        "LTE", 34.0209, -6.8345, 850.0
    )  # fmt: skip
    assert (cell.samples, cell.updated) == (143, 1704067200)
    nr = await find_cell(database, "NR", 604, 0, 6101, 4499830785)  # a 36-bit NR cell id
    assert nr is not None and nr.range_m == 250.0
    assert await find_cell(database, "LTE", 604, 2, 2101, 27391233) is None  # another network


async def test_an_empty_or_zero_range_is_stored_as_the_default(database: Database) -> None:
    await import_cells(database, SAMPLE)
    empty = await find_cell(database, "LTE", 604, 1, 2102, 27402497)
    zero = await find_cell(database, "GSM", 604, 2, 2150, 30112)
    assert empty is not None and zero is not None
    assert empty.range_m == zero.range_m == DEFAULT_RANGE_M == 1000.0


async def test_a_gzipped_file_is_read_and_progress_covers_its_bytes(
    database: Database, tmp_path: Path
) -> None:
    packed = tmp_path / "cells.csv.gz"
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    steps: list[int] = []
    report = await import_cells(database, packed, progress=steps.append, batch_size=5)
    assert report.imported == VALID_ROWS
    assert dict(report.skipped) == BAD_REASONS
    assert sum(steps) == packed.stat().st_size
    assert len(steps) > 1 and all(step >= 0 for step in steps)


async def test_a_file_without_the_header_line_uses_the_opencellid_column_order(
    database: Database, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.csv"
    bare.write_text(SAMPLE.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    report = await import_cells(database, bare)
    assert report.imported == VALID_ROWS
    assert report.examples[0].line == 27  # the CDMA row, one line earlier without the header
    assert await find_cell(database, "UMTS", 604, 1, 1021, 4285521) is not None


async def test_a_header_without_a_required_column_is_refused(
    database: Database, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("radio,mcc,net,area,cell,lon,lat\nGSM,604,1,1,1,-6.8,34.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="range"):
        await import_cells(database, odd)
    assert await _count(database) == 0


def _cells_in(url: str) -> int:
    async def count() -> int:
        database = open_database(url)
        try:
            return await _count(database)
        finally:
            await database.close()

    return asyncio.run(count())


def _cli_import(path: Path, url: str) -> Result:
    return CliRunner().invoke(cells_group, ["import", str(path), "--database-url", url])


def test_the_cli_migrates_imports_and_prints_the_report(database_url: str) -> None:
    result = _cli_import(SAMPLE, database_url)
    assert result.exit_code == 0, result.output
    assert "Importing cells_sample.csv" in result.output
    assert "read 35, imported 26, skipped 9 (cdma 1, cell 1, columns 1," in result.output
    assert "line 29: mcc: 1604 not in 200..799" in result.output
    assert _cells_in(database_url) == VALID_ROWS


def test_the_cli_exits_2_when_the_file_is_missing(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    result = _cli_import(missing, database_url)
    assert result.exit_code == 2
    assert f"no such file: {missing}" in result.output


def test_the_cli_exits_2_when_no_row_is_valid(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("CDMA,604,1,12,3401,0,-6.83,34.02,1000,3,1,0,0,0\nGSM,604\n", encoding="utf-8")
    result = _cli_import(bad, database_url)
    assert result.exit_code == 2
    assert "skipped 2 (cdma 1, columns 1)" in result.output
    assert f"no valid row in {bad}" in result.output
