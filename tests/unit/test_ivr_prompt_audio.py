"""Prompt texts, and their rendering by the real espeak-ng and sox into 8 kHz WAV files.

These run the Debian tools (`apt-get install espeak-ng sox`): a few hundred milliseconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
import wave
from pathlib import Path
from typing import Any

import pytest

from ivr.catalog import Language, Prompt, PromptDurations, PromptName
from ivr.flow import IntakeFlow, Step
from ivr.prompt_audio import (
    DURATIONS_FILE,
    RECORDED_DIR,
    PromptAudioError,
    check_wav,
    generate,
    load_texts,
    main,
    parse_texts,
    read_durations,
)
from ivr.rehearsal import rehearse, worst_case


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox", "soxi") if shutil.which(tool) is None]
    if missing:  # fail loudly: the prompts are part of the product
        pytest.fail(f"{missing} not installed: apt-get install espeak-ng sox")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prompts")
    empty = tmp_path_factory.mktemp("no-recordings")
    generate(out, recorded_dir=empty)
    return out


def espeak_voices() -> set[str]:
    listing = subprocess.run(
        ["espeak-ng", "--voices"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[1] for line in listing.splitlines()[1:] if line.strip()}


# --- the texts


def test_every_language_has_every_prompt() -> None:
    texts = load_texts()
    assert set(texts) == set(Language)
    for lang_texts in texts.values():
        assert set(lang_texts.written) == set(PromptName)
        assert set(lang_texts.spoken) == set(PromptName)


def test_the_darija_arabic_prompts_are_in_arabic_script() -> None:
    for text in load_texts()[Language.AR].written.values():
        letters = [c for c in text if c.isalpha()]
        assert letters and all("ARABIC" in unicodedata.name(c) for c in letters), text


def test_every_voice_the_texts_name_exists_in_espeak_ng() -> None:
    voices = espeak_voices()
    for lang_texts in load_texts().values():
        assert lang_texts.voice in voices, lang_texts.voice


def test_tamazight_has_no_espeak_voice_and_documents_its_fallback() -> None:
    voices = espeak_voices()
    assert not voices & {"zgh", "tzm", "shi", "rif", "kab", "ber"}
    zgh = load_texts()[Language.ZGH]
    assert zgh.fallback and zgh.voice == "fr-fr"
    assert zgh.spoken != zgh.written  # respelled for the French voice


def test_the_menu_options_say_their_own_digit() -> None:
    written = {lang: t.written[PromptName.LANGUAGE_MENU] for lang, t in load_texts().items()}
    assert "واحد" in written[Language.AR]
    assert "deux" in written[Language.FR]
    assert "kraḍ" in written[Language.ZGH]
    assert "four" in written[Language.EN]


def valid_texts() -> dict[str, Any]:
    prompts = {name.value: "x" for name in PromptName}
    return {
        lang.value: {"name": lang.value, "voice": "fr", "prompts": dict(prompts)}
        for lang in Language
    }


@pytest.mark.parametrize(
    "breakage",
    [
        lambda t: t.pop("zgh"),
        lambda t: t.update(de=t["fr"]),
        lambda t: t["fr"]["prompts"].pop("silent_check"),
        lambda t: t["fr"]["prompts"].update(goodbye="x"),
        lambda t: t["fr"]["prompts"].update(welcome=""),
        lambda t: t["fr"]["prompts"].update(welcome=7),
        lambda t: t["fr"]["prompts"].update(welcome="x" * 301),
        lambda t: t["fr"].update(speed=5),
        lambda t: t["fr"].update(speed=True),
        lambda t: t["fr"].update(colour="blue"),
        lambda t: t["fr"].update(spoken={"nope": "x"}),
        lambda t: t["fr"].pop("voice"),
    ],
)
def test_broken_texts_are_refused(breakage: Any) -> None:
    texts = valid_texts()
    parse_texts(texts)
    breakage(texts)
    with pytest.raises(PromptAudioError):
        parse_texts(texts)


# --- the audio


def test_every_prompt_is_an_8khz_mono_16bit_pcm_wav_where_asterisk_looks_for_it(
    generated: Path,
) -> None:
    for lang in Language:
        for name in PromptName:
            path = generated / lang.value / f"line19-{name.value}.wav"
            check_wav(path)
            with wave.open(str(path)) as wav:
                assert wav.getcomptype() == "NONE"
                assert wav.getnframes() > 0.2 * 8000
            # format_wav wants WAVE_FORMAT_PCM (1) in a 16-byte fmt chunk
            header = path.read_bytes()[12:24]
            assert header[:4] == b"fmt " and header[4:8] == (16).to_bytes(4, "little")
            assert header[8:10] == (1).to_bytes(2, "little")


def test_the_durations_file_holds_every_prompt_as_measured_by_soxi(generated: Path) -> None:
    durations = read_durations(generated / DURATIONS_FILE)
    assert len(durations.seconds) == len(Language) * len(PromptName)
    path = generated / "fr" / "line19-silent_check.wav"
    soxi = float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True).stdout)
    assert durations.of(Prompt(PromptName.SILENT_CHECK, Language.FR)) == pytest.approx(
        soxi, abs=1e-3
    )
    sources = json.loads((generated / DURATIONS_FILE).read_text())["sources"]
    assert sources["zgh"]["welcome"] == "espeak-ng fr-fr"
    assert sources["ar"]["welcome"] == "espeak-ng ar"


def test_the_generated_prompts_leave_room_for_the_silent_check_in_every_default_language(
    generated: Path,
) -> None:
    durations = read_durations(generated / DURATIONS_FILE)
    for lang in Language:
        flow = IntakeFlow(default_language=lang, durations=durations)
        run = rehearse(flow)
        assert run.steps[:2] == (Step.MENU, Step.SILENT_CHECK), lang
        assert worst_case(flow).outcome.elapsed_s <= flow.bound_s


def test_a_recorded_file_wins_over_the_synthesized_one(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    (recorded / "fr").mkdir(parents=True)
    # a studio recording: 44.1 kHz stereo, with silence around 1.5 s of sound
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(recorded / "fr" / "line19-welcome.wav"),
         "synth", "1.5", "sine", "440", "pad", "0.3", "0.4"],
        check=True,
    )  # fmt: skip
    out = tmp_path / "out"
    result = generate(out, ["fr"], recorded_dir=recorded)
    welcome = Prompt(PromptName.WELCOME, Language.FR)
    assert result.sources[welcome] == "recorded"
    assert result.sources[Prompt(PromptName.INVALID, Language.FR)] == "espeak-ng fr-fr"
    assert result.durations.of(welcome) == pytest.approx(1.5, abs=0.05)  # silence trimmed
    check_wav(out / "fr" / "line19-welcome.wav")


def test_a_subset_of_languages_writes_only_those(tmp_path: Path) -> None:
    result = generate(tmp_path, ["en"], recorded_dir=tmp_path / "none")
    assert {prompt.language for prompt in result.durations.seconds} == {Language.EN}
    assert not (tmp_path / "fr").exists()


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, ["de"])


def test_a_missing_tool_gives_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptAudioError, match="apt-get install espeak-ng sox"):
        generate(tmp_path / "out", ["fr"], recorded_dir=tmp_path)


def test_a_silent_recording_is_refused(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    (recorded / "en").mkdir(parents=True)
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", str(recorded / "en" / "line19-invalid.wav"),
         "trim", "0", "2"],
        check=True,
    )  # fmt: skip
    with pytest.raises(PromptAudioError):
        generate(tmp_path / "out", ["en"], recorded_dir=recorded)


def test_the_shipped_recordings_folder_holds_only_prompt_files() -> None:
    expected = {Prompt(n, lang).relative_path for lang in Language for n in PromptName}
    for path in RECORDED_DIR.rglob("*.wav"):
        assert path.relative_to(RECORDED_DIR).as_posix() in expected


def test_the_command_line_generates_and_reports_the_worst_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path), "--languages", "fr,en"]) == 0
    report = capsys.readouterr().out
    assert "silent_check" in report and "worst case" in report
    assert (tmp_path / "en" / "line19-stay_on_line.wav").is_file()
    assert main([str(tmp_path), "--languages", "de"]) == 1


# --- the durations document


def test_durations_round_trip() -> None:
    durations = PromptDurations.from_dict(
        {"version": 1, "durations": {"fr": {"welcome": 0.5}, "ar": {"invalid": 1.25}}}
    )
    assert PromptDurations.from_dict(durations.to_dict()) == durations


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"durations": {}},
        {"version": 2, "durations": {}},
        {"version": 1, "durations": []},
        {"version": 1, "durations": {}, "extra": 1},
        {"version": 1, "durations": {"de": {"welcome": 1.0}}},
        {"version": 1, "durations": {"fr": {"goodbye": 1.0}}},
        {"version": 1, "durations": {"fr": {"welcome": "1.0"}}},
        {"version": 1, "durations": {"fr": {"welcome": True}}},
        {"version": 1, "durations": {"fr": {"welcome": 0}}},
        {"version": 1, "durations": {"fr": {"welcome": -1.0}}},
        {"version": 1, "durations": {"fr": {"welcome": float("nan")}}},
        {"version": 1, "durations": {"fr": {"welcome": 3600.0}}},
        {"version": 1, "durations": {"fr": []}},
    ],
)
def test_a_bad_durations_document_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        PromptDurations.from_dict(data)


def test_an_unreadable_durations_file_is_a_prompt_audio_error(tmp_path: Path) -> None:
    with pytest.raises(PromptAudioError):
        read_durations(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PromptAudioError):
        read_durations(tmp_path / "bad.json")
