"""The vocabulary of the IVR: languages, prompt names, prompt files and their durations.

A prompt is one audio file per language, `<lang>/line19-<name>.wav`, laid out the way
Asterisk looks sounds up by language (`sounds/<lang>/<file>`). `ivr.prompt_audio` renders
them and measures them; the flow reads the measured durations to stay within its time bound.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Language(enum.StrEnum):
    """The languages of the line. The values are the channel language names too."""

    AR = "ar"  # Moroccan Darija / Arabic, Arabic script
    FR = "fr"
    ZGH = "zgh"  # Standard Moroccan Tamazight (ISO 639-3 zgh)
    EN = "en"


class PromptName(enum.StrEnum):
    WELCOME = "welcome"
    LANGUAGE_MENU = "language_menu"  # one option of the menu, in its own language
    INVALID = "invalid"
    SILENT_CHECK = "silent_check"  # "press 5 if you cannot speak"
    STAY_ON_LINE = "stay_on_line"  # the queue announcement, played by the queue


# The language menu: each option is announced in its own language, in this order. The digits
# are spoken in the prompt texts: changing one means changing (or re-recording) the prompts.
MENU: Mapping[str, Language] = MappingProxyType(
    {"1": Language.AR, "2": Language.FR, "3": Language.ZGH, "4": Language.EN}
)
SILENT_DIGIT = "5"
DTMF_DIGITS = frozenset("0123456789*#ABCD")

FILE_PREFIX = "line19-"


@dataclass(frozen=True)
class Prompt:
    name: PromptName
    language: Language

    @property
    def asterisk_name(self) -> str:
        """What Playback/GET DATA take: relative to the sounds folder, no extension."""
        return f"{self.language.value}/{FILE_PREFIX}{self.name.value}"

    @property
    def relative_path(self) -> str:
        """Where `ivr.prompt_audio.generate` writes it, relative to its output folder."""
        return f"{self.asterisk_name}.wav"


# Used for a prompt missing from durations.json (not generated yet, a new language): the
# longest espeak-ng rendering of that prompt measured at 190 words a minute, rounded up.
NOMINAL_SECONDS: Mapping[PromptName, float] = MappingProxyType(
    {
        PromptName.WELCOME: 0.8,
        PromptName.LANGUAGE_MENU: 1.5,
        PromptName.INVALID: 2.0,
        PromptName.SILENT_CHECK: 2.2,
        PromptName.STAY_ON_LINE: 2.8,
    }
)

DURATIONS_VERSION = 1
MAX_PROMPT_SECONDS = 60.0


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: a duration must be a number, not {value!r}")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0.0 < seconds <= MAX_PROMPT_SECONDS:
        raise ValueError(f"{where}: {seconds} s is not a prompt duration")
    return seconds


@dataclass(frozen=True)
class PromptDurations:
    """Measured seconds per prompt; a prompt not measured counts as its nominal duration."""

    seconds: Mapping[Prompt, float] = field(default_factory=dict)

    def of(self, prompt: Prompt) -> float:
        return self.seconds.get(prompt, NOMINAL_SECONDS[prompt.name])

    def total(self, prompts: tuple[Prompt, ...]) -> float:
        return sum(self.of(prompt) for prompt in prompts)

    def to_dict(self) -> dict[str, Any]:
        by_language: dict[str, dict[str, float]] = {}
        for prompt, seconds in sorted(
            self.seconds.items(), key=lambda item: (item[0].language, item[0].name)
        ):
            by_language.setdefault(prompt.language.value, {})[prompt.name.value] = seconds
        return {"version": DURATIONS_VERSION, "durations": by_language}

    @classmethod
    def from_dict(cls, data: Any) -> PromptDurations:
        """Parse the `durations.json` document, strictly (extra `sources` are metadata)."""
        if not isinstance(data, dict):
            raise ValueError("durations: expected an object")
        unknown = set(data) - {"version", "durations", "sources"}
        if unknown:
            raise ValueError(f"durations: unknown keys {sorted(unknown)}")
        if data.get("version") != DURATIONS_VERSION:
            raise ValueError(f"durations: version {data.get('version')!r} is not supported")
        table = data.get("durations")
        if not isinstance(table, dict):
            raise ValueError("durations: 'durations' must be an object")
        seconds: dict[Prompt, float] = {}
        for lang, prompts in table.items():
            language = Language(lang) if lang in Language._value2member_map_ else None
            if language is None or not isinstance(prompts, dict):
                raise ValueError(f"durations: bad language entry {lang!r}")
            for name, value in prompts.items():
                if name not in PromptName._value2member_map_:
                    raise ValueError(f"durations: unknown prompt {lang}/{name!r}")
                prompt = Prompt(PromptName(name), language)
                seconds[prompt] = _seconds(value, f"durations: {lang}/{name}")
        return cls(MappingProxyType(seconds))
