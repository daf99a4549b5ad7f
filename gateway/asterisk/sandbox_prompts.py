"""The IVR prompts in the sandbox: rendered on the host, copied where Asterisk looks for them.

`ivr.prompt_audio.generate` (espeak-ng and sox, or the recordings) writes
`STATE/prompts/<lang>/line19-<prompt>.wav` and `STATE/prompts/durations.json`; each WAV is
copied to `ROOT/usr/share/asterisk/sounds/<lang>/`, the folder Asterisk searches for a
file of that language (`Read(…,fr/line19-welcome…)`, or `line19-stay_on_line` found through
`CHANNEL(language)` by the queue's periodic announcement). The durations file stays on the
host, for the gateway (`ivr_durations_path`): it describes exactly the files installed.

Debian's `sounds/en` is a symbolic link to `/etc/alternatives/asterisk-prompt-en`, an
absolute link that means the root's /etc, not the host's: links are resolved inside the
root here, never followed on the host.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path, PurePosixPath

from gateway.asterisk.sandbox_config import SandboxError
from ivr.catalog import FILE_PREFIX, Language, Prompt, PromptName
from ivr.prompt_audio import DURATIONS_FILE, PromptAudioError, generate

logger = logging.getLogger(__name__)

SOUNDS_DIR = PurePosixPath("/usr/share/asterisk/sounds")
_MAX_LINKS = 40


def resolve_in_root(root: Path, path: PurePosixPath | str) -> Path:
    """`path` as seen from inside the chroot `root`, as a host path below `root`.

    Symbolic links are followed the way the kernel would inside the chroot: an absolute
    target starts again at `root`, and `..` never leaves it. The last component need not exist.
    """
    pending = list(PurePosixPath(path).parts)
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part in ("/", "", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            links += 1
            if links > _MAX_LINKS:
                raise SandboxError(f"too many symbolic links resolving {path} in {root}")
            target = PurePosixPath(os.readlink(candidate))
            if target.is_absolute():
                resolved = []
            pending = list(target.parts) + pending
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def generate_prompts(out_dir: Path) -> None:
    """Render every language's prompts and durations.json into `out_dir` (about 0.6 s)."""
    try:
        generated = generate(out_dir)
    except (PromptAudioError, ValueError) as exc:
        raise SandboxError(
            f"cannot generate the IVR prompts: {exc} (they need espeak-ng and sox: "
            "bash .ci/system-deps.sh, or apt-get install espeak-ng sox)"
        ) from exc
    recorded = sum(1 for source in generated.sources.values() if source == "recorded")
    logger.info(
        "IVR prompts rendered into %s (%d files, %d of them recordings)",
        out_dir,
        len(generated.sources),
        recorded,
    )


def install_prompts(root: Path, source_dir: Path) -> list[Path]:
    """Copy `source_dir/<lang>/line19-*.wav` into the root's sounds folders, world-readable
    (0644, owned by root); a `line19-*` file there that is no longer a prompt is removed.
    Returns the installed files."""
    installed: list[Path] = []
    for language in Language:
        target_dir = resolve_in_root(root, SOUNDS_DIR / language.value)
        target_dir.mkdir(parents=True, exist_ok=True)
        target_dir.chmod(0o755)
        expected = set()
        for name in PromptName:
            prompt = Prompt(name, language)
            source = source_dir / prompt.relative_path
            if not source.is_file():
                raise SandboxError(f"no prompt file {source}: generate the prompts first")
            target = target_dir / source.name
            partial = target_dir / f".{source.name}.partial"
            shutil.copyfile(source, partial)
            partial.chmod(0o644)
            os.replace(partial, target)
            expected.add(target.name)
            installed.append(target)
        for stale in target_dir.glob(f"{FILE_PREFIX}*"):
            if stale.name not in expected and stale.is_file():
                logger.info("removing %s, no longer a prompt", stale)
                stale.unlink()
    logger.info("installed %d IVR prompts into %s", len(installed), root / "usr/share/asterisk")
    return installed


__all__ = [
    "DURATIONS_FILE",
    "SOUNDS_DIR",
    "generate_prompts",
    "install_prompts",
    "resolve_in_root",
]
