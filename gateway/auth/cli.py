"""`line19 users …`: add, list, change the password of, disable and enable accounts.

Every command migrates the database first. A password is read from a hidden prompt (asked
twice) or, with --password-stdin, from the first line of standard input; there is no
default password. A weak password, an invalid field or an unknown room ends with exit
status 2 and the reason; an existing or missing user with exit status 1.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.auth.model import Account, AccountError, InvalidAccount, Role, check_username
from gateway.auth.passwords import PasswordPolicyError, check_policy
from gateway.auth.users import UserService
from gateway.cli_support import UsageFailed, config_option, database_option, load
from gateway.persistence import db
from gateway.persistence.db import open_database
from gateway.settings import Settings

T = TypeVar("T")

password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


def _settings(config: Path | None, database_url: str | None) -> Settings:
    return load(config, database_url=database_url)


def _run(settings: Settings, work: Callable[[UserService], Awaitable[T]]) -> T:
    """Migrate, then run `work` on a UserService; account errors become exit status 1."""

    async def main() -> T:
        database = open_database(settings.database_url)
        try:
            return await work(UserService(database))
        finally:
            await database.close()

    try:
        db.upgrade(settings.database_url)
        return asyncio.run(main())
    except InvalidAccount as exc:
        raise UsageFailed(str(exc)) from exc
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"database: {str(exc).splitlines()[0]}") from exc


def _new_password(username: str, from_stdin: bool) -> str:
    """The password, read and checked against the policy before anything is written."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        check_policy(password, username=username)
    except PasswordPolicyError as exc:
        raise UsageFailed(f"weak password: {exc}") from exc
    return password


def _name(username: str) -> str:
    try:
        return check_username(username)
    except InvalidAccount as exc:
        raise UsageFailed(str(exc)) from exc


@click.group("users")
def users() -> None:
    """Accounts of the command rooms: operators, supervisors, administrators."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--display-name", help="The name shown to colleagues (default: USERNAME).")
@click.option("--endpoint", help="The operator's softphone: its PJSIP endpoint (op-rabat-1).")
@click.option("--room", help="The operator's home room (a room id of the settings: rabat).")
@password_stdin_option
@config_option
@database_option
def add_command(
    username: str,
    role: str,
    display_name: str | None,
    endpoint: str | None,
    room: str | None,
    password_stdin: bool,
    config: Path | None,
    database_url: str | None,
) -> None:
    """Add an account; the password is asked for (twice) unless --password-stdin."""
    settings = _settings(config, database_url)
    name = _name(username)
    if room is not None and room not in settings.room_ids:
        known = ", ".join(sorted(settings.room_ids))
        raise UsageFailed(f"unknown room {room!r}: one of {known}")
    password = _new_password(name, password_stdin)
    user = _run(
        settings,
        lambda service: service.add(
            name,
            role=role,
            password=password,
            display_name=display_name,
            endpoint=endpoint,
            room=room,
        ),
    )
    click.echo(f"user {user.username} ({user.role}) added, id {user.id}")


def _row(account: Account) -> dict[str, object]:
    return account.user.to_json() | {
        "disabled": account.disabled,
        "created_at": account.created_at.isoformat(),
        "updated_at": account.updated_at.isoformat(),
    }


def _table(accounts: list[Account]) -> list[str]:
    header = ("USERNAME", "ROLE", "DISPLAY NAME", "ENDPOINT", "ROOM", "STATE")
    rows = [header] + [
        (a.user.username, a.user.role.value, a.user.display_name, a.user.endpoint or "-",
         a.user.room or "-", "disabled" if a.disabled else "enabled")
        for a in accounts
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@config_option
@database_option
def list_command(as_json: bool, config: Path | None, database_url: str | None) -> None:
    """List the accounts (never their password hashes)."""
    accounts = _run(_settings(config, database_url), lambda service: service.list())
    if as_json:
        for account in accounts:
            click.echo(json.dumps(_row(account), ensure_ascii=False))
        return
    for line in _table(accounts):
        click.echo(line)


@users.command("passwd")
@click.argument("username")
@password_stdin_option
@config_option
@database_option
def passwd_command(
    username: str, password_stdin: bool, config: Path | None, database_url: str | None
) -> None:
    """Set a new password; the user's open sessions end."""
    settings = _settings(config, database_url)
    name = _name(username)
    password = _new_password(name, password_stdin)
    _run(settings, lambda service: service.set_password(name, password))
    click.echo(f"password of {name} changed; its sessions ended")


@users.command("disable")
@click.argument("username")
@config_option
@database_option
def disable_command(username: str, config: Path | None, database_url: str | None) -> None:
    """Forbid signing in; the user's open sessions end."""
    name = _name(username)
    _run(_settings(config, database_url), lambda service: service.disable(name))
    click.echo(f"user {name} disabled; its sessions ended")


@users.command("enable")
@click.argument("username")
@config_option
@database_option
def enable_command(username: str, config: Path | None, database_url: str | None) -> None:
    """Allow a disabled user to sign in again."""
    name = _name(username)
    _run(_settings(config, database_url), lambda service: service.enable(name))
    click.echo(f"user {name} enabled")
