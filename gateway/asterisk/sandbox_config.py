"""What the sandbox installs: its parameters, its secrets and the rendered asterisk_configs/.

Pure apart from reading the templates; `SandboxError` lives here because everything else in
the sandbox modules builds on this one.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "asterisk_configs"
OPERATORS = ("op-rabat-1", "op-rabat-2", "op-rabat-3", "op-sale-1", "op-sale-2", "op-rabat-9")
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
_SAFE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class SandboxError(Exception):
    """The sandbox cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class SandboxParams:
    """What the configs are rendered with. Secrets are apart (see `SandboxSecrets`)."""

    sip_port: int = 5060
    ami_port: int = 5038
    ami_user: str = "line19"
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    rtp_start: int = 20000
    rtp_end: int = 20999
    intake_timeout_s: int = 4
    # The dialplan's bound on the IVR (the gateway's own bound, ivr_bound_s, is shorter).
    ivr_timeout_s: int = 14
    bench: bool = False

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> SandboxParams:
        """Defaults, then LINE19_SIP_PORT / LINE19_AMI_PORT / LINE19_AGI_PORT, then overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in ("sip_port", "ami_port", "agi_port"):
            raw = env.get(f"LINE19_{name.upper()}")
            if raw:
                values[name] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def validate(self) -> None:
        for name in ("sip_port", "ami_port", "agi_port", "rtp_start", "rtp_end"):
            value = getattr(self, name)
            if not 1 <= value <= 65535:
                raise SandboxError(f"{name}={value} is not a port number")
        if self.rtp_start >= self.rtp_end:
            raise SandboxError(f"empty RTP range {self.rtp_start}-{self.rtp_end}")
        if not 1 <= self.intake_timeout_s <= 60:
            raise SandboxError(f"intake_timeout_s={self.intake_timeout_s} must be 1..60 s")
        if not 1 <= self.ivr_timeout_s <= 120:
            raise SandboxError(f"ivr_timeout_s={self.ivr_timeout_s} must be 1..120 s")
        if not _SAFE_NAME.fullmatch(self.ami_user):
            raise SandboxError(f"ami_user {self.ami_user!r} must match {_SAFE_NAME.pattern}")
        try:
            ipaddress.IPv4Address(self.agi_host)
        except ValueError:
            raise SandboxError(f"agi_host {self.agi_host!r} must be an IPv4 address") from None


@dataclass(frozen=True)
class SandboxSecrets:
    ami_secret: str
    operators: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"


def generate_secrets(existing: SandboxSecrets | None = None) -> SandboxSecrets:
    """Keep what exists, generate what is missing (a new operator gets a new password)."""
    operators = dict(existing.operators) if existing else {}
    for name in OPERATORS:
        operators.setdefault(name, _secrets.token_hex(16))
    return SandboxSecrets(existing.ami_secret if existing else _secrets.token_hex(16), operators)


def placeholder_values(params: SandboxParams, secrets: SandboxSecrets) -> dict[str, str]:
    values = {
        "SIP_PORT": str(params.sip_port),
        "AMI_PORT": str(params.ami_port),
        "AMI_USER": params.ami_user,
        "AMI_SECRET": secrets.ami_secret,
        "AGI_HOST": params.agi_host,
        "AGI_PORT": str(params.agi_port),
        "RTP_START": str(params.rtp_start),
        "RTP_END": str(params.rtp_end),
        "INTAKE_TIMEOUT": str(params.intake_timeout_s),
        "IVR_TIMEOUT": str(params.ivr_timeout_s),
        "BENCH_INCLUDE": "include => bench" if params.bench else "; bench context off",
    }
    for name, password in secrets.operators.items():
        values["SECRET_" + name.upper().replace("-", "_")] = password
    return values


def render(text: str, values: Mapping[str, str], source: str = "<template>") -> str:
    unknown = sorted({m for m in _PLACEHOLDER.findall(text) if m not in values})
    if unknown:
        raise SandboxError(f"{source}: no value for {', '.join('@' + u + '@' for u in unknown)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_configs(
    params: SandboxParams, secrets: SandboxSecrets, config_dir: Path = CONFIG_DIR
) -> dict[str, str]:
    """Every file of asterisk_configs/, rendered: {file name: text}. Pure apart from reading."""
    params.validate()
    values = placeholder_values(params, secrets)
    files = sorted(p for p in config_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SandboxError(f"no Asterisk configs in {config_dir}")
    return {p.name: render(p.read_text(), values, p.name) for p in files}
