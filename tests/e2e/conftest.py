"""Fixtures of the end-to-end tier. A component that cannot be brought up fails the run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.asterisk.sandbox import Sandbox, SandboxError, SandboxParams
from tests.conftest import create_pg_database, drop_pg_database
from tests.e2e.harness import Gateway, Sipp, operator, wait_for, wait_operators_reachable


def room_of(operator_name: str) -> str:
    """op-rabat-1 -> rabat"""
    return operator_name.split("-")[1]


E2E_AGI_PORT = 4673  # not the default, so that a `make run` gateway does not take the calls


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    if os.geteuid() != 0:
        pytest.fail("the end-to-end tier needs root to run the Asterisk sandbox (chroot)")
    box = Sandbox.from_env()
    try:
        box.up(SandboxParams(agi_port=E2E_AGI_PORT, intake_timeout_s=4))
    except SandboxError as exc:
        pytest.fail(f"the Asterisk sandbox could not be brought up: {exc}")
    yield box
    box.down()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def make_gateway(
    sandbox: Sandbox, tmp_path: Path, log_dir: Path
) -> Iterator[Callable[..., Gateway]]:
    """Start a gateway on a fresh database ("sqlite" or "postgres")."""
    started: list[Gateway] = []
    databases: list[str] = []
    # The previous test's calls must be over before this test's records start.
    wait_for(lambda: "0 active calls" in sandbox.rx("core show channels count"), 40, 0.5,
             "no call left in Asterisk")  # fmt: skip
    queue_log = sandbox.queue_log_path()
    if queue_log.exists():  # this test's calls only (Asterisk appends, O_APPEND)
        with queue_log.open("r+") as handle:
            handle.truncate(0)

    def factory(backend: str = "sqlite", start: bool = True, ivr: bool = False) -> Gateway:
        if backend == "postgres":
            url = create_pg_database()
            databases.append(url)
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / f'gateway{len(started)}.db'}"
        gateway = Gateway(
            database_url=url,
            agi_port=E2E_AGI_PORT,
            ami_port=SandboxParams().ami_port,
            ami_secret=sandbox.secrets().ami_secret,
            queue_log=queue_log,
            log_path=log_dir / f"gateway{len(started)}.log",
            ivr=ivr,
            ivr_durations=sandbox.prompt_durations_path(),
        )
        started.append(gateway)
        if start:
            gateway.start()
        return gateway

    yield factory
    for gateway in started:
        gateway.thaw() if gateway.process and gateway.process.poll() is None else None
        gateway.stop()
    for url in databases:
        drop_pg_database(url)


@pytest.fixture
def operators(sandbox: Sandbox, log_dir: Path) -> Iterator[Callable[..., list[Sipp]]]:
    """Start sipp operator softphones: operators(["op-rabat-1", …], hold_ms=…)."""
    running: list[Sipp] = []

    def start(
        names: list[str], hold_ms: int = 3000, ring_ms: int = 200, join: bool = True
    ) -> list[Sipp]:
        """`join`: into their room's queue, ready (False: they log in from the console)."""
        # The previous test's calls must be over: Asterisk would retransmit their INVITEs
        # to the new softphones.
        wait_for(lambda: "0 active calls" in sandbox.rx("core show channels count"), 40, 0.5,
                 "no call left in Asterisk")  # fmt: skip
        peers = []
        for name in names:
            for attempt in range(10):  # the previous test's sipp may still hold the port
                peer = operator(name, hold_ms, log_dir, f"{name}-{attempt}", ring_ms)
                time.sleep(0.3)
                if peer.process.poll() is None:
                    break
            else:
                raise AssertionError(f"operator {name} could not start:\n{peer.errors()}")
            peers.append(peer)
        running.extend(peers)
        wait_operators_reachable(sandbox, names)
        if not join:
            from_console.extend(names)
        for name in names if join else ():  # the queues have no static members: join, ready
            joined.append(name)
            sandbox.rx(f"queue add member PJSIP/{name} to {room_of(name)} penalty 0 as {name} "
                       f"state_interface PJSIP/{name}")  # fmt: skip
        return peers

    joined: list[str] = []
    from_console: list[str] = []
    yield start
    for peer in running:
        peer.stop()
    for name in joined:
        sandbox.rx(f"queue remove member PJSIP/{name} from {room_of(name)}")
    for name in from_console:  # whoever logged in from a console, whatever room
        for room in ("rabat", "sale"):
            sandbox.rx(f"queue remove member PJSIP/{name} from {room}")
