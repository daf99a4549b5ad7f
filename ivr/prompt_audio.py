"""Render the IVR prompts to the audio files Asterisk and Twilio play, and measure them.

The one module of `ivr` that does I/O. For each language and prompt of `prompts/texts.toml`:
a recording at `prompts/recorded/<lang>/line19-<prompt>.wav` if there is one, otherwise the
text spoken by espeak-ng; either one converted by sox to 8 kHz mono 16-bit signed PCM WAV
(what Asterisk's format_wav plays), its leading and trailing silence trimmed and its peak
normalised to -3 dBFS, written to `<out_dir>/<lang>/line19-<prompt>.wav`. The durations,
measured with `soxi -D`, go to `<out_dir>/durations.json`, which the flow reads
(`read_durations`) to keep the IVR within its bound.

    python -m ivr.prompt_audio OUT_DIR [--languages ar,fr,zgh,en]

Needs the Debian packages espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import wave
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ivr.catalog import (
    Language,
    Prompt,
    PromptDurations,
    PromptName,
)
from ivr.flow import IntakeFlow, Step
from ivr.rehearsal import rehearse, worst_case

logger = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).parent / "prompts"
TEXTS_PATH = PROMPTS_DIR / "texts.toml"
RECORDED_DIR = PROMPTS_DIR / "recorded"
DURATIONS_FILE = "durations.json"

SAMPLE_RATE = 8000
# Trim what is quieter than 0.5 % of full scale at both ends; normalise the peak to -3 dBFS.
_SOX_EFFECTS = (
    "gain", "-n", "-3",
    "silence", "1", "0.02", "0.5%",
    "reverse", "silence", "1", "0.02", "0.5%", "reverse",
)  # fmt: skip
_TOOL_TIMEOUT_S = 60
MIN_PROMPT_S = 0.2
MAX_TEXT_CHARS = 300


class PromptAudioError(RuntimeError):
    """The prompts could not be produced (a missing tool, a bad text, a bad recording)."""


@dataclass(frozen=True)
class LanguageTexts:
    language: Language
    name: str
    voice: str  # the espeak-ng voice
    speed: int  # words a minute
    written: Mapping[PromptName, str]  # the text as written: what a recording reads
    spoken: Mapping[PromptName, str]  # what the voice is given
    fallback: str | None  # why another language's voice reads it, if it does


_LANGUAGE_KEYS = frozenset({"name", "voice", "speed", "fallback", "prompts", "spoken"})


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_CHARS:
        raise PromptAudioError(f"{where}: expected a text of 1 to {MAX_TEXT_CHARS} characters")
    return value.strip()


def _prompt_table(value: Any, where: str, *, complete: bool) -> dict[PromptName, str]:
    if not isinstance(value, dict):
        raise PromptAudioError(f"{where}: expected a table of prompts")
    names = set(PromptName._value2member_map_)
    if set(value) - names:
        raise PromptAudioError(f"{where}: unknown prompts {sorted(set(value) - names)}")
    if complete and set(value) != names:
        raise PromptAudioError(f"{where}: missing prompts {sorted(names - set(value))}")
    return {PromptName(name): _text(text, f"{where}.{name}") for name, text in value.items()}


def parse_texts(data: Mapping[str, Any]) -> dict[Language, LanguageTexts]:
    """Validate the parsed texts.toml: every language, every prompt, nothing else."""
    if set(data) != set(Language._value2member_map_):
        raise PromptAudioError(
            f"texts: expected the languages {sorted(Language)}, found {sorted(data)}"
        )
    texts: dict[Language, LanguageTexts] = {}
    for lang, table in data.items():
        if not isinstance(table, dict) or set(table) - _LANGUAGE_KEYS:
            raise PromptAudioError(f"texts.{lang}: expected the keys {sorted(_LANGUAGE_KEYS)}")
        speed = table.get("speed", 175)
        if isinstance(speed, bool) or not isinstance(speed, int) or not 80 <= speed <= 450:
            raise PromptAudioError(f"texts.{lang}.speed: expected 80 to 450 words a minute")
        fallback = table.get("fallback")
        written = _prompt_table(table.get("prompts"), f"texts.{lang}.prompts", complete=True)
        spoken = _prompt_table(table.get("spoken", {}), f"texts.{lang}.spoken", complete=False)
        texts[Language(lang)] = LanguageTexts(
            language=Language(lang),
            name=_text(table.get("name"), f"texts.{lang}.name"),
            voice=_text(table.get("voice"), f"texts.{lang}.voice"),
            speed=speed,
            written=MappingProxyType(written),
            spoken=MappingProxyType({**written, **spoken}),
            fallback=None if fallback is None else _text(fallback, f"texts.{lang}.fallback"),
        )
    return texts


def load_texts(path: Path = TEXTS_PATH) -> dict[Language, LanguageTexts]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PromptAudioError(f"cannot read the prompt texts {path}: {exc}") from exc
    return parse_texts(data)


# --- the tools


def _run(args: Sequence[str], *, stdin: str | None = None) -> str:
    tool = shutil.which(args[0])
    if tool is None:
        raise PromptAudioError(f"{args[0]} is not installed (apt-get install espeak-ng sox)")
    try:
        done = subprocess.run(
            [tool, *args[1:]],
            input=None if stdin is None else stdin.encode("utf-8"),
            capture_output=True,
            timeout=_TOOL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PromptAudioError(f"{args[0]} took more than {_TOOL_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        raise PromptAudioError(f"{' '.join(args[:3])} … failed ({done.returncode}): {error}")
    return done.stdout.decode("utf-8", "replace")


def synthesize(text: str, voice: str, speed: int, out_wav: Path) -> None:
    """Speak `text` with espeak-ng into a WAV file (22 kHz; `convert` makes it 8 kHz)."""
    # The text goes in on stdin (UTF-8), so that no text can be read as an option.
    _run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-b", "1", "-w", str(out_wav), "--stdin"],
        stdin=text,
    )


def convert(source: Path, out_wav: Path) -> None:
    """Any audio sox reads → 8 kHz mono 16-bit signed PCM WAV, trimmed and normalised."""
    output = ("-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav")
    _run(["sox", "-D", "-V1", str(source), *output, str(out_wav), *_SOX_EFFECTS])


def measure(path: Path) -> float:
    """The duration in seconds, by `soxi -D`."""
    output = _run(["soxi", "-D", str(path)]).strip()
    try:
        return float(output)
    except ValueError as exc:
        raise PromptAudioError(f"soxi -D {path}: unexpected answer {output!r}") from exc


def check_wav(path: Path) -> None:
    """The format Asterisk's format_wav plays: plain PCM, 8 kHz, mono, 16 bits."""
    try:
        with wave.open(str(path), "rb") as wav:
            shape = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
    except (OSError, EOFError, wave.Error) as exc:
        raise PromptAudioError(f"{path}: not a PCM WAV file: {exc}") from exc
    if shape != (SAMPLE_RATE, 1, 2):
        raise PromptAudioError(f"{path}: {shape} is not 8 kHz mono 16-bit")


