"""The Asterisk 22 sandbox: a Debian-unstable chroot for development, tests and `make run`.

Where things live (STATE is `$LINE19_SANDBOX_DIR`, default /var/lib/line19/asterisk-sandbox,
always outside the repository because /proc gets mounted inside the root):

    STATE/root/           the chroot, extracted from the cached tarball
    STATE/secrets.json    AMI and operator secrets, generated once (0600)
    STATE/params.json     the SandboxParams the configs were last rendered with
    STATE/asterisk.pid    the running Asterisk (checked against /proc before use)
    STATE/console.log     Asterisk's console output
    ${XDG_CACHE_HOME:-~/.cache}/line19/asterisk-sandbox-<key>.tar.gz   the built root

Only the first `build()` downloads (debootstrap, about a minute); later ones find the tarball.
Everything here needs root: chroot, mount and mknod.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import ipaddress
import json
import logging
import os
import re
import secrets as _secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

SUITE = "sid"
VARIANT = "minbase"
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-gsm", "baresip-core")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Bump when the way the root is built changes, so that old tarballs are not reused.
BUILD_REVISION = 1

CONFIG_DIR = Path(__file__).resolve().parents[2] / "asterisk_configs"
DEFAULT_STATE_DIR = Path("/var/lib/line19/asterisk-sandbox")
OPERATORS = ("op-rabat-1", "op-rabat-2", "op-rabat-3", "op-sale-1", "op-sale-2", "op-rabat-9")
# Foreground, no colours, as the asterisk user; verbosity comes from asterisk.conf.
ASTERISK_COMMAND = ("asterisk", "-U", "asterisk", "-G", "asterisk", "-f", "-n")
BOOT_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Device nodes made in ROOT/dev instead of bind-mounting the host's /dev.
DEVICES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
# Owned by the asterisk user inside the chroot (it runs as that user).
STATE_FOLDERS = tuple(
    f"/{d}/asterisk" for d in ("run", "var/lib", "var/log", "var/spool", "var/cache")
)
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
_SAFE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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


@dataclass(frozen=True)
class SandboxStatus:
    state_dir: Path
    cached: bool
    extracted: bool
    running: bool
    pid: int | None
    params: dict[str, object] | None


def cache_key() -> str:
    text = f"{SUITE}|{VARIANT}|{','.join(sorted(PACKAGES))}|{BUILD_REVISION}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":" + _SBIN_PATH)


def _run(
    args: list[str], timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def _tail(path: Path, lines: int = 15) -> str:
    """The log's warnings and errors, then its last lines: what a failed boot is about."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    problems = [line for line in text if "WARNING[" in line or "ERROR[" in line][-lines:]
    return "\n".join([*problems, "…", *text[-lines:]] if problems else text[-lines:])


