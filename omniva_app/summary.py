"""The demo's closing summary: videos, clips, renders, uploads, and where things are."""

from __future__ import annotations

import os
from pathlib import Path

from omniva.settings import Layout
from omniva_app.driver import Failure, Report
from omniva_resources.warehouse import Warehouse

EXPECTED = (
    "CorruptMediaError",
    "NoAudioError",
    "NoSpeechError",
    "DeadLinkError",
    "not a readable media file",
    "has no audio stream",
    "no speech found",
    "no language could be detected",
    "the link is dead",
)


def is_expected_bad_input(f: Failure) -> bool:
    return any(marker in f.message for marker in EXPECTED)


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def render(layout: Layout, report: Report, wall_s: float, db: Path, project: str | None = None) -> str:
    """The tables and the addresses; ``project``: the project the run served (the demo's), named
    in the dashboard's lines."""
    wh = Warehouse(layout.warehouse, layout.duckdb_path)
    failures = {f.partition: f for f in report.failures}
    quarantined = {r["partition"]: r for r in wh.query_file("quarantined_partitions")}
    videos = {r["video_key"]: r for r in wh.query_file("summary_videos", [list(report.video_keys)])}
    vrows = []
    processed_s = 0.0  # seconds of source the pipeline went through (videos that did not fail)
    for key in report.video_keys:
        v = videos[key]
        f = failures.get(key)
        status = f"FAILED at {f.step}: {f.message.split(']: ', 1)[-1]}" if f else "ok"
        if not f and key in quarantined:
            q = quarantined[key]
            status = f"QUARANTINED at {q['asset_key']}: {q['reason'].split(': ', 1)[-1].split(']: ', 1)[-1]}"
        if status == "ok" and v["duration_seconds"] is not None:
            processed_s += float(v["duration_seconds"])
        vrows.append(
            [
                key,
                (v["title"] or "")[:36],
                f"{v['duration_seconds']:.1f}s" if v["duration_seconds"] is not None else "-",
                v["clips"],
                status[:100],
            ]
        )
    crows, trows = [], []
    held = set(report.held_for_review)
    for r in wh.query_file("summary_clips"):
        trows.append(
            [
                f"{r['video_key']} #{r['rank']}",
                f"{r['consensus']:.2f}" if r["consensus"] is not None else "-",
                str(r["dissenters"] or 0),
                r["title"] or "-",
            ]
        )
        crows.append(
            [
                f"{r['video_key']} #{r['rank']}",
                f"{r['start_time']:.1f}-{r['end_time']:.1f}s",
                f"{r['duration_seconds']:.1f}s",
                r["resolution"],
                f"{r['size_bytes'] / 1e6:.1f} MB",
                f"{r['integrated_lufs']:.1f}",
                r["yt_video_id"] or "-",
                r["scheduled_time"].strftime("%Y-%m-%d %H:%M UTC") if r["scheduled_time"] else "-",
                r["status"] or ("held: review" if f"{r['rank']}|{r['video_key']}" in held else "-"),
            ]
        )
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stage_seconds.items())
    dashboard = f"http://127.0.0.1:{os.environ.get('OMNIVA_API_PORT') or '8090'}/app"
    return "\n".join(
        [
            "VIDEOS",
            _table(["video", "title", "length", "clips", "status"], vrows),
            "",
            "CLIPS (rendered 1080x1920 H.264/AAC) AND UPLOADS",
            _table(
                [
                    "clip",
                    "source span",
                    "length",
                    "frame",
                    "file",
                    "LUFS",
                    "youtube id",
                    "publish at",
                    "upload",
                ],
                [[r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]] for r in crows],
            ),
            "",
            "TITLES (Chorus) AND THE COUNCIL (consensus, agents that dissented)",
            _table(["clip", "consensus", "dissent", "title"], trows),
            "",
            f"wall time {wall_s:.1f}s in {report.runs} Dagster run(s): {stages}",
            f"throughput: {processed_s / 60:.1f} source min in {wall_s / 60:.1f} wall min "
            f"({processed_s / max(wall_s, 1e-9):.2f} source min per wall min)",
            f"renders:   {layout.media / 'renders'}",
            f"warehouse: {db}  (duckdb {db} -c 'SELECT * FROM clip_lineage')",
            f"dagster:   DAGSTER_HOME={layout.dagster_home}  (make ui, then http://127.0.0.1:3000)",
            f"dashboard: {dashboard}/ — `omniva api` serves it (make ui starts both); "
            f"sign in with a key from `omniva api keys create --project {project or 'NAME'}`",
            *_review_lines(report, dashboard, project),
        ]
    )


def _review_lines(report: Report, dashboard: str, project: str | None) -> list[str]:
    """Where the clips held for a person's approval are reviewed (a project whose review is required)."""
    held = sorted(set(report.held_for_review))
    if not held:
        return []
    return [
        f"review:    {len(held)} clip(s) wait for review before they upload: approve or reject each on "
        f'{dashboard}/#/projects{f"/proj_{project}/clips" if project else ""}, then "Upload now" on its page (or start the project\'s '
        "automation: the sensors upload approved clips at their slots)",
    ]
