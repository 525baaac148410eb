"""The Editor's checks: the Shorts spec on renders, Paradox on titles."""

from __future__ import annotations

import dagster as dg

from cognitive_sensors import paradox
from omniva.records import ClipCopy
from omniva_resources import media
from omniva_resources.resources import ClipRules, OmnivaStore
from omniva_resources.shorts import ShortRender, shorts_spec_problems

SHORTS_SPEC = dg.AssetCheckSpec(
    "shorts_spec",
    asset="renders",
    blocking=True,
    description="1080x1920 H.264 High yuv420p + AAC 48 kHz, faststart, 5-120 s, <= 60 MB, "
    "-14 +-0.5 LUFS, true peak <= -1.5 dBTP, thumbnail 1280x720 JPEG < 2 MB",
)
TITLE_NOT_USED_ON_CHANNEL = dg.AssetCheckSpec(
    "title_not_used_on_channel",
    asset="clip_copy",
    blocking=True,
    description="Paradox: no other clip on the channel carries the same title",
)


def shorts_spec(short: ShortRender, spec: media.RenderSpec, clip_rules: ClipRules) -> dg.AssetCheckResult:
    r = short.render
    problems = shorts_spec_problems(r, short.thumbnail, spec, clip_rules.min_clip_s, clip_rules.max_clip_s)
    return dg.AssetCheckResult(
        check_name=SHORTS_SPEC.name,
        passed=not problems,
        description="; ".join(problems) or "meets the Shorts spec",
        metadata={
            "integrated_lufs": r.integrated_lufs,
            "true_peak_dbtp": r.true_peak_dbtp,
            "duration_s": r.duration_s,
            "bytes": r.size_bytes,
            "faststart": r.faststart,
        },
    )


def title_not_used_on_channel(store: OmnivaStore, copy: ClipCopy) -> dg.AssetCheckResult:
    used = {
        r["clip_id"]: r["title"] for r in store.warehouse.query_file("titles_of_other_clips", [copy.clip_id])
    }
    clashes = paradox.titles_in_use(copy.title, used)
    return dg.AssetCheckResult(
        check_name=TITLE_NOT_USED_ON_CHANNEL.name,
        passed=not clashes,
        description=f"title already used by clip(s) {', '.join(clashes)}" if clashes else "title is new",
    )
