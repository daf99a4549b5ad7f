"""The prompt audio Twilio plays, served by the gateway, and the text fallback.

The files are the ones `python -m ivr.prompt_audio DIR` generates for Asterisk
(`DIR/<lang>/line19-<prompt>.wav`, 8 kHz mono PCM, which Twilio plays as is). A prompt whose
file is missing is spoken by Twilio's `<Say>` instead, from `ivr/prompts/texts.toml`: the
text as written, or the respelling given to the fallback voice (Tamazight has no voice at
Twilio either; see `SAY` in gateway/twilio/mapping.py).
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from ivr.catalog import Language, Prompt, PromptDurations, PromptName
from ivr.prompt_audio import (
    DURATIONS_FILE,
    TEXTS_PATH,
    LanguageTexts,
    PromptAudioError,
    load_texts,
    read_durations,
)

logger = logging.getLogger(__name__)


def prompt_of(language: str, name: str) -> Prompt | None:
    """The prompt a URL names, or None (the values are checked against the catalog, so a
    URL can never name a path outside the prompts folder)."""
    if language not in Language._value2member_map_ or name not in PromptName._value2member_map_:
        return None
    return Prompt(PromptName(name), Language(language))


class PromptLibrary:
    def __init__(self, prompts_dir: Path, texts_path: Path = TEXTS_PATH) -> None:
        self.prompts_dir = prompts_dir
        self._texts_path = texts_path

    def path(self, prompt: Prompt) -> Path | None:
        """The audio file, if it is there (checked on every use: files can be dropped in)."""
        path = self.prompts_dir / prompt.relative_path
        return path if path.is_file() else None

    def durations(self) -> PromptDurations:
        """The measured durations, for the flow's time bound; nominal ones without them."""
        path = self.prompts_dir / DURATIONS_FILE
        if not path.is_file():
            logger.warning("no %s: the Twilio IVR uses nominal prompt durations", path)
            return PromptDurations()
        try:
            return read_durations(path)
        except (PromptAudioError, ValueError) as exc:
            logger.warning("%s unusable (%s): nominal prompt durations", path, exc)
            return PromptDurations()

    @cached_property
    def _texts(self) -> dict[Language, LanguageTexts]:
        return load_texts(self._texts_path)

    def text(self, prompt: Prompt) -> str:
        """What `<Say>` speaks when the file is missing: what the voice is given."""
        return self._texts[prompt.language].spoken[prompt.name]
