"""What the models know about a video, for judging its clips: sentence embeddings and topic
segments (the text model), the prosody track (ffmpeg + numpy), exemplar vectors (hooks,
off-topic talk, Horizon's goal topics), engagement from the source's metadata, and the clips
already on the channel (for near-duplicates).

The decisions themselves are pure (``omniva.candidates``, ``omniva.topics``,
``cognitive_sensors.pantheon``); this module only feeds them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from cognitive_sensors.goals import Goals
from cognitive_sensors.pantheon import ChannelClips
from omniva.candidates import VideoContext, video_scores
from omniva.errors import ConfigError, MediaError
from omniva.picture import PictureTrack
from omniva.records import Analysis, Sentence, Transcript
from omniva.topics import TopicRules, segment
from omniva.vectors import from_bytes, to_bytes
from omniva_resources import media, nlp
from omniva_resources.picture_track import picture_track
from omniva_resources.textmodel import TextModel

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config" / "judgement.yaml"


@dataclass(frozen=True)
class Exemplars:
    hooks: tuple[str, ...]
    off_topic: tuple[str, ...]
    duplicate_similarity: float = 0.95


@cache
def load_exemplars(path: str | None = None) -> Exemplars:
    """``config/judgement.yaml`` or the file ``OMNIVA_JUDGEMENT_FILE`` names."""
    file = Path(path or DEFAULT_FILE)
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Judgement exemplars {file} could not be read: {exc}") from exc
    return Exemplars(
        hooks=tuple(str(h) for h in data.get("hooks") or ()),
        off_topic=tuple(str(h) for h in data.get("off_topic") or ()),
        duplicate_similarity=float(data.get("duplicate_similarity", 0.95)),
    )


def embed_sentences(model: TextModel, sentences: Sequence[Sentence]) -> np.ndarray:
    return model.embed([s.text for s in sentences]) if sentences else np.zeros((0, model.dim), np.float32)


def topic_segments(vectors: np.ndarray, sentences: Sequence[Sentence]) -> tuple[tuple[int, int], ...]:
    return segment(vectors, [s.start for s in sentences], [s.end for s in sentences], TopicRules())


def goal_vectors(goals: Goals, model: TextModel) -> dict[str, np.ndarray]:
    """Each goal topic's example sentences, embedded (one row per example)."""
    return {t: model.embed(list(ex)) for t, ex in sorted(goals.topics.items()) if ex}


def off_topic_vectors(model: TextModel, exemplars: Exemplars) -> np.ndarray | None:
    return model.embed(list(exemplars.off_topic)) if exemplars.off_topic else None


def nearest(examples: np.ndarray | None, vector: np.ndarray) -> float:
    """Cosine of ``vector`` to its nearest example (0.0 with none)."""
    return float(np.max(examples @ vector)) if examples is not None and len(examples) else 0.0


def goal_similarity(
    vectors: np.ndarray, goals: Goals, model: TextModel, exemplars: Exemplars
) -> float | None:
    """How much closer the video's sentences are to the nearest goal-topic example than to the
    nearest off-topic example: the mean cosine margin over ``vectors`` (one row per sentence);
    None without goal topics or sentences."""
    topics = goal_vectors(goals, model)
    if not topics or len(vectors) == 0:
        return None
    examples = np.concatenate(list(topics.values()))
    margins = (vectors @ examples.T).max(axis=1)
    null = off_topic_vectors(model, exemplars)
    if null is not None and len(null):
        margins = margins - (vectors @ null.T).max(axis=1)
    return round(float(margins.mean()), 4)


