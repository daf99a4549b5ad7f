"""`line19 cameras import FILE`: the camera registry (CSV `name,lat,lon,stream_url`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from gateway.cli_support import UsageFailed, config_option, database_option, load
from gateway.persistence import camera_store, db
from gateway.persistence.db import open_database


@click.group("cameras")
def cameras() -> None:
    """Surveillance cameras offered on an incident (the nearest to its location)."""


@cameras.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@config_option
@database_option
def import_cameras(file: Path, config: Path | None, database_url: str | None) -> None:
    """Import FILE; a camera already known by name is updated."""
    settings = load(config, database_url=database_url)
    if not file.is_file():
        raise UsageFailed(f"no such file: {file}")
    rows, bad = camera_store.read_csv(file)
    for problem in bad:
        click.echo(f"skipped {problem}", err=True)
    if not rows:
        raise UsageFailed(f"no valid camera in {file}")
    db.upgrade(settings.database_url)

    async def run() -> int:
        database = open_database(settings.database_url)
        try:
            return await database.write(lambda conn: camera_store.upsert(conn, rows))
        finally:
            await database.close()

    click.echo(f"{asyncio.run(run())} cameras imported, {len(bad)} rows skipped")
