"""`omniva transcribe` with the real whisperx + bundled faster-whisper model."""

import json
import re
import subprocess
import sys
import wave

import jiwer
import pytest


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]", " ", text.lower())).strip()


@pytest.fixture(scope="module")
def jfk(fixtures):
    out = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", "transcribe", str(fixtures / "jfk.flac"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout)


def test_jfk_word_error_rate(jfk, fixtures):
    reference = _normalise((fixtures / "jfk.txt").read_text())
    wer = jiwer.wer(reference, _normalise(jfk["text"]))
    assert wer <= 0.15, (wer, jfk["text"])
    assert jfk["language"] == "en" and jfk["model"]


def test_jfk_word_times_inside_the_audio(jfk):
    words = jfk["words"]
    assert len(words) >= 15
    assert all(0 <= w["start"] <= w["end"] <= 11.0 + 0.05 for w in words)
    assert all(a["start"] <= b["start"] for a, b in zip(words, words[1:], strict=False))
    assert {"word", "start", "end"} <= set(words[0])


def test_silence_is_a_clear_error(tmp_path):
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000 * 3)
    out = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", "transcribe", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2
    assert "silence.wav" in out.stderr and "no speech" in out.stderr