# --- generation


@dataclass(frozen=True)
class Generated:
    durations: PromptDurations
    sources: Mapping[Prompt, str]  # "recorded" or "espeak-ng <voice>"


def _languages(languages: Iterable[Language | str] | None) -> list[Language]:
    if languages is None:
        return list(Language)
    chosen = [Language(lang) for lang in languages]  # ValueError on an unknown one
    return [lang for lang in Language if lang in chosen]


def _warn_unused_recordings(recorded_dir: Path) -> None:
    expected = {Prompt(name, lang).relative_path for lang in Language for name in PromptName}
    if not recorded_dir.is_dir():
        return
    for path in sorted(recorded_dir.rglob("*")):
        relative = path.relative_to(recorded_dir).as_posix()
        if path.is_file() and path.suffix == ".wav" and relative not in expected:
            logger.warning("recording %s matches no prompt and is not used", path)


def generate(
    out_dir: Path | str,
    languages: Iterable[Language | str] | None = None,
    *,
    texts_path: Path = TEXTS_PATH,
    recorded_dir: Path = RECORDED_DIR,
) -> Generated:
    """Write `<out_dir>/<lang>/line19-<prompt>.wav` for every prompt of `languages` (all by
    default) and `<out_dir>/durations.json` for those languages."""
    out = Path(out_dir)
    texts = load_texts(texts_path)
    _warn_unused_recordings(recorded_dir)
    seconds: dict[Prompt, float] = {}
    sources: dict[Prompt, str] = {}
    with tempfile.TemporaryDirectory(prefix="line19-prompts-") as work_dir:
        work = Path(work_dir)
        for language in _languages(languages):
            lang_texts = texts[language]
            (out / language.value).mkdir(parents=True, exist_ok=True)
            for name in PromptName:
                prompt = Prompt(name, language)
                recorded = recorded_dir / prompt.relative_path
                if recorded.is_file():
                    source, sources[prompt] = recorded, "recorded"
                else:
                    source = work / f"{language.value}-{name.value}.wav"
                    synthesize(lang_texts.spoken[name], lang_texts.voice, lang_texts.speed, source)
                    sources[prompt] = f"espeak-ng {lang_texts.voice}"
                target = out / prompt.relative_path
                partial = target.with_name(f".{target.name}.partial")
                convert(source, partial)
                check_wav(partial)
                duration = measure(partial)
                if duration < MIN_PROMPT_S:
                    partial.unlink()
                    raise PromptAudioError(f"{source}: only {duration:.2f} s left after trimming")
                os.replace(partial, target)
                seconds[prompt] = round(duration, 3)
    durations = PromptDurations(MappingProxyType(seconds))
    document = durations.to_dict()
    document["sources"] = {
        lang: {name: sources[Prompt(PromptName(name), Language(lang))] for name in by_name}
        for lang, by_name in document["durations"].items()
    }
    partial = out / f".{DURATIONS_FILE}.partial"
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(partial, out / DURATIONS_FILE)
    return Generated(durations=durations, sources=MappingProxyType(sources))


