"""How the instance copes with many video partitions (docs/deployment.md, "How far this design goes").

    python -m omniva_devkit.scale_probe --videos 10000            # a throwaway PostgreSQL on loopback
    python -m omniva_devkit.scale_probe --videos 10000 --current  # the instance DAGSTER_HOME points at

Registers N video partitions, materializes half of them (runless materialization events, the
same rows a run writes), then times what the sensors, Zenith and the UI ask of the instance,
and one real ``video_sensor`` tick over a new post with 50 videos. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import dagster as dg

from cognitive_sensors.zenith import decide_partitions
from omniva_assets import deployment
from omniva_assets.analyzer.sensors import video_sensor
from omniva_assets.partitions import videos_partitions
from omniva_devkit.local_services import postgres
from omniva_resources.resources import OmnivaStore, resources_from_env


def _timed(rows: list, label: str, fn, note: str = ""):
    started = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - started, note))
    return out


def probe(
    instance: dg.DagsterInstance, n_videos: int, home: Path, n_materialized: int | None = None
) -> list[tuple[str, float, str]]:
    videos = videos_partitions.name
    assert videos is not None
    rows: list[tuple[str, float, str]] = []
    keys = [f"probe-creator-video-{i:06d}" for i in range(n_videos)]
    _timed(
        rows,
        f"register {n_videos:,} video partitions",
        lambda: [
            instance.add_dynamic_partitions(videos, keys[i : i + 1000]) for i in range(0, n_videos, 1000)
        ],
        "batches of 1,000",
    )
    listed = _timed(rows, "list the video partitions", lambda: instance.get_dynamic_partitions(videos))
    assert len(listed) >= n_videos
    rows[-1] = (*rows[-1][:2], f"{len(listed):,} partitions")
    half = keys[: n_videos // 2 if n_materialized is None else n_materialized]
    _timed(
        rows,
        f"write {len(half):,} materialization events",
        lambda: [
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="videos", partition=k))
            for k in half
        ],
        "one event-log row each",
    )
    done = _timed(
        rows,
        "materialized video partitions",
        lambda: instance.get_materialized_partitions(dg.AssetKey("videos")),
    )
    rows[-1] = (*rows[-1][:2], f"{len(done):,} materialized (what sensors and the CLI ask)")
    decisions = _timed(
        rows, f"Zenith decisions over {n_videos:,} keys", lambda: decide_partitions(keys, done, set())
    )
    requested = sum(1 for d in decisions if d.action == "request")
    rows[-1] = (*rows[-1][:2], f"{requested:,} to request, {len(decisions) - requested:,} skipped")
    _timed(
        rows,
        "latest 100 materializations of videos",
        lambda: instance.fetch_materializations(dg.AssetKey("videos"), limit=100),
    )
    _timed(rows, "latest 100 runs", lambda: instance.get_runs(limit=100))

    # One real video_sensor tick: a new post listing 50 new videos, with n_videos already known.
    new = [f"probe-new-video-{i:03d}" for i in range(50)]
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="posts",
            partition="probe|2025-07-01",
            metadata={"video_keys": dg.MetadataValue.json(new)},
        )
    )
    store = OmnivaStore(home=str(home))
    resources = {**resources_from_env(), "store": store}
    with dg.build_sensor_context(instance=instance, resources=resources) as ctx:
        result = _timed(rows, "video_sensor tick (50 new videos)", lambda: video_sensor(ctx))
    rows[-1] = (*rows[-1][:2], f"{len(result.run_requests)} run requests")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m omniva_devkit.scale_probe", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--videos", type=int, default=10_000)
    p.add_argument("--materialized", type=int, help="how many get a materialization (default: half)")
    p.add_argument("--current", action="store_true", help="use the instance DAGSTER_HOME points at")
    args = p.parse_args(argv)
    with ExitStack() as es:
        work = Path(es.enter_context(tempfile.TemporaryDirectory(prefix="omniva-scale-")))
        os.environ.setdefault("OMNIVA_HOME", str(work / "omniva"))
        if not args.current:
            pg = es.enter_context(postgres())
            pg.create_database("scale")
            os.environ.update(pg.env("scale"))
            os.environ["DAGSTER_HOME"] = str(work / "dagster")
            deployment.write_instance_yaml(work / "dagster", storage_dir=work / "dagster-data")
        instance = es.enter_context(dg.DagsterInstance.get())
        rows = probe(instance, args.videos, Path(os.environ["OMNIVA_HOME"]), args.materialized)
        size = ""
        if not args.current:
            (n_events, bytes_) = pg.query(
                "scale", "SELECT count(*), pg_total_relation_size('event_logs') FROM event_logs"
            )[0]
            size = f"event_logs: {n_events:,} rows, {bytes_ / 1e6:.1f} MB with indexes ({bytes_ / n_events:.0f} B/row)"
    print(f"| {args.videos:,} videos, {type(instance.run_storage).__name__} | seconds | note |")
    print("|---|---:|---|")
    for label, seconds, note in rows:
        print(f"| {label} | {seconds:.3f} | {note} |")
    if size:
        print(f"\n{size}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
