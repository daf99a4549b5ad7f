"""Typed, layered settings: defaults < config file (TOML) < LINE19_ environment < CLI flags."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from dispatch_core.rooms import Area
from ivr.catalog import Language

CONFIG_ENV = "LINE19_CONFIG"


class RoomArea(BaseModel):
    """A circle (`latitude`, `longitude`, `radius_km`) or a polygon (`polygon`: [lat, lon]
    vertices; the centre is then their mean)."""

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0)
    polygon: list[tuple[float, float]] | None = None

    def area(self) -> Area:
        if self.polygon:
            return Area.of_polygon(tuple(self.polygon))
        if self.latitude is None or self.longitude is None or self.radius_km is None:
            raise ValueError("a room's area is a polygon, or a latitude, longitude and radius")
        return Area(self.latitude, self.longitude, self.radius_km * 1000)


class Room(BaseModel):
    """A command room; its `id` is also the name of its app_queue queue. A call whose best
    location is in its `area` goes there; a call waiting with no operator ready overflows
    to `backup` (docs/overflow.md)."""

    id: str = Field(pattern="^[a-z0-9_]{1,32}$")
    name: str
    backup: str | None = None
    area: RoomArea | None = None


def _room(room_id: str, name: str, backup: str, lat: float, lon: float, km: float) -> Room:
    area = RoomArea(latitude=lat, longitude=lon, radius_km=km)
    return Room(id=room_id, name=name, backup=backup, area=area)


# Centres of the cities (approximate, to 0.01°) and radii holding their urban areas.
DEFAULT_ROOMS = [
    _room("rabat", "Rabat", "sale", 34.01, -6.84, 8),
    _room("sale", "Salé", "rabat", 34.04, -6.79, 8),
    _room("temara", "Témara", "rabat", 33.92, -6.91, 8),
    _room("kenitra", "Kénitra", "sale", 34.26, -6.58, 15),
    _room("marrakech", "Marrakech", "rabat", 31.63, -7.99, 25),
    _room("fes", "Fès", "rabat", 34.03, -5.00, 20),
    _room("tanger", "Tanger", "rabat", 35.76, -5.83, 20),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINE19_", extra="forbid")

    database_url: str = "sqlite+aiosqlite:///var/line19.db"
    migrate_on_start: bool = True

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8019, ge=0, le=65535)

    agi_host: str = "127.0.0.1"
    agi_port: int = Field(default=4573, ge=0, le=65535)
    # The whole intake (environment read, caller lookup, database write, variables set) must
    # end within this budget; the dialplan's own bound (TIMEOUT(absolute)) is longer.
    intake_budget_s: float = Field(default=2.0, gt=0, le=30)

    ami_enabled: bool = True
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_user: str = "line19"
    ami_secret: SecretStr | None = None
    ami_reconnect_max_s: float = Field(default=15.0, gt=0)

    # Asterisk's queue_log, read to record calls that went through the fail-open path.
    queue_log_path: Path | None = None
    queue_log_poll_s: float = Field(default=0.5, gt=0)

    # The IVR (issue 3): run after a completed intake, bounded by the dialplan too.
    ivr_enabled: bool = True
    ivr_default_language: str = Field(default="ar", pattern="^(ar|fr|zgh|en)$")
    ivr_bound_s: float = Field(default=10.0, gt=0, le=60)
    ivr_budget_s: float = Field(default=13.0, gt=0, le=120)
    ivr_durations_path: Path | None = None

    default_region: str = "MA"
    repeat_window_minutes: int = Field(default=10, ge=0)
    rooms: list[Room] = Field(default_factory=lambda: list(DEFAULT_ROOMS))
    fallback_room: str = "rabat"

    log_level: str = "INFO"

    # Overflow (docs/overflow.md): a call waiting this long in a room with no operator ready
    # moves to the room's backup queue, before NENA's 15 s answer target is lost.
    overflow_after_s: float = Field(default=10.0, gt=0, le=120)

    # Operator sign-in (docs/auth.md): a session lasts one shift.
    session_ttl_hours: float = Field(default=12.0, gt=0, le=168)

    # The caller's location (docs/location.md). A fix outside this circle is rejected (kept).
    # Default: all of Morocco (centre near Marrakech, 1400 km), Western Sahara included.
    service_area_latitude: float = Field(default=28.5, ge=-90, le=90)
    service_area_longitude: float = Field(default=-9.0, ge=-180, le=180)
    service_area_radius_km: float = Field(default=1400.0, gt=0)
    # A PIDF-LO by reference is fetched off the call's path, at most this long.
    location_fetch_timeout_s: float = Field(default=2.0, gt=0, le=10)
    # An AML fix matches the newest call from its number received this long before it.
    aml_match_window_s: float = Field(default=600.0, gt=0)
    # Carriers allowed to POST /api/v1/location/aml: {"maroc-telecom": "<token>", …},
    # each sends `Authorization: Bearer <token>`. Empty: the endpoint refuses everything.
    aml_tokens: dict[str, SecretStr] = Field(default_factory=dict)

    # Twilio (docs/twilio.md). Without an auth token and a public base URL, every /twilio/
    # request is refused with 403: the routes never run unauthenticated.
    # The scheme://host[:port][/prefix] Twilio requests: signatures are checked against this
    # URL + the path and query the gateway receives (not the URL behind the proxy).
    public_base_url: str | None = None
    twilio_auth_token: SecretStr | None = None
    # Signs the IVR state carried in Twilio's action URLs; derived from the auth token if unset.
    state_secret: SecretStr | None = None
    # The Asterisk entry for calls from Twilio (sip:19@pbx.example.org); unset: <Enqueue>.
    twilio_sip_uri: str | None = None
    twilio_default_room: str | None = None  # unset: fallback_room
    twilio_default_language: Language = Language.AR
    twilio_ivr_bound_s: float = Field(default=10.0, gt=0, le=60)
    # One webhook round trip per IVR step (docs/ivr.md); FastAGI's is 0.1 s.
    twilio_step_overhead_s: float = Field(default=0.5, ge=0, le=5)
    # The generated prompts (python -m ivr.prompt_audio DIR), served to Twilio over HTTP.
    prompts_dir: Path = Path("var/prompts")

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value)
        if url.scheme not in {"http", "https"} or not url.hostname or url.port == 0:
            raise ValueError("public_base_url must be an http(s) URL with a host")
        if url.query or url.fragment or value.endswith("?") or value.endswith("#"):
            raise ValueError("public_base_url takes no query string and no fragment")
        return value.rstrip("/")

    @field_validator("twilio_sip_uri")
    @classmethod
    def _sip_uri(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"sips?:[^\s?<>&\"]+@[^\s?<>&\"]+", value):
            raise ValueError("twilio_sip_uri must be sip:user@host, without ?headers")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        drivername = make_url(value).drivername
        if drivername not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ValueError("database_url must use sqlite+aiosqlite or postgresql+asyncpg")
        return value

    @property
    def room_ids(self) -> frozenset[str]:
        return frozenset(room.id for room in self.rooms)

    def room_areas(self) -> dict[str, Area]:
        return {room.id: room.area.area() for room in self.rooms if room.area is not None}

    def redacted_database_url(self) -> str:
        return make_url(self.database_url).render_as_string(hide_password=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the layers; `overrides` are the CLI flags (None means not given)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = Path(os.environ[CONFIG_ENV])
    if config_file is None:
        return Settings(**given)
    if not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")
    config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})
    layered: type[Settings] = type("Settings", (Settings,), {"model_config": config})
    return layered(**given)
