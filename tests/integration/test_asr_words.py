"""Real recordings through the real recogniser: no word is left split into pieces.

faster-whisper hands a hyphenated name in the French FLEURS fixture over as " Jean" + "-Carlos"
(measured with bundled:base); the transcript must read it as one word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omniva_resources import asr

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
SPLIT = re.compile(r"[^\W_]\s+[-‐'’][^\W_]")


@pytest.mark.parametrize("name", ["fr_fleurs_005.ogg", "jfk.flac", "pyannote_sample.wav"])
def test_no_word_of_a_transcript_is_split_into_pieces(name):
    transcript = asr.transcribe(MEDIA / name)
    assert transcript.words
    assert not [w.word for w in transcript.words if w.word.startswith(("-", "‐", "'", "’"))]
    assert not SPLIT.search(transcript.text), transcript.text
    for w in transcript.words:
        assert w.start <= w.end
