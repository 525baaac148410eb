"""The Analyzer: words (whisperx), language (spaCy), silences (ffmpeg), clip candidates and
the Pantheon vote."""

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import dagster as dg

from cognitive_sensors import halolux
from cognitive_sensors.goals import mix_gap
from cognitive_sensors.pantheon import agent_stats, council, select_clips
from omniva import contracts, picture
from omniva.candidates import CandidateRules, extract_candidates
from omniva.records import Analysis, Candidate, Selection, Transcript, Video, stable_id
from omniva_assets import stardust_meta as stardust
from omniva_assets.analyzer import checks
from omniva_assets.common import (
    Lineage,
    engagement_of,
    launched_by_daemon,
    recorded,
    week_topic_counts,
    with_user_errors,
)
from omniva_assets.partitions import clip_key, register_clips, videos_partitions
from omniva_resources import asr, asr_worker, creators, judgement, projects
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
@with_user_errors
def transcripts(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    asr_model: AsrResource,
    media_tools: MediaTools,
    videos: Video,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Every spoken word with its start and end time (whisperx; model configurable)."""
    settings = asr_model.settings()
    pinned = creators.language_of(store.layout, videos.creator)
    if pinned:  # the creator's registered language: no detection
        settings = dataclasses.replace(settings, language=pinned)
    elif settings.language is None:  # an unsure detection may fall back on the creator's usual language
        counts = store.warehouse.query_file("creator_languages", [videos.creator, videos.video_key])
        usual = asr.usual_language_of([(r["language"], int(r["videos"])) for r in counts])
        settings = dataclasses.replace(settings, usual_language=usual)
    # Launched by the daemon, each run is a process of its own: the long-lived worker keeps
    # the models loaded across the runs of a backfill.
    if asr_model.use_worker(launched_by_daemon=launched_by_daemon(context)):
        answer = asr_worker.transcribe(
            store.layout.home,
            Path(videos.file_path),
            settings,
            media_tools.tools(),
            asr_model.worker_idle_s,
        )
        transcript = answer.transcript
        loads = {"asr_worker_pid": answer.pid, "asr_loads_in_worker": answer.loads}
    else:
        transcript = asr.transcribe(Path(videos.file_path), settings, media_tools.tools())
        loads = {"asr_loads_in_process": asr.LOAD_COUNT["asr"]}
    lineage = Lineage.of_video(
        videos,
        "transcripts",
        videos.video_id,
        inputs={"video": videos.sha256},
        tools={"asr_model": transcript.model, "asr_backend": transcript.backend},
        params={**asdict(settings), "word_timing_used": transcript.word_timing},
    )
    probability = transcript.language_probability
    from_usual = probability is not None and probability < settings.min_language_probability
    metadata = {
        "language": transcript.language,
        "language_probability": probability if probability is not None else "pinned",
        # detection was unsure and the creator's usual language decided (asr.detect_language)
        "language_from": "the creator's usual language"
        if from_usual
        else ("pinned" if probability is None else "detected"),
        "model": transcript.model,
        "word_timing": transcript.word_timing,
        "words": len(transcript.words),
        **loads,
        "preview": dg.MetadataValue.md(transcript.text[:600]),
    }
    # The usual language is part of the version only where it decided the language.
    versioned = settings if from_usual else dataclasses.replace(settings, usual_language=None)
    version = dg.DataVersion(stable_id(videos.sha256, json.dumps(asdict(versioned), sort_keys=True)))
    tables = {"transcripts": [transcript.row(videos.video_key, stardust.now_iso())]}
    yield recorded(transcript, lineage, tables, metadata, version)
    yield checks.no_near_duplicate_speech(store, videos, transcript)


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"spacy", "ffmpeg", "numpy", "opencv"},
    code_version="3",
)
@with_user_errors
def analyses(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    nlp_model: NlpResource,
    clip_rules: ClipRules,
    horizon: HorizonGoals,
    media_tools: MediaTools,
    videos: Video,
    transcripts: Transcript,
) -> dg.Output:
    """Sentences with times, keywords and entities (spaCy); silent spans (ffmpeg silencedetect);
    sentence embeddings and topic segments (the text model); pitch and loudness (prosody); shot
    boundaries, faces and motion (the picture: ffmpeg scdet, OpenCV); the video's relevance to
    the project's goals and its engagement where the source gave it."""
    goals = horizon.goals_for(videos.creator, store.layout)
    model = nlp_model.embedder()
    analysis = judgement.understand(
        Path(videos.file_path),
        videos.video_key,
        transcripts,
        goals,
        model,
        nlp_model.exemplars(),
        engagement_of(store, videos),
        nlp_model.pipeline,
        clip_rules.silence_noise_db,
        media_tools.tools(),
        videos.duration_s,
    )
    lineage = Lineage.of_video(
        videos,
        "analysis",
        analysis.analysis_id,
        inputs={"video": videos.sha256},
        tools={"spacy": analysis.nlp_pipeline, "text_model": model.label},
        params={"silence_noise_db": clip_rules.silence_noise_db},
        contract=lambda trace, parents: contracts.analysis_result(
            analysis, transcripts.text, None, (), trace, parents
        ),
    )
    metadata = {
        "sentences": len(analysis.sentences),
        "topic_segments": len(analysis.segments),
        "keywords": ", ".join(analysis.keywords),
        "entities": len(analysis.entities),
        "silences": len(analysis.silences),
        "speech_ratio": analysis.speech_ratio,
        "virality_score": analysis.virality_score,
        "relevance_score": analysis.relevance_score,
        "scores": analysis.scores_basis,
        "text_model": model.label,
        "picture": picture.summary(analysis.picture, analysis.picture_note),
    }
    tables = {"analysis": [analysis.row(transcripts.text, stardust.now_iso())]}
    return recorded(analysis, lineage, tables, metadata, stardust.content_version(analysis))


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"python"},
    code_version="3",
)
@with_user_errors
def clip_candidates(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    nlp_model: NlpResource,
    horizon: HorizonGoals,
    videos: Video,
    transcripts: Transcript,
    analyses: Analysis,
) -> dg.Output:
    """Complete thoughts inside one topic (5-120 s by default), each feature calibrated within
    the video, with the candidate's score."""
    # The creator's project may set its own clip lengths (#29); the deployment's otherwise.
    own = projects.creator_settings(store.layout).get(videos.creator, {})
    rules = CandidateRules(
        min_s=float(own.get("clip_min_s") or clip_rules.min_clip_s),
        max_s=float(own.get("clip_max_s") or clip_rules.max_clip_s),
        target_s=float(own.get("clip_target_s") or clip_rules.target_clip_s),
    )
    goals = horizon.goals_for(videos.creator, store.layout)
    ctx = judgement.video_context(
        analyses,
        goals,
        nlp_model.embedder(),
        nlp_model.exemplars(),
        engagement_of(store, videos)["heatmap"],
    )
    found = extract_candidates(
        videos.video_key,
        analyses.sentences,
        transcripts.words,
        analyses.silences,
        analyses.keywords,
        videos.duration_s,
        rules,
        ctx,
    )
    if not found:
        context.log.warning(f"{videos.video_key}: no clip candidates (no complete thought fits the limits)")
    lineage = Lineage.of_video(
        videos,
        "analysis",
        analyses.analysis_id,
        params=asdict(rules),
        decision=f"{len(found)} candidate window(s) in {len(analyses.segments)} topic segment(s)"
        if found
        else f"no complete thought of whole sentences between {rules.min_s:.0f} and {rules.max_s:.0f} s",
        contract=lambda trace, parents: [contracts.clip_candidate(c, None, trace, parents) for c in found],
    )
    metadata = {
        "candidates": len(found),
        "best_score": found[0].score if found else 0.0,
        "features": dg.MetadataValue.md(halolux.features_markdown(found[:10])),
    }
    return recorded(found, lineage, None, metadata, stardust.content_version(found))


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"python"},
    code_version="2",
    check_specs=[checks.NO_OVERLAPPING_CLIPS, checks.PANTHEON_QUORUM],
)
@with_user_errors
def clip_selections(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    nlp_model: NlpResource,
    horizon: HorizonGoals,
    videos: Video,
    clip_candidates: list[Candidate],
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Pantheon's vote: every agent reads its own evidence about every candidate and votes
    with a reason; the best non-overlapping, diverse ones with quorum and no veto become ranked
    clips (under the creator's project's goals, if it has its own)."""
    goals = horizon.goals_for(videos.creator, store.layout)
    counts = week_topic_counts(store, goals, nlp_model)
    gap = mix_gap(goals, counts)
    on_channel = judgement.channel_clips(
        store.warehouse.query_file("channel_clip_texts", [goals.channel]),
        nlp_model.embedder(),
        videos.video_key,
    )
    own = projects.creator_settings(store.layout).get(videos.creator, {})
    most = int(own.get("max_clips_per_video") or clip_rules.max_clips_per_video)  # the project's own (#29)
    cfg, agents = council(goals, gap, most, on_channel)
    selection: Selection = select_clips(videos.video_key, clip_candidates, cfg, agents)
    stats = agent_stats(selection)
    decision = halolux.selection_markdown(selection, len(clip_candidates), stats)
    lineage = Lineage.of_video(
        videos,
        "clips",
        stable_id("selection", videos.video_key),
        params={
            "quorum": cfg.quorum,
            "max_clips": cfg.max_clips,
            "weights": cfg.weights,
            "diversity": cfg.diversity,
            "horizon_week_mix": counts,
            "horizon_gap": gap,
            "clips_on_channel": len(on_channel.ids),
            "agents": stats,
        },
        decision=decision,
        contract=lambda trace, parents: [contracts.selected_clip(c, trace, parents) for c in selection.clips],
    )
    tables = {
        "clip_candidates": selection.candidate_rows(clip_candidates),
        "pantheon_votes": selection.vote_rows(clip_candidates),
    }
    ranks = [c.rank for c in selection.clips]
    metadata = {
        "selected": len(selection.clips),
        "ranks": dg.MetadataValue.json(ranks),
        "clip_keys": dg.MetadataValue.json([clip_key(videos.video_key, r) for r in ranks]),
        "disagreement": stats["_council"]["disagreed"],
        "agents": dg.MetadataValue.json(stats),
        "features": dg.MetadataValue.md(halolux.features_markdown([c.candidate for c in selection.clips])),
        "halolux": dg.MetadataValue.md(decision),
    }
    # The IO manager stores the selection (and its rows) when it is yielded ...
    yield recorded(selection, lineage, tables, metadata, stardust.content_version(selection))
    # ... so the clip partitions exist once the selection they come from is written.
    added, removed = register_clips(context.instance, videos.video_key, ranks)
    if added or removed:
        context.log.info(f"clip partitions: added {added or 'none'}, removed {removed or 'none'}")
    yield from checks.selection_checks(selection, videos.duration_s, cfg.weights)
