"""The cell table: OpenCelliD CSV import (streamed, validated, upserted) and the cell lookup.

The file is OpenCelliD's: `radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,
created,updated,averageSignal`, with or without that header line (with it, the columns are
found by name), plain or gzipped (`.csv.gz`, recognised by its magic bytes). It is read as a
stream, one batch at a time, off the event loop; the real files hold millions of rows.

Each row is checked; a bad row is counted under its reason (the first `MAX_EXAMPLES` are kept
with their line numbers) and never stops the import:

- `radio` is GSM, UMTS, LTE or NR; CDMA rows are skipped under the reason `cdma` (a CDMA
  "cell" is a different key, and no Moroccan network runs CDMA);
- `mcc` is 200-799, `net` 0-999, `area` and `cell` are non-negative integers;
- `lat`/`lon` are finite, in range and not (0, 0);
- `range` (metres) is finite and >= 0; a range of 0 or an empty one means "unknown" and is
  stored as `DEFAULT_RANGE_M` (1000 m: a typical urban macro cell, wide enough to be honest);
- `samples` and `updated`, when present, are non-negative integers.

A cell is keyed by (radio, mcc, net, area, cell): a re-import updates the row, never adds one;
within one file, the last row of a cell wins.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import gzip
import io
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from gateway.persistence.db import Database
from gateway.persistence.models import CellRow

cells = cast(Table, CellRow.__table__)

COLUMNS = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
           "changeable", "created", "updated", "averageSignal")  # fmt: skip
REQUIRED = ("radio", "mcc", "net", "area", "cell", "lon", "lat", "range")
RADIOS = frozenset({"GSM", "UMTS", "LTE", "NR"})
DEFAULT_RANGE_M = 1000.0
MAX_EXAMPLES = 20
INT32_MAX = 2**31 - 1  # area and samples are INTEGER columns
INT64_MAX = 2**63 - 1


class BadRow(ValueError):
    """A row that cannot be imported; `reason` is the short name it is counted under."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str
    detail: str


@dataclass
class ImportReport:
    """What an import did: data rows read, valid rows imported (a cell the file repeats counts
    each time), rows skipped by reason with the first examples, and the time it took."""

    path: str
    read: int = 0
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0

    def reject(self, line: int, problem: BadRow) -> None:
        self.skipped[problem.reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(RowProblem(line, problem.reason, problem.detail))

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "read": self.read, "imported": self.imported,
            "skipped": dict(sorted(self.skipped.items())),
            "examples": [vars(example) for example in self.examples],
            "seconds": round(self.seconds, 3),
        }  # fmt: skip


@dataclass(frozen=True)
class CellRecord:
    radio: str
    mcc: int
    net: int
    area: int
    cell: int
    latitude: float
    longitude: float
    range_m: float
    samples: int | None
    updated: int | None

    @property
    def key(self) -> tuple[str, int, int, int, int]:
        return (self.radio, self.mcc, self.net, self.area, self.cell)


def parse_int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BadRow(name, f"not an integer: {text!r}") from None
    if not low <= value <= high:
        raise BadRow(name, f"{value} not in {low}..{high}")
    return value


