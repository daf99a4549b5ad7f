"""What the `line19` command groups share: the settings options and their loading."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from gateway.settings import Settings, load_settings

config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML config file (also LINE19_CONFIG).",
)
database_option = click.option("--database-url", help="SQLAlchemy URL (LINE19_DATABASE_URL).")


class UsageFailed(click.ClickException):
    """Refused before anything was written: exit status 2, as for a usage error."""

    exit_code = 2


def load(config: Path | None, **flags: object) -> Settings:
    """The settings (defaults < file < environment < flags), or a clear exit on bad ones."""
    try:
        return load_settings(config, **flags)
    except (ValidationError, FileNotFoundError) as exc:
        raise click.ClickException(f"bad settings: {exc}") from exc
