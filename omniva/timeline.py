"""Export an edit decision list as an OpenTimelineIO timeline (``.otio``).

The file opens in any OTIO-aware editor or tool (DaVinci Resolve imports ``.otio``;
``otioconvert`` with the FCP X XML / CMX 3600 adapter plug-ins turns it into those).
One video and one audio track hold a clip per kept span of the source (an external
reference to the source file), the audio track has a crossfade (``SMPTE_Dissolve``)
between clips, and the removed spans with their reasons are kept
in the timeline's ``omniva`` metadata and as markers on the clips that follow them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import opentimelineio as otio

from omniva.records import EditDecisionList


def _rt(seconds: float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def edl_timeline(
    name: str,
    source_path: str,
    keep: Sequence[tuple[float, float]],
    removed: Sequence[tuple[float, float, str]],
    rate: float,
    crossfade_s: float = 0.0,
    source_duration_s: float | None = None,
    metadata: dict[str, Any] | None = None,
) -> otio.schema.Timeline:
    """The timeline of a clip's kept spans (source seconds) at ``rate`` frames per second."""
    timeline = otio.schema.Timeline(name=name)
    timeline.metadata["omniva"] = {
        "source_path": source_path,
        "keep": [list(k) for k in keep],
        "removed": [list(r) for r in removed],
        "crossfade_s": crossfade_s,
        **(metadata or {}),
    }
    ref_range = None
    if source_duration_s:
        ref_range = otio.opentime.TimeRange(_rt(0.0, rate), _rt(source_duration_s, rate))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    xf_frames = round(crossfade_s * rate)
    for i, (a, b) in enumerate(keep):
        for track in (video, audio):
            ref = otio.schema.ExternalReference(
                target_url=Path(source_path).resolve().as_uri(), available_range=ref_range
            )
            # Each clip but the last gives up the crossfade's length (as the render does), so
            # both tracks last as long as the output; the audio dissolve uses the handles.
            last = i == len(keep) - 1
            start, end = _rt(a, rate), _rt(b - (0.0 if last else crossfade_s), rate)
            clip = otio.schema.Clip(
                name=f"{name} {i + 1}",
                media_reference=ref,
                source_range=otio.opentime.range_from_start_end_time(start, end),
            )
            cuts = [r for r in removed if abs(r[1] - a) < 1.0 / rate]
            for ra, rb, why in cuts:
                clip.markers.append(
                    otio.schema.Marker(
                        name=f"cut {rb - ra:.2f}s: {why}",
                        marked_range=otio.opentime.TimeRange(start, _rt(0, rate)),
                    )
                )
            if track is audio and i > 0 and xf_frames:
                half = otio.opentime.RationalTime(xf_frames / 2, rate)
                track.append(
                    otio.schema.Transition(
                        name="crossfade",
                        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                        in_offset=half,
                        out_offset=half,
                    )
                )
            track.append(clip)
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def write_timeline(timeline: otio.schema.Timeline, path: Path) -> Path:
    """Write atomically (``.otio`` JSON)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.otio")
    otio.adapters.write_to_file(timeline, str(tmp))
    tmp.replace(path)
    return path


def read_timeline(path: Path) -> otio.schema.Timeline:
    return otio.adapters.read_from_file(str(path))


def write_edl(edl: EditDecisionList, source_duration_s: float | None = None) -> Path:
    """Export ``edl`` to its ``timeline_path``."""
    timeline = edl_timeline(
        f"{edl.video_key} rank {edl.rank}",
        edl.source_path,
        edl.keep,
        edl.removed,
        edl.frame_rate,
        edl.crossfade_s,
        source_duration_s,
        {"clip_id": edl.clip_id, "rules": edl.rules},
    )
    return write_timeline(timeline, Path(edl.timeline_path))
