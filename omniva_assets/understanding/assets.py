"""Understanding a video: words (whisperx), language (spaCy), silences (ffmpeg),
clip candidates and the Pantheon vote."""

import json
from dataclasses import asdict
from pathlib import Path

import dagster as dg

from cognitive_sensors import paradox, stardust
from cognitive_sensors.goals import Goals, mix_gap, topic_of
from cognitive_sensors.pantheon import (
    DEFAULT_AGENTS,
    PantheonConfig,
    make_guardian,
    make_horizon_delegate,
    select_clips,
)
from omniva.candidates import CandidateRules, extract_candidates, overlap_s
from omniva.records import Analysis, Candidate, Selection, Transcript, Video, stable_id
from omniva_assets.common import user_errors
from omniva_assets.partitions import videos_partitions
from omniva_resources import asr, media, nlp, projects
from omniva_resources.resources import AsrResource, ClipRules, NlpResource, OmnivaStore

NEAR_DUPLICATE_THRESHOLD = 0.6


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"whisperx"},
    code_version="1",
    pool="asr",
    check_specs=[
        dg.AssetCheckSpec(
            "no_near_duplicate_speech",
            asset="transcripts",
            blocking=True,
            description="Paradox: the same speech is not already a video under another key "
            "(re-upload or re-encode: different file, same words)",
        )
    ],
)
def transcripts(context: dg.AssetExecutionContext, store: OmnivaStore, asr_model: AsrResource, videos: Video):
    """Every spoken word with its start and end time (whisperx; model configurable)."""
    settings = asr_model.settings()
    with user_errors(context, store):
        transcript = asr.transcribe(Path(videos.file_path), settings)
    store.record(
        "transcripts",
        videos.video_key,
        [
            {
                "video_id": videos.video_id,
                "video_key": videos.video_key,
                "language": transcript.language,
                "model": transcript.model,
                "word_timing": transcript.word_timing,
                "text": transcript.text,
                "word_count": len(transcript.words),
                "words": transcript.as_json()["words"],
                "created_at": stardust.now_iso(),
            }
        ],
    )
    meta, row = stardust.packet(
        context,
        entity_type="transcripts",
        entity_id=videos.video_id,
        trace_id=stardust.trace_id_for(videos.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        inputs={"video": videos.sha256},
        tools={"asr_model": transcript.model, "asr_backend": transcript.backend},
        params={**asdict(settings), "word_timing_used": transcript.word_timing},
    )
    store.record_stardust(row)
    others = {
        r["video_key"]: r["text"]
        for r in store.warehouse.query(
            "SELECT video_key, text FROM transcripts WHERE video_key <> ?", [videos.video_key]
        )
    }
    twins = paradox.near_duplicates(transcript.text, others, NEAR_DUPLICATE_THRESHOLD)
    yield dg.Output(
        transcript,
        metadata={
            **meta,
            "language": transcript.language,
            "model": transcript.model,
            "word_timing": transcript.word_timing,
            "words": len(transcript.words),
            "asr_loads_in_process": asr.LOAD_COUNT["asr"],
            "preview": dg.MetadataValue.md(transcript.text[:600]),
        },
        data_version=dg.DataVersion(stable_id(videos.sha256, json.dumps(asdict(settings), sort_keys=True))),
    )
    yield dg.AssetCheckResult(
        check_name="no_near_duplicate_speech",
        passed=not twins,
        description=", ".join(f"same speech as {k} ({sim:.0%} of 5-word phrases shared)" for k, sim in twins)
        or "no other video says the same",
        metadata={"similar": dg.MetadataValue.json(twins), "threshold": NEAR_DUPLICATE_THRESHOLD},
    )


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
    videos: Video,
    transcripts: Transcript,
) -> dg.Output[Analysis]:
    """Sentences with times, keywords and entities (spaCy), and silent spans (ffmpeg silencedetect)."""
    with user_errors(context, store):
        sentences, keywords, entities = nlp.analyze_text(transcripts, nlp_model.pipeline)
        silences = media.detect_silences(Path(videos.file_path), clip_rules.silence_noise_db, 0.4)
    duration = videos.duration_s or transcripts.duration_s
    silent = sum(overlap_s((0, duration), s) for s in silences)
    speech_ratio = round(max(0.0, 1 - silent / duration), 3) if duration else 0.0
    wps = len(transcripts.words) / max(1.0, duration * speech_ratio)
    virality = round(
        min(1.0, 0.5 * min(1.0, wps / 2.5) + 0.3 * speech_ratio + 0.2 * min(1.0, len(entities) / 5)), 3
    )
    relevance = round(min(1.0, len(keywords) / 12), 3)
    analysis = Analysis(
        videos.video_key,
        sentences,
        keywords,
        entities,
        tuple(silences),
        speech_ratio,
        virality,
        relevance,
        nlp.spacy_version(nlp_model.pipeline),
    )
    store.record(
        "analysis",
        videos.video_key,
        [
            {
                "analysis_id": analysis.analysis_id,
                "video_id": videos.video_id,
                "video_key": videos.video_key,
                "transcript": transcripts.text,
                "keywords": list(keywords),
                "virality_score": virality,
                "relevance_score": relevance,
                "created_at": stardust.now_iso(),
                "raw_ai_output": {
                    "sentences": [asdict(s) for s in sentences],
                    "entities": entities,
                    "silences": silences,
                    "speech_ratio": speech_ratio,
                    "nlp_pipeline": analysis.nlp_pipeline,
                    "scores": "heuristic: pace, speech ratio, entities (engagement data not used yet)",
                },
            }
        ],
    )
    meta, row = stardust.packet(
        context,
        entity_type="analysis",
        entity_id=analysis.analysis_id,
        trace_id=stardust.trace_id_for(videos.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        inputs={"video": videos.sha256},
        tools={"spacy": analysis.nlp_pipeline},
        params={"silence_noise_db": clip_rules.silence_noise_db},
    )
    store.record_stardust(row)
    return dg.Output(
        analysis,
        metadata={
            **meta,
            "sentences": len(sentences),
            "keywords": ", ".join(keywords),
            "entities": len(entities),
            "silences": len(silences),
            "speech_ratio": speech_ratio,
            "virality_score": virality,
        },
        data_version=stardust.content_version(analysis),
    )


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
    meta, row = stardust.packet(
        context,
        entity_type="analysis",
        entity_id=analyses.analysis_id,
        trace_id=stardust.trace_id_for(videos.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        params=asdict(rules),
        decision=f"{len(found)} candidate window(s)"
        if found
        else f"no window of whole sentences between {rules.min_s:.0f} and {rules.max_s:.0f} s",
    )
    store.record_stardust(row)
    if not found:
        context.log.warning(f"{videos.video_key}: no clip candidates (speech too short or fragmented)")
    return dg.Output(
        found,
        metadata={**meta, "candidates": len(found), "best_score": found[0].score if found else 0.0},
        data_version=stardust.content_version(found),
    )


@dg.asset(
    partitions_def=videos_partitions,
    group_name="understanding",
    kinds={"python"},
    code_version="1",
    check_specs=[
        dg.AssetCheckSpec(
            "no_overlapping_clips",
            asset="clip_selections",
            blocking=True,
            description="Paradox: selected clips do not overlap and lie inside the video",
        ),
        dg.AssetCheckSpec(
            "pantheon_quorum",
            asset="clip_selections",
            blocking=True,
            description="Pantheon: every selected clip had quorum and no veto was overridden",
        ),
    ],
)
def clip_selections(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    videos: Video,
    clip_candidates: list[Candidate],
):
    """Pantheon's vote: every agent scores every candidate with a reason; the best
    non-overlapping ones with quorum and no veto become ranked clips (the creator's project's
    goals, if it has its own)."""
    goals = projects.goals_for(videos.creator, store.layout)
    counts = week_topic_counts(store, goals)
    gap = mix_gap(goals, counts)
    agents = {
        **DEFAULT_AGENTS,
        "guardian": make_guardian(goals.banned_words),
        "horizon": make_horizon_delegate(gap, lambda c: topic_of(c.text.split(), goals)),
    }
    weights = {**PantheonConfig().weights, **goals.weights}
    cfg = PantheonConfig(weights=weights, quorum=goals.quorum, max_clips=clip_rules.max_clips_per_video)
    selection: Selection = select_clips(videos.video_key, clip_candidates, cfg, agents)
    by_candidate = {c.candidate.candidate_id: c for c in selection.clips}
    rejected = dict(selection.rejected)
    cand_rows, vote_rows = [], []
    ballots = {b.candidate_id: b for b in selection.ballots}
    for cand in clip_candidates:
        votes, consensus = ballots[cand.candidate_id].votes, ballots[cand.candidate_id].consensus
        ranked = by_candidate.get(cand.candidate_id)
        cand_rows.append(
            {
                "candidate_id": cand.candidate_id,
                "video_id": videos.video_id,
                "video_key": videos.video_key,
                "start_time": cand.start_time,
                "end_time": cand.end_time,
                "score": cand.score,
                "consensus": consensus,
                "selected_rank": ranked.rank if ranked else None,
                "rejected_because": rejected.get(cand.candidate_id),
                "semantic_tags": list(cand.semantic_tags),
                "features": cand.features,
                "text": cand.text,
            }
        )
        vote_rows += [
            {"candidate_id": cand.candidate_id, "video_key": videos.video_key, **asdict(v)} for v in votes
        ]
    store.record("clip_candidates", videos.video_key, cand_rows)
    store.record("pantheon_votes", videos.video_key, vote_rows)
    lines = [
        f"**{len(selection.clips)} clip(s)** chosen from {len(clip_candidates)} candidates "
        f"by {', '.join(selection.agents)} (quorum {cfg.quorum:.0%})."
    ]
    for c in selection.clips:
        lines.append(
            f"\n**Rank {c.rank}** {c.candidate.start_time:.1f}–{c.candidate.end_time:.1f}s, "
            f"consensus {c.consensus:.2f}: “{c.candidate.text[:120]}”"
        )
        lines += [f"- {v.agent}: **{v.vote}** ({v.score:.2f}) {v.reason}" for v in c.votes]
    decision = "\n".join(lines)
    meta, row = stardust.packet(
        context,
        entity_type="clips",
        entity_id=stable_id("selection", videos.video_key),
        trace_id=stardust.trace_id_for(videos.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        params={
            "quorum": cfg.quorum,
            "max_clips": cfg.max_clips,
            "weights": cfg.weights,
            "horizon_week_mix": counts,
            "horizon_gap": gap,
        },
        decision=decision,
    )
    store.record_stardust(row)
    spans = [(c.candidate.start_time, c.candidate.end_time) for c in selection.clips]
    conflicts = paradox.clip_conflicts(spans, videos.duration_s)
    quorum_problems = paradox.quorum_violations(selection, cfg.weights)
    yield dg.Output(
        selection,
        metadata={
            **meta,
            "selected": len(selection.clips),
            "ranks": dg.MetadataValue.json([c.rank for c in selection.clips]),
            "halolux": dg.MetadataValue.md(decision),
        },
        data_version=stardust.content_version(selection),
    )
    yield dg.AssetCheckResult(
        check_name="no_overlapping_clips",
        passed=not conflicts,
        description="; ".join(conflicts) or "clips are disjoint and in bounds",
    )
    yield dg.AssetCheckResult(
        check_name="pantheon_quorum",
        passed=not quorum_problems,
        description="; ".join(quorum_problems) or "every clip had quorum and no veto",
    )


def week_topic_counts(store: OmnivaStore, goals: Goals) -> dict[str, int]:
    """Topics of the clips scheduled within a week either side of now (Horizon's mix so far)."""
    rows = store.warehouse.query(
        "SELECT json_extract_string(c.metadata, '$.text') AS text FROM schedules s "
        "JOIN clips c ON c.clip_id = s.clip_id "
        "WHERE s.final_scheduled_time BETWEEN now() - INTERVAL 7 DAY AND now() + INTERVAL 7 DAY"
    )
    counts: dict[str, int] = {}
    for r in rows:
        topic = topic_of((r["text"] or "").split(), goals)
        if topic:
            counts[topic] = counts.get(topic, 0) + 1
    return counts