def read_durations(path: Path | str) -> PromptDurations:
    """The measured durations (`<out_dir>/durations.json`) for `IntakeFlow(durations=...)`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromptAudioError(f"cannot read the prompt durations {path}: {exc}") from exc
    return PromptDurations.from_dict(data)


# --- command line


def _report(generated: Generated) -> str:
    lines = ["prompt durations (s):"]
    header = "  " + "lang".ljust(6) + "".join(name.value.rjust(15) for name in PromptName)
    lines.append(header)
    for language in Language:
        row = [generated.durations.seconds.get(Prompt(name, language)) for name in PromptName]
        if any(value is not None for value in row):
            cells = "".join(("-" if v is None else f"{v:.2f}").rjust(15) for v in row)
            lines.append("  " + language.value.ljust(6) + cells)
    for language in Language:
        flow = IntakeFlow(default_language=language, durations=generated.durations)
        lines.append(f"\ncaller pressing nothing, trunk default {language.value}:")
        silent = rehearse(flow)
        lines.append(silent.describe())
        if Step.SILENT_CHECK not in silent.steps:
            lines.append(f"WARNING: no room for the silent check within {flow.bound_s} s")
            logger.warning("%s: the prompts leave no room for the silent check", language)
        lines.append(f"worst case over all answers: {worst_case(flow).outcome.elapsed_s:.2f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ivr.prompt_audio",
        description="Render the Line 19 IVR prompts (espeak-ng + sox, or recordings).",
    )
    parser.add_argument("out_dir", type=Path, help="writes OUT_DIR/<lang>/line19-<prompt>.wav")
    parser.add_argument(
        "--languages",
        default=",".join(Language),
        help="comma-separated languages (default: %(default)s)",
    )
    parser.add_argument("--texts", type=Path, default=TEXTS_PATH, help=argparse.SUPPRESS)
    parser.add_argument("--recorded", type=Path, default=RECORDED_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
        generated = generate(
            args.out_dir, languages, texts_path=args.texts, recorded_dir=args.recorded
        )
    except (PromptAudioError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(_report(generated))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