def _mounts_under(path: Path) -> list[Path]:
    """Mount points at or below path, deepest first."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _unmount_all(path: Path) -> None:
    for point in _mounts_under(path):
        result = _run(["umount", str(point)])
        if result.returncode != 0:
            logger.warning(
                "umount %s failed (%s); detaching it lazily", point, result.stderr.strip()
            )
            _run(["umount", "-l", str(point)])
    if _mounts_under(path):
        raise SandboxError(f"cannot unmount everything under {path}: see /proc/self/mountinfo")


def _remove_tree(path: Path) -> None:
    """rm -rf that unmounts what is mounted below first: it never empties a host /proc or /dev."""
    if not path.exists():
        return
    _unmount_all(path)
    shutil.rmtree(path)


def _check_port_free(kind: int, port: int, what: str, option: str) -> None:
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


class Sandbox:
    """One sandbox: its state folder, the tarball cache and the configs it installs."""

    def __init__(
        self,
        state_dir: Path = DEFAULT_STATE_DIR,
        cache_dir: Path | None = None,
        config_dir: Path = CONFIG_DIR,
        mirror: str = DEFAULT_MIRROR,
    ) -> None:
        self.state_dir = state_dir.resolve()
        if cache_dir is None:
            xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            cache_dir = Path(xdg) / "line19"
        self.cache_dir = cache_dir
        self.config_dir = config_dir
        self.mirror = mirror.rstrip("/")
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
            mirror=os.environ.get("LINE19_DEBIAN_MIRROR") or DEFAULT_MIRROR,
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
    def _stamp(self) -> Path:
        return self.root / ".line19-sandbox-key"

    # -- build and extract ---------------------------------------------------------------
    def build(self) -> Path:
        """Make the cached tarball unless it exists; return its path."""
        if self.tarball.exists():
            logger.info("sandbox tarball cached: %s", self.tarball)
            return self.tarball
        _require_root()
        debootstrap = _which("debootstrap")
        if debootstrap is None:
            raise SandboxError("debootstrap is not installed: apt-get install debootstrap")
        self._check_mirror()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="asterisk-sandbox-build-", dir=self.cache_dir))
        target, build_log = work / "root", self.cache_dir / "build.log"
        logger.info(
            "building the sandbox (debootstrap %s, about a minute); log: %s", SUITE, build_log
        )
        try:
            with build_log.open("w") as log:
                result = subprocess.run(
                    [
                        debootstrap,
                        f"--variant={VARIANT}",
                        f"--include={','.join(PACKAGES)}",
                        SUITE,
                        str(target),
                        self.mirror,
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=1800,
                    check=False,
                )
            if result.returncode != 0:
                raise SandboxError(
                    f"debootstrap failed (exit {result.returncode}):\n{_tail(build_log)}"
                )
            _write_hosts(target)
            shutil.rmtree(target / "var/cache/apt/archives", ignore_errors=True)
            (target / "var/cache/apt/archives/partial").mkdir(parents=True)
            partial = self.tarball.with_suffix(".part")
            packed = _run(
                ["tar", "--numeric-owner", "-C", str(target), "-czf", str(partial), "."],
                timeout=900,
            )
            if packed.returncode != 0:
                raise SandboxError(f"tar failed: {packed.stderr.strip()}")
            partial.replace(self.tarball)
        finally:
            _remove_tree(work)
        logger.info("sandbox tarball ready: %s", self.tarball)
        return self.tarball

    def _check_mirror(self) -> None:
        url = f"{self.mirror}/dists/{SUITE}/Release"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=15):
                pass
        except (urllib.error.URLError, OSError) as exc:
            raise SandboxError(
                f"cannot reach the package mirror ({url}: {exc}); the first build downloads "
                "~200 MB from it. Check the network, or set LINE19_DEBIAN_MIRROR"
            ) from None

    def extract(self) -> None:
        """Unpack the tarball into STATE/root unless that root already comes from it."""
        _require_root()
        key = cache_key()
        if self._stamp.exists() and self._stamp.read_text().strip() == key:
            return
        if not self.tarball.exists():
            raise SandboxError(f"no sandbox tarball at {self.tarball}: run build first")
        self.stop()
        logger.info("extracting %s into %s", self.tarball, self.root)
        _remove_tree(self.root)
        self.root.mkdir(parents=True)
        self.state_dir.chmod(0o755)
        result = _run(
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
            fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(current.to_json())
            path.with_suffix(".tmp").replace(path)
        return current

    def install_configs(self, params: SandboxParams) -> None:
        """Replace ROOT/etc/asterisk with our rendered configs (root:asterisk, 0640)."""
        rendered = render_configs(params, self.secrets(), self.config_dir)
        etc = self.root / "etc/asterisk"
        if not (self.root / "usr/sbin/asterisk").exists():
            raise SandboxError(f"no Asterisk in {self.root}: run up (or build) first")
        gid = self._asterisk_id("group")
        _remove_tree(etc)
        etc.mkdir(mode=0o750)
        os.chown(etc, 0, gid)
        for name, text in rendered.items():
            path = etc / name
            path.write_text(text)
            os.chown(path, 0, gid)
            path.chmod(0o640)
        (self.state_dir / "params.json").write_text(
            json.dumps(dataclasses.asdict(params), indent=2) + "\n"
        )
        logger.info("installed %d config files into %s", len(rendered), etc)

    def _asterisk_id(self, database: str) -> int:
        for line in (self.root / "etc" / database).read_text().splitlines():
            fields = line.split(":")
            if fields[0] == "asterisk":
                return int(fields[2])
        raise SandboxError(f"no asterisk entry in {self.root}/etc/{database}")

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
        return pid if _runs_in(pid, self.root, "asterisk") else None

    def start(self) -> None:
        _require_root()
        if self.pid() is not None:
            return
        params = self.installed_params()
        if params is None or not (self.root / "etc/asterisk/asterisk.conf").exists():
            raise SandboxError("no configs installed: run up (or install_configs) first")
        self._check_ports(params)
        self._prepare_root()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            process = subprocess.Popen(
                ["chroot", str(self.root), *ASTERISK_COMMAND],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={"PATH": _SBIN_PATH, "LANG": "C.UTF-8"},
            )
        (self.state_dir / "asterisk.pid").write_text(f"{process.pid}\n")
        logger.info("Asterisk starting (pid %d), console log %s", process.pid, self.log_path)
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._unmount()
                raise SandboxError(
                    f"Asterisk exited with {process.returncode} while booting:\n"
                    f"{_tail(self.log_path)}"
                )
            probe = self._asterisk_rx("core waitfullybooted", timeout=5)
            if probe is not None and "fully booted" in probe:
                logger.info("Asterisk fully booted")
                return
            time.sleep(0.2)
        self.stop()
        raise SandboxError(
            f"Asterisk did not boot within {BOOT_TIMEOUT_S:.0f} s:\n{_tail(self.log_path)}"
        )

    def _prepare_root(self) -> None:
        _write_hosts(self.root)
        for name, (major, minor) in DEVICES.items():
            node = self.root / "dev" / name
            if not node.is_char_device():
                node.unlink(missing_ok=True)
                os.mknod(node, 0o666 | 0o020000, os.makedev(major, minor))
                node.chmod(0o666)
        proc = self.root / "proc"
        if proc.resolve() not in _mounts_under(proc):
            result = _run(["mount", "-t", "proc", "proc", str(proc)])
            if result.returncode != 0:
                raise SandboxError(f"cannot mount proc in {proc}: {result.stderr.strip()}")
        (self.root / "run/asterisk").mkdir(parents=True, exist_ok=True)
        chown = _run(
            ["chroot", str(self.root), "chown", "-R", "asterisk:asterisk", *STATE_FOLDERS],
            env={"PATH": _SBIN_PATH},
        )
        if chown.returncode != 0:
            raise SandboxError(f"cannot chown the state folders: {chown.stderr.strip()}")

    def _asterisk_rx(self, command: str, timeout: float) -> str | None:
        try:
            result = _run(
                ["chroot", str(self.root), "asterisk", "-rx", command],
                timeout=timeout,
                env={"PATH": _SBIN_PATH, "LANG": "C.UTF-8"},
            )
        except subprocess.TimeoutExpired:
            return None
        return result.stdout if result.returncode == 0 else None

    def rx(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command in the running Asterisk and return its output."""
        _require_root()
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
            if not _wait_gone(pid, STOP_TIMEOUT_S):
                logger.warning("Asterisk %d ignored 'core stop now': terminating it", pid)
                _terminate(pid)
        for other in _processes_in(self.root):
            logger.warning("terminating pid %d left running in the sandbox", other)
            _terminate(other)
        (self.state_dir / "asterisk.pid").unlink(missing_ok=True)
        self._unmount()

    def _unmount(self) -> None:
        if self.root.exists():
            _unmount_all(self.root)

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
            _check_port_free(socket.SOCK_DGRAM, params.sip_port, "SIP", "--sip-port")
        if not (held and held.ami_port == params.ami_port):
            _check_port_free(socket.SOCK_STREAM, params.ami_port, "AMI", "--ami-port")

    def up(self, params: SandboxParams) -> None:
        """Built, extracted, configured and (re)started: the one call a test or `make run` needs."""
        _require_root()
        params.validate()
        self.build()
        self.extract()
        self._check_ports(params)  # before stopping what runs, so a bad port breaks nothing
        self.stop()
        self.install_configs(params)
        self.start()

    def down(self) -> None:
        _require_root()
        self.stop()


def _require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the Asterisk sandbox needs root (debootstrap, chroot, mount, mknod): run it with sudo"
        )


def _write_hosts(root: Path) -> None:
    host = socket.gethostname()
    (root / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost {host}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )


def _runs_in(pid: int, root: Path, comm: str | None = None) -> bool:
    """True when pid is chrooted in root, named comm if given, and alive (not a zombie)."""
    try:
        if os.readlink(f"/proc/{pid}/root") != str(root):
            return False
        if comm is not None and Path(f"/proc/{pid}/comm").read_text().strip() != comm:
            return False
    except OSError:
        return False
    return _is_alive(pid)


def _processes_in(root: Path) -> list[int]:
    return [
        int(d.name)
        for d in Path("/proc").iterdir()
        if d.name.isdigit() and int(d.name) != os.getpid() and _runs_in(int(d.name), root)
    ]


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_alive(pid):
            return True
        time.sleep(0.1)
    return False


def _is_alive(pid: int) -> bool:
    """True unless pid is gone or a zombie (our own exited child is reaped on the way)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if _wait_gone(pid, wait):
            return
    raise SandboxError(f"pid {pid} survived SIGKILL")
