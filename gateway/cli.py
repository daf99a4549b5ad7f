"""`line19`: the command line of the gateway."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from aiohttp import web

from gateway.app import create_app
from gateway.cli_support import config_option, load
from gateway.persistence import db
from gateway.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _settings(config: Path | None, **flags: object) -> Settings:
    return load(config, **flags)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Line 19: call intake gateway for the police emergency number."""


@main.command()
@config_option
@click.option("--http-port", type=int, help="HTTP API port (LINE19_HTTP_PORT).")
@click.option("--agi-port", type=int, help="FastAGI port (LINE19_AGI_PORT).")
@click.option("--database-url", help="SQLAlchemy URL (LINE19_DATABASE_URL).")
@click.option("--log-level", help="DEBUG, INFO, WARNING … (LINE19_LOG_LEVEL).")
def serve(
    config: Path | None,
    http_port: int | None,
    agi_port: int | None,
    database_url: str | None,
    log_level: str | None,
) -> None:
    """Run the gateway: FastAGI intake, AMI events, queue_log reconciliation, HTTP API."""
    settings = _settings(
        config,
        http_port=http_port,
        agi_port=agi_port,
        database_url=database_url,
        log_level=log_level,
    )
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger(__name__).info(
        "starting: http %s:%s, agi %s:%s, database %s",
        settings.http_host,
        settings.http_port,
        settings.agi_host,
        settings.agi_port,
        settings.redacted_database_url(),
    )
    web.run_app(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        print=None,
        handle_signals=True,
        shutdown_timeout=5,
    )


@main.group(name="db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command()
@config_option
@click.option("--database-url", help="SQLAlchemy URL (LINE19_DATABASE_URL).")
@click.argument("revision", default="head")
def upgrade(config: Path | None, database_url: str | None, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    settings = _settings(config, database_url=database_url)
    db.upgrade(settings.database_url, revision)
    click.echo(f"database {settings.redacted_database_url()} at {revision}")


@db_group.command()
@config_option
@click.option("--database-url", help="SQLAlchemy URL (LINE19_DATABASE_URL).")
@click.argument("revision")
def downgrade(config: Path | None, database_url: str | None, revision: str) -> None:
    """Downgrade the schema to REVISION ("base" removes every table)."""
    settings = _settings(config, database_url=database_url)
    db.downgrade(settings.database_url, revision)
    click.echo(f"database {settings.redacted_database_url()} at {revision}")


def _register_optional_groups() -> None:
    from gateway.asterisk.sandbox_cli import asterisk
    from gateway.auth.cli import users
    from gateway.cameras_cli import cameras
    from gateway.location.import_cli import cells, places
    from gateway.location.parse_cli import location
    from gateway.units_cli import units

    for group in (asterisk, cells, places, location, users, units, cameras):
        main.add_command(group)


_register_optional_groups()

if __name__ == "__main__":
    main()