def parse_float(text: str, name: str, low: float, high: float) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise BadRow(name, f"not a number: {text!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise BadRow(name, f"{text.strip()} not in {low:g}..{high:g}")
    return value


def parse_position(lat: str, lon: str) -> tuple[float, float]:
    latitude = parse_float(lat, "latitude", -90.0, 90.0)
    longitude = parse_float(lon, "longitude", -180.0, 180.0)
    if latitude == 0.0 and longitude == 0.0:
        raise BadRow("null_island", "latitude and longitude are both 0")
    return latitude, longitude


def _optional_int(text: str, name: str, high: int) -> int | None:
    return parse_int(text, name, 0, high) if text.strip() else None


def parse_cell(values: dict[str, str]) -> CellRecord:
    """One row (column name -> text) as a cell, or BadRow."""
    radio = values["radio"].strip().upper()
    if radio == "CDMA":
        raise BadRow("cdma", "CDMA rows are not imported")
    if radio not in RADIOS:
        raise BadRow("radio", f"unknown radio {values['radio']!r}")
    latitude, longitude = parse_position(values["lat"], values["lon"])
    range_text = values["range"].strip()
    range_m = parse_float(range_text, "range", 0.0, math.inf) if range_text else 0.0
    return CellRecord(
        radio=radio,
        mcc=parse_int(values["mcc"], "mcc", 200, 799),
        net=parse_int(values["net"], "net", 0, 999),
        area=parse_int(values["area"], "area", 0, INT32_MAX),
        cell=parse_int(values["cell"], "cell", 0, INT64_MAX),
        latitude=latitude,
        longitude=longitude,
        range_m=range_m or DEFAULT_RANGE_M,
        samples=_optional_int(values.get("samples", ""), "samples", INT32_MAX),
        updated=_optional_int(values.get("updated", ""), "updated", INT64_MAX),
    )


def open_text(path: Path) -> tuple[IO[bytes], IO[str]]:
    """The raw file (whose position is the progress) and its text, gunzipped if need be."""
    raw = path.open("rb")
    try:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        binary: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if gzipped else raw
        return raw, io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
    except BaseException:
        raw.close()
        raise


class CellReader:
    """Reads a cell file in batches of valid records, counting the bad rows in `report`."""

    def __init__(self, path: Path, report: ImportReport) -> None:
        self.report = report
        self._raw, self._text = open_text(path)
        self._rows = csv.reader(self._text)
        self._columns: tuple[str, ...] | None = None
        self._width = len(COLUMNS)
        self._position = 0

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def _header(self, row: list[str]) -> bool:
        """Set the columns from the first row; True when that row is the header line."""
        named = row[0].strip().lower() == "radio"
        self._columns = tuple(name.strip() for name in row) if named else COLUMNS
        missing = [name for name in REQUIRED if name not in self._columns]
        if missing:
            raise ValueError(f"the header lacks the columns {', '.join(missing)}")
        self._width = 1 + max(self._columns.index(name) for name in REQUIRED)
        return named

    def batch(self, size: int) -> tuple[list[dict[str, Any]], int]:
        """Up to `size` distinct valid cells (as column values) and the bytes read since."""
        found: dict[tuple[str, int, int, int, int], dict[str, Any]] = {}
        for row in self._rows:
            if not any(value.strip() for value in row):
                continue
            if self._columns is None and self._header(row):
                continue
            self.report.read += 1
            try:
                if len(row) < self._width:
                    raise BadRow("columns", f"{len(row)} columns, {self._width} needed")
                record = parse_cell(dict(zip(self._columns or COLUMNS, row, strict=False)))
            except BadRow as problem:
                self.report.reject(self._rows.line_num, problem)
                continue
            self.report.imported += 1
            found[record.key] = vars(record)
            if len(found) >= size:
                break
        position = self._raw.tell()
        delta, self._position = position - self._position, position
        return list(found.values()), delta


@functools.cache
def _upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(cells)
    keys = [column.name for column in cells.primary_key.columns]
    updated = {c.name: statement.excluded[c.name] for c in cells.columns if not c.primary_key}
    return statement.on_conflict_do_update(index_elements=keys, set_=updated)


def upsert_cells(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(_upsert(conn.dialect.name), rows)


async def import_cells(
    database: Database, path: Path, *, progress: Callable[[int], None] | None = None,
    batch_size: int = 5000,
) -> ImportReport:  # fmt: skip
    """Stream `path` into the cell table, `batch_size` rows per transaction.

    `progress`, when given, is called after each batch with the number of bytes of the file
    (compressed bytes for a gzipped file) read since its previous call: `bar.update` fits.
    Raises OSError when the file cannot be read, ValueError when its header lacks a column.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    started = time.monotonic()
    report = ImportReport(path=str(path))
    reader = await asyncio.to_thread(CellReader, path, report)
    try:
        while True:
            rows, delta = await asyncio.to_thread(reader.batch, batch_size)
            if rows:
                await database.write(functools.partial(upsert_cells, rows=rows))
            if progress is not None:
                progress(delta)
            if len(rows) < batch_size:
                break
    finally:
        await asyncio.to_thread(reader.close)
    report.seconds = time.monotonic() - started
    return report


_LOOKUP = select(cells).where(*(key == bindparam(key.name) for key in cells.primary_key))


def lookup_cell(
    conn: Connection, radio: str, mcc: int, net: int, area: int, cell: int
) -> CellRecord | None:
    """The cell with this key (radio in any case), or None; for use inside `Database.write`."""
    params = {"radio": radio.strip().upper(), "mcc": mcc, "net": net, "area": area,
              "cell": cell}  # fmt: skip
    row = conn.execute(_LOOKUP, params).mappings().first()
    return None if row is None else CellRecord(**row)


async def find_cell(
    database: Database, radio: str, mcc: int, net: int, area: int, cell: int
) -> CellRecord | None:
    """`lookup_cell` on the read engine, outside any write transaction."""
    async with database.engine.connect() as conn:
        return await conn.run_sync(lookup_cell, radio, mcc, net, area, cell)
