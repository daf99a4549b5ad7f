"""Host-side helpers of the sandbox: subprocesses, mounts, device nodes, ports, /proc.

Everything that touches the host beyond the sandbox's own files is here; most of it needs
root. A tree is never removed while something is still mounted below it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from gateway.asterisk.sandbox_config import SandboxError

logger = logging.getLogger(__name__)

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Device nodes made in ROOT/dev instead of bind-mounting the host's /dev.
DEVICES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}


def require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the Asterisk sandbox needs root (debootstrap, chroot, mount, mknod): run it with sudo"
        )


def which(tool: str) -> str | None:
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":" + SBIN_PATH)


def run(
    args: list[str], timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def tail(path: Path, lines: int = 15) -> str:
    """The log's warnings and errors, then its last lines: what a failed boot is about."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    problems = [line for line in text if "WARNING[" in line or "ERROR[" in line][-lines:]
    return "\n".join([*problems, "…", *text[-lines:]] if problems else text[-lines:])


# -- mounts, nodes, files in a root ---------------------------------------------------------
def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below path, deepest first."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def unmount_all(path: Path) -> None:
    for point in mounts_under(path):
        result = run(["umount", str(point)])
        if result.returncode != 0:
            logger.warning(
                "umount %s failed (%s); detaching it lazily", point, result.stderr.strip()
            )
            run(["umount", "-l", str(point)])
    if mounts_under(path):
        raise SandboxError(f"cannot unmount everything under {path}: see /proc/self/mountinfo")


def remove_tree(path: Path) -> None:
    """rm -rf that unmounts what is mounted below first: it never empties a host /proc or /dev."""
    if not path.exists():
        return
    unmount_all(path)
    shutil.rmtree(path)


def mount_proc(root: Path) -> None:
    proc = root / "proc"
    if proc.resolve() not in mounts_under(proc):
        result = run(["mount", "-t", "proc", "proc", str(proc)])
        if result.returncode != 0:
            raise SandboxError(f"cannot mount proc in {proc}: {result.stderr.strip()}")


def make_devices(root: Path) -> None:
    for name, (major, minor) in DEVICES.items():
        node = root / "dev" / name
        if not node.is_char_device():
            node.unlink(missing_ok=True)
            os.mknod(node, 0o666 | 0o020000, os.makedev(major, minor))
            node.chmod(0o666)


def write_private(path: Path, text: str) -> None:
    """Replace path with text, mode 0600 from the start (secrets)."""
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(partial, 0o600)  # a .tmp left behind by a crash keeps its mode through O_CREAT
    partial.replace(path)


def asterisk_id(root: Path, database: str) -> int:
    """The asterisk user's (database "passwd") or group's ("group") id inside root."""
    for line in (root / "etc" / database).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "asterisk":
            return int(fields[2])
    raise SandboxError(f"no asterisk entry in {root}/etc/{database}")


def write_hosts(root: Path) -> None:
    host = socket.gethostname()
    (root / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost {host}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )


# -- ports --------------------------------------------------------------------------------
def check_port_free(kind: int, port: int, what: str, option: str) -> None:
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
            raise SandboxError(
                f"{what} port 127.0.0.1:{port}/{proto} is already taken by another process "
                f"(`ss -lnp{proto[0]} 'sport = :{port}'` shows which); stop it or pick "
                f"another port with {option}"
            ) from None


# -- processes ----------------------------------------------------------------------------
def runs_in(pid: int, root: Path, comm: str | None = None) -> bool:
    """True when pid is chrooted in root, named comm if given, and alive (not a zombie)."""
    try:
        if os.readlink(f"/proc/{pid}/root") != str(root):
            return False
        if comm is not None and Path(f"/proc/{pid}/comm").read_text().strip() != comm:
            return False
    except OSError:
        return False
    return is_alive(pid)


def processes_in(root: Path) -> list[int]:
    return [
        int(d.name)
        for d in Path("/proc").iterdir()
        if d.name.isdigit() and int(d.name) != os.getpid() and runs_in(int(d.name), root)
    ]


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.1)
    return False


def is_alive(pid: int) -> bool:
    """True unless pid is gone or a zombie (our own exited child is reaped on the way)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def terminate(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_gone(pid, wait):
            return
    raise SandboxError(f"pid {pid} survived SIGKILL")
