"""The Twilio settings: their environment names, their checks, secrets kept out of sight."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from ivr.catalog import Language


def test_the_twilio_settings_come_from_their_line19_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINE19_PUBLIC_BASE_URL", "https://line19.example.org/gw/")
    monkeypatch.setenv("LINE19_TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("LINE19_STATE_SECRET", "another secret")
    monkeypatch.setenv("LINE19_TWILIO_SIP_URI", "sip:19@pbx.example.org")
    monkeypatch.setenv("LINE19_TWILIO_DEFAULT_LANGUAGE", "fr")
    settings = Settings()
    assert settings.public_base_url == "https://line19.example.org/gw"
    assert settings.twilio_sip_uri == "sip:19@pbx.example.org"
    assert settings.twilio_default_language is Language.FR
    assert settings.twilio_auth_token is not None and settings.state_secret is not None
    assert "0123456789abcdef" not in repr(settings) and "another secret" not in repr(settings)


def test_by_default_the_twilio_channel_is_off_with_twilios_step_overhead() -> None:
    settings = Settings()
    assert settings.twilio_auth_token is None and settings.public_base_url is None
    assert settings.twilio_ivr_bound_s == 10.0 and settings.twilio_step_overhead_s == 0.5


@pytest.mark.parametrize(
    "url",
    [
        "line19.example.org",
        "ftp://line19.example.org",
        "https://",
        "https://line19.example.org/?x=1",
        "https://line19.example.org/#top",
        "https://line19.example.org:99999",
    ],
)
def test_a_public_base_url_twilio_could_not_have_signed_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="public_base_url"):
        Settings(public_base_url=url)


@pytest.mark.parametrize(
    "uri", ["19@pbx.example.org", "sip:pbx.example.org", "sip:19@pbx?X-A=1", "sip:19@pbx x"]
)
def test_a_sip_uri_that_cannot_take_the_headers_is_refused(uri: str) -> None:
    with pytest.raises(ValidationError, match="twilio_sip_uri"):
        Settings(twilio_sip_uri=uri)


def test_an_unknown_trunk_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="twilio_default_language"):
        Settings(twilio_default_language="de")