def understand(
    path: Path,
    video_key: str,
    transcript: Transcript,
    goals: Goals,
    model: TextModel,
    exemplars: Exemplars,
    engagement: dict | None = None,
    pipeline: str = nlp.DEFAULT_PIPELINE,
    noise_db: float = -35.0,
    tools: media.FFmpegTools = media.DEFAULT_TOOLS,
    duration_s: float | None = None,
) -> Analysis:
    """The ``analyses`` step outside Dagster too (the judgement benchmark): sentences, keywords
    and entities (spaCy), silences (ffmpeg), prosody, sentence embeddings and topic segments,
    the picture (shot boundaries, faces, motion) and the video's scores (goal relevance,
    engagement or pace)."""
    sentences, keywords, entities = nlp.analyze_text(transcript, pipeline)
    picture, picture_note = read_picture(path, tools)
    silences = media.detect_silences(path, noise_db, 0.4, tools)
    prosody = media.prosody_track(path, tools)
    vectors = embed_sentences(model, sentences)
    engagement = engagement or {}
    goal_sim = goal_similarity(vectors, goals, model, exemplars)
    duration = duration_s or media.probe(path, tools).duration_s or transcript.duration_s
    scores = video_scores(
        duration, silences, len(transcript.words), goal_sim, engagement.get("views"), engagement.get("likes")
    )
    return Analysis(
        video_key,
        sentences,
        keywords,
        entities,
        tuple(silences),
        scores.speech_ratio,
        scores.virality,
        scores.relevance,
        nlp.spacy_version(pipeline, transcript.language),
        language=transcript.language,
        text_model=model.label,
        sentence_vectors=to_bytes(vectors),
        vector_dim=model.dim,
        segments=topic_segments(vectors, sentences),
        prosody=prosody,
        picture=picture,
        picture_note=picture_note,
        scores_basis=f"virality from {scores.basis}; relevance from the goal-topic margin {goal_sim}",
    )


def read_picture(
    path: Path, tools: media.FFmpegTools = media.DEFAULT_TOOLS
) -> tuple[PictureTrack | None, str]:
    """The video's picture track and, when there is none, why: a sound-only source, or a
    picture stream ffmpeg cannot read (the words still judge the clips; the note says so)."""
    try:
        track = picture_track(path, tools=tools)
    except MediaError as exc:
        return None, f"picture unreadable: {exc}"
    return track, "" if track is not None else "no picture stream"


def video_context(
    analysis: Analysis,
    goals: Goals,
    model: TextModel,
    exemplars: Exemplars,
    heatmap: tuple[tuple[float, float, float], ...] = (),
) -> VideoContext:
    vectors = from_bytes(analysis.sentence_vectors, analysis.vector_dim)
    return VideoContext(
        language=analysis.language,
        sentence_vectors=vectors if len(vectors) == len(analysis.sentences) else None,
        segments=analysis.segments,
        hook_vectors=model.embed(list(exemplars.hooks)) if exemplars.hooks else None,
        goal_vectors=goal_vectors(goals, model),
        null_vectors=off_topic_vectors(model, exemplars),
        prosody=analysis.prosody,
        heatmap=heatmap,
        picture=getattr(analysis, "picture", None),
    )


def source_engagement(video_file: str, raw_metadata: dict) -> dict:
    """Views, likes and YouTube's most-replayed curve (yt-dlp's ``heatmap``) from the
    downloaded video's ``.info.json``, else the listing's metadata; empty when the source has
    none (a folder, an RSS feed)."""
    info: dict = {}
    sidecar = Path(video_file).with_suffix(".info.json")
    if sidecar.is_file():
        try:
            info = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            info = {}
    merged = {**raw_metadata, **info}
    heat = tuple(
        (float(h["start_time"]), float(h["end_time"]), float(h["value"]))
        for h in merged.get("heatmap") or ()
        if isinstance(h, dict) and {"start_time", "end_time", "value"} <= h.keys()
    )
    views, likes = merged.get("view_count"), merged.get("like_count")
    return {
        "heatmap": heat,
        "views": int(views) if isinstance(views, int | float) else None,
        "likes": int(likes) if isinstance(likes, int | float) else None,
    }


def channel_clips(rows: Sequence[dict], model: TextModel, exclude_video: str) -> ChannelClips:
    """The clips already on the channel (``rows``: clip_id, video_key, title or text), except
    those of ``exclude_video`` (the video being judged: re-judging it must not find itself)."""
    rows = [r for r in rows if r["video_key"] != exclude_video and (r.get("text") or "").strip()]
    if not rows:
        return ChannelClips()
    vectors = model.embed([r["text"] for r in rows])
    labels = tuple(f"clip {r['clip_id'][:8]} of {r['video_key']}" for r in rows)
    return ChannelClips(tuple(r["clip_id"] for r in rows), labels, vectors)
