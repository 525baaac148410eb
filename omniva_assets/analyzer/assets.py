"""The Analyzer: words (whisperx), language (spaCy), silences (ffmpeg), clip candidates and
the Pantheon vote."""

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import dagster as dg

from cognitive_sensors import halolux, stardust
from cognitive_sensors.goals import mix_gap
from cognitive_sensors.pantheon import council, select_clips
from omniva.candidates import CandidateRules, extract_candidates, video_scores
from omniva.records import Analysis, Candidate, Selection, Transcript, Video, stable_id
from omniva_assets.analyzer import checks
from omniva_assets.common import Lineage, emit, user_errors, week_topic_counts
from omniva_assets.partitions import videos_partitions
from omniva_resources import asr, media, nlp
from omniva_resources.resources import (
    AsrResource,
    ClipRules,
    HorizonGoals,
    MediaTools,
    NlpResource,
    OmnivaStore,
)


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"whisperx"},
    code_version="1",
    pool="asr",
    check_specs=[checks.NO_NEAR_DUPLICATE_SPEECH],
)
def transcripts(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    asr_model: AsrResource,
    media_tools: MediaTools,
    videos: Video,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Every spoken word with its start and end time (whisperx; model configurable)."""
    settings = asr_model.settings()
    with user_errors(context, store):
        transcript = asr.transcribe(Path(videos.file_path), settings, media_tools.tools())
    lineage = Lineage.of_video(
        videos,
        "transcripts",
        videos.video_id,
        inputs={"video": videos.sha256},
        tools={"asr_model": transcript.model, "asr_backend": transcript.backend},
        params={**asdict(settings), "word_timing_used": transcript.word_timing},
    )
    metadata = {
        "language": transcript.language,
        "model": transcript.model,
        "word_timing": transcript.word_timing,
        "words": len(transcript.words),
        "asr_loads_in_process": asr.LOAD_COUNT["asr"],
        "preview": dg.MetadataValue.md(transcript.text[:600]),
    }
    version = dg.DataVersion(stable_id(videos.sha256, json.dumps(asdict(settings), sort_keys=True)))
    tables = {"transcripts": [transcript.row(videos.video_key, stardust.now_iso())]}
    yield emit(context, store, transcript, lineage, tables, metadata, version)
    yield checks.no_near_duplicate_speech(store, videos, transcript)


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"spacy", "ffmpeg"},
    code_version="1",
)
def analyses(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    nlp_model: NlpResource,
    clip_rules: ClipRules,
    media_tools: MediaTools,
    videos: Video,
    transcripts: Transcript,
) -> dg.Output[Analysis]:
    """Sentences with times, keywords and entities (spaCy), and silent spans (ffmpeg silencedetect)."""
    with user_errors(context, store):
        sentences, keywords, entities = nlp.analyze_text(transcripts, nlp_model.pipeline)
        silences = media.detect_silences(
            Path(videos.file_path), clip_rules.silence_noise_db, 0.4, media_tools.tools()
        )
    duration = videos.duration_s or transcripts.duration_s
    scores = video_scores(duration, silences, len(transcripts.words), len(entities), len(keywords))
    analysis = Analysis(
        videos.video_key,
        sentences,
        keywords,
        entities,
        tuple(silences),
        scores.speech_ratio,
        scores.virality,
        scores.relevance,
        nlp.spacy_version(nlp_model.pipeline),
    )
    lineage = Lineage.of_video(
        videos,
        "analysis",
        analysis.analysis_id,
        inputs={"video": videos.sha256},
        tools={"spacy": analysis.nlp_pipeline},
        params={"silence_noise_db": clip_rules.silence_noise_db},
    )
    metadata = {
        "sentences": len(sentences),
        "keywords": ", ".join(keywords),
        "entities": len(entities),
        "silences": len(silences),
        "speech_ratio": scores.speech_ratio,
        "virality_score": scores.virality,
    }
    tables = {"analysis": [analysis.row(transcripts.text, stardust.now_iso())]}
    return emit(context, store, analysis, lineage, tables, metadata, stardust.content_version(analysis))


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"python"},
    code_version="1",
)
def clip_candidates(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    videos: Video,
    transcripts: Transcript,
    analyses: Analysis,
) -> dg.Output[list[Candidate]]:
    """Windows of whole sentences (5-120 s by default) with their features and score."""
    rules = CandidateRules(
        min_s=clip_rules.min_clip_s, max_s=clip_rules.max_clip_s, target_s=clip_rules.target_clip_s
    )
    found = extract_candidates(
        videos.video_key,
        analyses.sentences,
        transcripts.words,
        analyses.silences,
        analyses.keywords,
        videos.duration_s,
        rules,
    )
    if not found:
        context.log.warning(f"{videos.video_key}: no clip candidates (speech too short or fragmented)")
    lineage = Lineage.of_video(
        videos,
        "analysis",
        analyses.analysis_id,
        params=asdict(rules),
        decision=f"{len(found)} candidate window(s)"
        if found
        else f"no window of whole sentences between {rules.min_s:.0f} and {rules.max_s:.0f} s",
    )
    metadata = {"candidates": len(found), "best_score": found[0].score if found else 0.0}
    return emit(context, store, found, lineage, None, metadata, stardust.content_version(found))


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"python"},
    code_version="1",
    check_specs=[checks.NO_OVERLAPPING_CLIPS, checks.PANTHEON_QUORUM],
)
def clip_selections(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    horizon: HorizonGoals,
    videos: Video,
    clip_candidates: list[Candidate],
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Pantheon's vote: every agent scores every candidate with a reason; the best
    non-overlapping ones with quorum and no veto become ranked clips (the creator's project's
    goals, if it has its own)."""
    goals = horizon.goals_for(videos.creator, store.layout)
    counts = week_topic_counts(store, goals)
    gap = mix_gap(goals, counts)
    cfg, agents = council(goals, gap, clip_rules.max_clips_per_video)
    selection: Selection = select_clips(videos.video_key, clip_candidates, cfg, agents)
    decision = halolux.selection_markdown(selection, len(clip_candidates))
    lineage = Lineage.of_video(
        videos,
        "clips",
        stable_id("selection", videos.video_key),
        params={
            "quorum": cfg.quorum,
            "max_clips": cfg.max_clips,
            "weights": cfg.weights,
            "horizon_week_mix": counts,
            "horizon_gap": gap,
        },
        decision=decision,
    )
    tables = {
        "clip_candidates": selection.candidate_rows(clip_candidates),
        "pantheon_votes": selection.vote_rows(clip_candidates),
    }
    metadata = {
        "selected": len(selection.clips),
        "ranks": dg.MetadataValue.json([c.rank for c in selection.clips]),
        "halolux": dg.MetadataValue.md(decision),
    }
    yield emit(context, store, selection, lineage, tables, metadata, stardust.content_version(selection))
    yield from checks.selection_checks(selection, videos.duration_s, cfg.weights)
