"""`line19 asterisk …`: build, start and inspect the Asterisk sandbox (see sandbox.py)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.asterisk.sandbox import Sandbox, SandboxError, SandboxParams
from gateway.asterisk.sandbox_gateway_config import gateway_config_values, write_gateway_config

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULTS = SandboxParams()


def _sandbox_errors(command: F) -> F:
    """A SandboxError becomes a one-line message and exit status 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SandboxError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group("asterisk")
def asterisk() -> None:
    """The Asterisk 22 sandbox (a Debian-unstable chroot; needs root)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")


@asterisk.command()
@_sandbox_errors
def build() -> None:
    """Build the sandbox tarball into the cache (downloads only the first time)."""
    click.echo(Sandbox.from_env().build())


@asterisk.command()
@click.option(
    "--sip-port",
    type=int,
    envvar="LINE19_SIP_PORT",
    default=_DEFAULTS.sip_port,
    show_default=True,
    help="SIP (UDP) port on 127.0.0.1.",
)
@click.option(
    "--ami-port",
    type=int,
    envvar="LINE19_AMI_PORT",
    default=_DEFAULTS.ami_port,
    show_default=True,
    help="AMI port on 127.0.0.1.",
)
@click.option("--ami-user", default=_DEFAULTS.ami_user, show_default=True)
@click.option(
    "--agi-host",
    default=_DEFAULTS.agi_host,
    show_default=True,
    help="Where the gateway's FastAGI server listens.",
)
@click.option(
    "--agi-port", type=int, envvar="LINE19_AGI_PORT", default=_DEFAULTS.agi_port, show_default=True
)
@click.option("--rtp-start", type=int, default=_DEFAULTS.rtp_start, show_default=True)
@click.option("--rtp-end", type=int, default=_DEFAULTS.rtp_end, show_default=True)
@click.option(
    "--intake-timeout",
    "intake_timeout_s",
    type=int,
    default=_DEFAULTS.intake_timeout_s,
    show_default=True,
    help="Seconds the intake may take before the call is queued anyway.",
)
@click.option(
    "--ivr-timeout",
    "ivr_timeout_s",
    type=int,
    default=_DEFAULTS.ivr_timeout_s,
    show_default=True,
    help="Seconds the IVR may take (after the intake) before the call is queued anyway.",
)
@click.option(
    "--bench/--no-bench",
    default=False,
    show_default=True,
    help="Add the bench-bare / bench-intake extensions for the carriers.",
)
@click.option(
    "--write-gateway-config",
    "gateway_config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="After a successful up, write the gateway's TOML config for this sandbox to this file "
    "(0600; AGI, AMI, queue_log and ivr_durations_path are rewritten, other keys kept).",
)
@_sandbox_errors
def up(gateway_config: Path | None, **options: Any) -> None:
    """Build if needed, install the configs and (re)start Asterisk."""
    sandbox = Sandbox.from_env()
    params = SandboxParams(**options)
    sandbox.up(params)
    click.echo(f"Asterisk is up; queue_log: {sandbox.queue_log_path()}")
    click.echo(f"IVR prompt durations: {sandbox.prompt_durations_path()}")
    if gateway_config is not None:
        values = gateway_config_values(
            params, sandbox.secrets(), sandbox.queue_log_path(), sandbox.prompt_durations_path()
        )
        write_gateway_config(gateway_config, values)
        click.echo(f"gateway config: {gateway_config}")


@asterisk.command()
@_sandbox_errors
def down() -> None:
    """Stop Asterisk and unmount the sandbox."""
    Sandbox.from_env().down()


@asterisk.command()
@_sandbox_errors
def status() -> None:
    """Show whether the sandbox is built, extracted and running."""
    state = Sandbox.from_env().status()
    click.echo(f"folder:    {state.state_dir}")
    click.echo(f"cached:    {'yes' if state.cached else 'no'}")
    click.echo(f"extracted: {'yes' if state.extracted else 'no'}")
    click.echo(f"running:   {f'yes (pid {state.pid})' if state.running else 'no'}")
    if state.params:
        click.echo("params:    " + " ".join(f"{k}={v}" for k, v in state.params.items()))
    if not state.running:
        raise SystemExit(3)


@asterisk.command()
@click.argument("command", nargs=-1, required=True)
@_sandbox_errors
def rx(command: tuple[str, ...]) -> None:
    """Run an Asterisk CLI command, e.g. `rx queue show rabat`."""
    click.echo(Sandbox.from_env().rx(" ".join(command)), nl=False)


@asterisk.command()
@_sandbox_errors
def secrets() -> None:
    """Print the AMI and operator secrets as JSON (generated on first use)."""
    click.echo(Sandbox.from_env().secrets().to_json(), nl=False)


if __name__ == "__main__":
    asterisk()
