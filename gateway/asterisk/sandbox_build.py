"""Building the sandbox's root once: debootstrap Debian unstable with Asterisk, packed as a tarball.

The mirror is debootstrap's own default unless `LINE19_DEBIAN_MIRROR` names another one.
Nothing is checked beforehand: when debootstrap fails, its logs say whether it could not
reach the mirror, and the error says so.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from gateway.asterisk.sandbox_config import SandboxError
from gateway.asterisk.sandbox_host import remove_tree, require_root, run, which, write_hosts

logger = logging.getLogger(__name__)

SUITE = "sid"
VARIANT = "minbase"
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-gsm", "baresip-core")
MIRROR_ENV = "LINE19_DEBIAN_MIRROR"
# Bump when the way the root is built changes, so that old tarballs are not reused.
BUILD_REVISION = 1

# What debootstrap (and the wget it runs, whose output lands in TARGET/debootstrap/
# debootstrap.log) prints when the mirror cannot be reached or resolved.
_UNREACHABLE = re.compile(
    r"Failed getting release|Couldn't download|Temporary failure (?:resolving|in name resolution)"
    r"|Could not resolve|unable to resolve host|Name or service not known"
    r"|Connection (?:refused|timed out)|Network is unreachable|No route to host|Could not connect",
    re.IGNORECASE,
)


def cache_key() -> str:
    text = f"{SUITE}|{VARIANT}|{','.join(sorted(PACKAGES))}|{BUILD_REVISION}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def debootstrap_command(debootstrap: str, target: Path, mirror: str | None) -> list[str]:
    """The debootstrap call; without a mirror argument when none is configured."""
    command = [debootstrap, f"--variant={VARIANT}", f"--include={','.join(PACKAGES)}", SUITE]
    return [*command, str(target), *([mirror.rstrip("/")] if mirror else [])]


def debootstrap_error(
    returncode: int, output: str, inner_log: str, log_path: Path, mirror: str | None
) -> str:
    """The message for a failed debootstrap: an unreachable mirror, or the output's tail.

    `output` is what debootstrap printed, `inner_log` its TARGET/debootstrap/debootstrap.log.
    """
    # The first such line of each log: debootstrap's own ("E: Failed getting release file
    # …") and its cause from wget ("unable to resolve host address …").
    found = [
        next((line.strip() for line in log.splitlines() if _UNREACHABLE.search(line)), "")
        for log in (output, inner_log)
    ]
    if any(found):
        where = mirror or "debootstrap's default mirror"
        return (
            f"cannot reach the package mirror ({where}): {'; '.join(filter(None, found))}\n"
            f"The first build downloads ~200 MB; check the network, or set {MIRROR_ENV} to a "
            f"reachable Debian mirror. Full log: {log_path}"
        )
    last = "\n".join(output.splitlines()[-15:]) or "(no output)"
    return f"debootstrap failed (exit {returncode}); full log {log_path}:\n{last}"


def build_tarball(tarball: Path, mirror: str | None = None) -> None:
    """debootstrap into a scratch folder next to the tarball, then pack it (about a minute)."""
    require_root()
    debootstrap = which("debootstrap")
    if debootstrap is None:
        raise SandboxError("debootstrap is not installed: apt-get install debootstrap")
    cache_dir = tarball.parent
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="asterisk-sandbox-build-", dir=cache_dir))
    target, build_log = work / "root", cache_dir / "build.log"
    logger.info("building the sandbox (debootstrap %s, about a minute); log: %s", SUITE, build_log)
    try:
        with build_log.open("w") as log:
            result = subprocess.run(
                debootstrap_command(debootstrap, target, mirror),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=1800,
                check=False,
            )
        if result.returncode != 0:
            output = build_log.read_text(errors="replace")
            inner = _keep_inner_log(build_log, target / "debootstrap/debootstrap.log")
            raise SandboxError(
                debootstrap_error(result.returncode, output, inner, build_log, mirror)
            )
        write_hosts(target)
        shutil.rmtree(target / "var/cache/apt/archives", ignore_errors=True)
        (target / "var/cache/apt/archives/partial").mkdir(parents=True)
        partial = tarball.with_suffix(".part")
        packed = run(
            ["tar", "--numeric-owner", "-C", str(target), "-czf", str(partial), "."], timeout=900
        )
        if packed.returncode != 0:
            raise SandboxError(f"tar failed: {packed.stderr.strip()}")
        partial.replace(tarball)
    finally:
        remove_tree(work)
    logger.info("sandbox tarball ready: %s", tarball)


def _keep_inner_log(build_log: Path, inner: Path) -> str:
    """Append debootstrap's own log (wget's errors are there) to ours before the scratch
    folder goes; return its text."""
    try:
        text = inner.read_text(errors="replace")
    except OSError:
        return ""
    with build_log.open("a") as log:
        log.write(f"\n--- {inner} ---\n{text}")
    return text
