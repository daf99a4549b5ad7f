"""`line19 cells …` and `line19 places …`: import the cell table and the gazetteer, search it.

Both imports migrate the database first. A missing file, an unreadable one or one without a
single valid row ends with exit status 2 and a one-line message; bad rows are only reported.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.cli_support import UsageFailed, config_option, database_option, load
from gateway.location.cells import ImportReport, import_cells
from gateway.location.gazetteer import geocode, import_places
from gateway.persistence import db
from gateway.persistence.db import Database, open_database
from gateway.settings import Settings

T = TypeVar("T")
R = TypeVar("R", bound=ImportReport)

file_argument = click.argument("file", type=click.Path(path_type=Path))


class ImportFailed(UsageFailed):
    """Nothing could be imported: exit status 2, as for a usage error."""


def _settings(config: Path | None, database_url: str | None) -> Settings:
    return load(config, database_url=database_url)


def _readable(path: Path) -> None:
    if not path.is_file():
        raise ImportFailed(f"no such file: {path}")


def _run(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        database = open_database(settings.database_url)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(main())


def _import(settings: Settings, path: Path, work: Callable[[Database], Awaitable[R]]) -> R:
    """Migrate and run the import; ImportFailed when the file cannot be read."""
    db.upgrade(settings.database_url)
    try:
        return _run(settings, work)
    except (OSError, EOFError, ValueError) as exc:  # unreadable, truncated gzip, bad header
        raise ImportFailed(f"cannot import {path}: {exc}") from exc


def _echo_report(report: ImportReport) -> None:
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(report.skipped.items()))
    click.echo(
        f"{report.path}: read {report.read}, imported {report.imported}, "
        f"skipped {report.skipped_total}{f' ({reasons})' if reasons else ''} "
        f"in {report.seconds:.2f} s"
    )
    for example in report.examples:
        click.echo(f"  line {example.line}: {example.reason}: {example.detail}")
    if report.imported == 0:
        raise ImportFailed(f"no valid row in {report.path}")


@click.group("cells")
def cells() -> None:
    """The cell table (OpenCelliD CSV): where a cell id puts a caller."""


@cells.command("import")
@file_argument
@config_option
@database_option
def import_cells_command(file: Path, config: Path | None, database_url: str | None) -> None:
    """Import (or update) cells from an OpenCelliD CSV file, plain or gzipped."""
    settings = _settings(config, database_url)
    _readable(file)
    with click.progressbar(length=file.stat().st_size, label=f"Importing {file.name}") as bar:
        report = _import(
            settings, file, lambda database: import_cells(database, file, progress=bar.update)
        )
    _echo_report(report)


@click.group("places")
def places() -> None:
    """The local gazetteer: streets, landmarks and neighbourhoods, searched offline."""


@places.command("import")
@file_argument
@config_option
@database_option
def import_places_command(file: Path, config: Path | None, database_url: str | None) -> None:
    """Import a gazetteer CSV; the places of the cities it names are replaced."""
    settings = _settings(config, database_url)
    _readable(file)
    report = _import(settings, file, lambda database: import_places(database, file))
    _echo_report(report)
    click.echo(f"places written {report.places} for {', '.join(report.cities)}, "
               f"replacing {report.replaced}")  # fmt: skip


@places.command("search")
@click.argument("text")
@click.option("--city", help="Only places of this city (accents and case ignored).")
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@config_option
@database_option
def search_command(
    text: str, city: str | None, limit: int, config: Path | None, database_url: str | None
) -> None:
    """Geocode TEXT on the gazetteer; prints the matches as JSON, best first."""
    settings = _settings(config, database_url)
    try:
        matches = _run(settings, lambda db_: geocode(db_, text, city=city, limit=limit))
    except SQLAlchemyError as exc:
        hint = "is the database migrated? line19 db upgrade"
        raise click.ClickException(f"{str(exc).splitlines()[0]} ({hint})") from exc
    click.echo(json.dumps([dataclasses.asdict(m) for m in matches], ensure_ascii=False, indent=2))
