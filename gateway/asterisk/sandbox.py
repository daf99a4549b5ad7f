"""The Asterisk 22 sandbox: a Debian-unstable chroot for development, tests and `make run`.

Where things live (STATE is `$LINE19_SANDBOX_DIR`, default /var/lib/line19/asterisk-sandbox,
always outside the repository because /proc gets mounted inside the root):

    STATE/root/           the chroot, extracted from the cached tarball
    STATE/secrets.json    AMI and operator secrets, generated once (0600)
    STATE/params.json     the SandboxParams the configs were last rendered with
    STATE/asterisk.pid    the running Asterisk (checked against /proc before use)
    STATE/console.log     Asterisk's console output
    STATE/prompts/        the IVR prompts as rendered (copied into ROOT's sounds folders)
                          and their durations.json, which the gateway reads
    ${XDG_CACHE_HOME:-~/.cache}/line19/asterisk-sandbox-<key>.tar.gz   the built root

Only the first `build()` downloads (debootstrap, about a minute); later ones find the tarball.
Everything here needs root: chroot, mount and mknod. See also sandbox_config, sandbox_build
and sandbox_host.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from gateway.asterisk.sandbox_build import MIRROR_ENV, build_tarball, cache_key
from gateway.asterisk.sandbox_config import (
    CONFIG_DIR,
    OPERATORS,
    SandboxError,
    SandboxParams,
    SandboxSecrets,
    generate_secrets,
    placeholder_values,
    render,
    render_configs,
)
from gateway.asterisk.sandbox_host import (
    SBIN_PATH,
    asterisk_id,
    check_port_free,
    is_alive,
    make_devices,
    mount_proc,
    processes_in,
    remove_tree,
    require_root,
    run,
    runs_in,
    tail,
    terminate,
    unmount_all,
    wait_gone,
    write_hosts,
    write_private,
)
from gateway.asterisk.sandbox_prompts import DURATIONS_FILE, generate_prompts, install_prompts

__all__ = [
    "CONFIG_DIR",
    "DEFAULT_STATE_DIR",
    "OPERATORS",
    "Sandbox",
    "SandboxError",
    "SandboxParams",
    "SandboxSecrets",
    "SandboxStatus",
    "cache_key",
    "generate_secrets",
    "placeholder_values",
    "render",
    "render_configs",
]

logger = logging.getLogger(__name__)

DEFAULT_STATE_DIR = Path("/var/lib/line19/asterisk-sandbox")
# Foreground, no colours, as the asterisk user; verbosity comes from asterisk.conf.
ASTERISK_COMMAND = ("asterisk", "-U", "asterisk", "-G", "asterisk", "-f", "-n")
BOOT_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Owned by the asterisk user inside the chroot (it runs as that user).
STATE_FOLDERS = tuple(
    f"/{d}/asterisk" for d in ("run", "var/lib", "var/log", "var/spool", "var/cache")
)


@dataclass(frozen=True)
class SandboxStatus:
    state_dir: Path
    cached: bool
    extracted: bool
    running: bool
    pid: int | None
    params: dict[str, object] | None


class Sandbox:
    """One sandbox: its state folder, the tarball cache and the configs it installs."""

    def __init__(
        self,
        state_dir: Path = DEFAULT_STATE_DIR,
        cache_dir: Path | None = None,
        config_dir: Path = CONFIG_DIR,
        mirror: str | None = None,
    ) -> None:
        self.state_dir = state_dir.resolve()
        if cache_dir is None:
            xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            cache_dir = Path(xdg) / "line19"
        self.cache_dir = cache_dir
        self.config_dir = config_dir
        self.mirror = mirror or None  # None: debootstrap's own default
        repo = config_dir.resolve().parent
        if self.state_dir == repo or repo in self.state_dir.parents:
            raise SandboxError(
                f"the sandbox folder {self.state_dir} must be outside the "
                f"repository {repo}: it gets /proc mounted inside"
            )

    @classmethod
    def from_env(cls) -> Sandbox:
        state = os.environ.get("LINE19_SANDBOX_DIR")
        return cls(
            Path(state) if state else DEFAULT_STATE_DIR,
            mirror=os.environ.get(MIRROR_ENV) or None,
        )

    # -- paths ---------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.state_dir / "root"

    @property
    def tarball(self) -> Path:
        return self.cache_dir / f"asterisk-sandbox-{cache_key()}.tar.gz"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "console.log"

    def queue_log_path(self) -> Path:
        return self.root / "var/log/asterisk/queue_log"

    @property
    def prompts_dir(self) -> Path:
        return self.state_dir / "prompts"

    def prompt_durations_path(self) -> Path:
        """The measured durations of the installed prompts (the gateway's ivr_durations_path)."""
        return self.prompts_dir / DURATIONS_FILE

    @property
    def _stamp(self) -> Path:
        return self.root / ".line19-sandbox-key"

    # -- build and extract ---------------------------------------------------------------
    def build(self) -> Path:
        """Make the cached tarball unless it exists; return its path."""
        if self.tarball.exists():
            logger.info("sandbox tarball cached: %s", self.tarball)
        else:
            build_tarball(self.tarball, self.mirror)
        return self.tarball

    def extract(self) -> None:
        """Unpack the tarball into STATE/root unless that root already comes from it."""
        require_root()
        key = cache_key()
        if self._stamp.exists() and self._stamp.read_text().strip() == key:
            return
        if not self.tarball.exists():
            raise SandboxError(f"no sandbox tarball at {self.tarball}: run build first")
        self.stop()
        logger.info("extracting %s into %s", self.tarball, self.root)
        remove_tree(self.root)
        self.root.mkdir(parents=True)
        self.state_dir.chmod(0o755)
        result = run(
            ["tar", "--numeric-owner", "-xzf", str(self.tarball), "-C", str(self.root)], timeout=600
        )
        if result.returncode != 0:
            raise SandboxError(f"cannot extract {self.tarball}: {result.stderr.strip()}")
        self._stamp.write_text(key + "\n")

    # -- secrets and configs -------------------------------------------------------------
    def secrets(self) -> SandboxSecrets:
        """The sandbox's secrets, generated (and saved 0600) on first use."""
        path = self.state_dir / "secrets.json"
        existing = None
        if path.exists():
            data = json.loads(path.read_text())
            existing = SandboxSecrets(data["ami_secret"], dict(data.get("operators", {})))
        current = generate_secrets(existing)
        if current != existing:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            write_private(path, current.to_json())
        return current

    def install_configs(self, params: SandboxParams) -> None:
        """Replace ROOT/etc/asterisk with our rendered configs (root:asterisk, 0640), and
        install the IVR prompts (`install_prompts`)."""
        rendered = render_configs(params, self.secrets(), self.config_dir)
        etc = self.root / "etc/asterisk"
        if not (self.root / "usr/sbin/asterisk").exists():
            raise SandboxError(f"no Asterisk in {self.root}: run up (or build) first")
        gid = asterisk_id(self.root, "group")
        remove_tree(etc)
        etc.mkdir(mode=0o750)
        os.chown(etc, 0, gid)
        for name, text in rendered.items():
            path = etc / name
            path.write_text(text)
            os.chown(path, 0, gid)
            path.chmod(0o640)
        logger.info("installed %d config files into %s", len(rendered), etc)
        self.install_prompts()
        (self.state_dir / "params.json").write_text(
            json.dumps(dataclasses.asdict(params), indent=2) + "\n"
        )

    def install_prompts(self) -> None:
        """Render the IVR prompts into STATE/prompts (espeak-ng, sox) and copy them into
        ROOT/usr/share/asterisk/sounds/<lang>/; STATE/prompts/durations.json describes them."""
        if not (self.root / "usr/sbin/asterisk").exists():
            raise SandboxError(f"no Asterisk in {self.root}: run up (or build) first")
        generate_prompts(self.prompts_dir)
        install_prompts(self.root, self.prompts_dir)

    def installed_params(self) -> SandboxParams | None:
        path = self.state_dir / "params.json"
        return SandboxParams(**json.loads(path.read_text())) if path.exists() else None

    # -- run -----------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of the Asterisk running in our root, or None."""
        try:
            pid = int((self.state_dir / "asterisk.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if runs_in(pid, self.root, "asterisk") else None

    def start(self) -> None:
        require_root()
        if self.pid() is not None:
            return
        params = self.installed_params()
        if params is None or not (self.root / "etc/asterisk/asterisk.conf").exists():
            raise SandboxError("no configs installed: run up (or install_configs) first")
        self._check_ports(params)
        self._prepare_root()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Detached through a shell that exits at once: Asterisk is then nobody's child here
        # (no zombie in a long-lived caller such as the test runner), in its own session.
        command = " ".join(
            shlex.quote(part) for part in ("chroot", str(self.root), *ASTERISK_COMMAND)
        )
        launched = subprocess.run(
            ["sh", "-c", f"setsid {command} >>{shlex.quote(str(self.log_path))} 2>&1 "
                         "</dev/null & echo $!"],
            capture_output=True, text=True, timeout=10, check=True,
            env={"PATH": SBIN_PATH, "LANG": "C.UTF-8"},
        )  # fmt: skip
        pid = int(launched.stdout.strip())
        (self.state_dir / "asterisk.pid").write_text(f"{pid}\n")
        logger.info("Asterisk starting (pid %d), console log %s", pid, self.log_path)
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while time.monotonic() < deadline:
            if not is_alive(pid):
                self._unmount()
                raise SandboxError(f"Asterisk exited while booting:\n{tail(self.log_path)}")
            probe = self._asterisk_rx("core waitfullybooted", timeout=5)
            if probe is not None and "fully booted" in probe:
                logger.info("Asterisk fully booted")
                return
            time.sleep(0.2)
        self.stop()
        raise SandboxError(
            f"Asterisk did not boot within {BOOT_TIMEOUT_S:.0f} s:\n{tail(self.log_path)}"
        )

    def _prepare_root(self) -> None:
        write_hosts(self.root)
        make_devices(self.root)
        mount_proc(self.root)
        (self.root / "run/asterisk").mkdir(parents=True, exist_ok=True)
        chown = run(
            ["chroot", str(self.root), "chown", "-R", "asterisk:asterisk", *STATE_FOLDERS],
            env={"PATH": SBIN_PATH},
        )
        if chown.returncode != 0:
            raise SandboxError(f"cannot chown the state folders: {chown.stderr.strip()}")

    def _asterisk_rx(self, command: str, timeout: float) -> str | None:
        try:
            result = run(
                ["chroot", str(self.root), "asterisk", "-rx", command],
                timeout=timeout,
                env={"PATH": SBIN_PATH, "LANG": "C.UTF-8"},
            )
        except subprocess.TimeoutExpired:
            return None
        return result.stdout if result.returncode == 0 else None

    def rx(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command in the running Asterisk and return its output."""
        require_root()
        if self.pid() is None:
            raise SandboxError("Asterisk is not running: run up first")
        output = self._asterisk_rx(command, timeout)
        if output is None:
            raise SandboxError(f"asterisk -rx {command!r} failed or timed out")
        return output

    def stop(self) -> None:
        """Stop Asterisk (and anything else running in the root), then unmount."""
        pid = self.pid()
        if pid is not None:
            logger.info("stopping Asterisk (pid %d)", pid)
            self._asterisk_rx("core stop now", timeout=5)
            if not wait_gone(pid, STOP_TIMEOUT_S):
                logger.warning("Asterisk %d ignored 'core stop now': terminating it", pid)
                terminate(pid)
        for other in processes_in(self.root):
            logger.warning("terminating pid %d left running in the sandbox", other)
            terminate(other)
        (self.state_dir / "asterisk.pid").unlink(missing_ok=True)
        self._unmount()

    def _unmount(self) -> None:
        if self.root.exists():
            unmount_all(self.root)

    def status(self) -> SandboxStatus:
        params, pid = self.installed_params(), self.pid()
        return SandboxStatus(
            state_dir=self.state_dir,
            cached=self.tarball.exists(),
            extracted=self._stamp.exists(),
            running=pid is not None,
            pid=pid,
            params=dataclasses.asdict(params) if params else None,
        )

    def _check_ports(self, params: SandboxParams) -> None:
        """SIP and AMI ports must be free, apart from those our own running Asterisk holds."""
        held = self.installed_params() if self.pid() is not None else None
        if not (held and held.sip_port == params.sip_port):
            check_port_free(socket.SOCK_DGRAM, params.sip_port, "SIP", "--sip-port")
        if not (held and held.ami_port == params.ami_port):
            check_port_free(socket.SOCK_STREAM, params.ami_port, "AMI", "--ami-port")

    def up(self, params: SandboxParams) -> None:
        """Built, extracted, configured and (re)started: the one call a test or `make run` needs."""
        require_root()
        params.validate()
        self.build()
        self.extract()
        self._check_ports(params)  # before stopping what runs, so a bad port breaks nothing
        self.stop()
        self.install_configs(params)
        self.start()

    def down(self) -> None:
        require_root()
        self.stop()
