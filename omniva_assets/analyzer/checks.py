"""The Analyzer's checks: Paradox on transcripts and selections, Pantheon's quorum."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from cognitive_sensors import paradox
from omniva.records import Selection, Transcript, Video
from omniva_resources.resources import OmnivaStore

NEAR_DUPLICATE_THRESHOLD = 0.6

NO_NEAR_DUPLICATE_SPEECH = dg.AssetCheckSpec(
    "no_near_duplicate_speech",
    asset="transcripts",
    blocking=True,
    description="Paradox: the same speech is not already a video under another key "
    "(re-upload or re-encode: different file, same words)",
)
NO_OVERLAPPING_CLIPS = dg.AssetCheckSpec(
    "no_overlapping_clips",
    asset="clip_selections",
    blocking=True,
    description="Paradox: selected clips do not overlap and lie inside the video",
)
PANTHEON_QUORUM = dg.AssetCheckSpec(
    "pantheon_quorum",
    asset="clip_selections",
    blocking=True,
    description="Pantheon: every selected clip had quorum and no veto was overridden",
)


def no_near_duplicate_speech(store: OmnivaStore, video: Video, transcript: Transcript) -> dg.AssetCheckResult:
    others = {
        r["video_key"]: r["text"]
        for r in store.warehouse.query_file("transcripts_of_other_videos", [video.video_key])
    }
    twins = paradox.near_duplicates(transcript.text, others, NEAR_DUPLICATE_THRESHOLD)
    return dg.AssetCheckResult(
        check_name=NO_NEAR_DUPLICATE_SPEECH.name,
        passed=not twins,
        description=", ".join(f"same speech as {k} ({sim:.0%} of 5-word phrases shared)" for k, sim in twins)
        or "no other video says the same",
        metadata={"similar": dg.MetadataValue.json(twins), "threshold": NEAR_DUPLICATE_THRESHOLD},
    )


def selection_checks(
    selection: Selection, duration_s: float, weights: Mapping[str, float]
) -> list[dg.AssetCheckResult]:
    spans = [(c.candidate.start_time, c.candidate.end_time) for c in selection.clips]
    conflicts = paradox.clip_conflicts(spans, duration_s)
    quorum_problems = paradox.quorum_violations(selection, weights)
    return [
        dg.AssetCheckResult(
            check_name=NO_OVERLAPPING_CLIPS.name,
            passed=not conflicts,
            description="; ".join(conflicts) or "clips are disjoint and in bounds",
        ),
        dg.AssetCheckResult(
            check_name=PANTHEON_QUORUM.name,
            passed=not quorum_problems,
            description="; ".join(quorum_problems) or "every clip had quorum and no veto",
        ),
    ]
