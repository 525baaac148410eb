"""``omniva``: the command line (other tools call these exactly; see README)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
import warnings
from datetime import date
from pathlib import Path

from omniva.errors import OmnivaError


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    for name in (
        "whisperx",
        "lightning",
        "pytorch_lightning",
        "lightning.pytorch",
        "speechbrain",
        "pyannote",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Keep stdout clean for machine-readable output, at the file-descriptor level."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def cmd_transcribe(args) -> int:
    from omniva_resources import asr

    settings = asr.AsrSettings(
        model=args.model,
        device=args.device,
        compute_type=args.compute_type,
        batch_size=args.batch_size,
        word_timing=args.word_timing,
    )
    with _stdout_to_stderr():  # whisperx and torch.hub print progress on stdout
        t = asr.transcribe(Path(args.file), settings)
    if args.json:
        print(json.dumps(t.as_json() | {"word_timing": t.word_timing}, ensure_ascii=False))
    else:
        print(t.text)
    return 0


def _instance():
    import dagster as dg

    from omniva.settings import ensure_dagster_home

    ensure_dagster_home()
    return dg.DagsterInstance.get()


def cmd_creators(args) -> int:
    from omniva import creators
    from omniva.settings import layout

    lay = layout()
    if args.action == "add":
        c = creators.add(lay, args.name, args.url)
        from omniva_assets.partitions import creators_partitions

        inst = _instance()
        if c.name not in inst.get_dynamic_partitions(creators_partitions.name):
            inst.add_dynamic_partitions(creators_partitions.name, [c.name])
        print(f"added creator {c.name} ({c.platform}) {c.url}")
    elif args.action == "remove":
        creators.remove(lay, args.name)
        print(f"removed {args.name}: no new work is scheduled; its history stays")
    else:
        for c in creators.active(lay):
            print(f"{c.name}\t{c.platform}\t{c.url}")
    return 0


def _runner(refresh_stale: bool = False):
    from omniva.driver import Runner
    from omniva_assets.definitions import defs

    return Runner(defs, _instance(), refresh_stale=refresh_stale)


def cmd_run(args) -> int:
    from omniva.settings import layout

    today = date.today()
    since = date.fromisoformat(args.since) if args.since else today
    until = date.fromisoformat(args.until) if args.until else today
    if until < since:
        raise OmnivaError(f"--until {until} is before --since {since}")
    runner = _runner(refresh_stale=args.refresh_stale)
    from omniva import creators

    creators.get(layout(), args.creator)  # clear error for an unknown creator
    started = time.perf_counter()
    report = runner.run_creator(args.creator, since, until)
    lay = layout()
    db = _sync_and_refresh(lay)
    from omniva import summary

    print()
    print(summary.render(lay, report, time.perf_counter() - started, db))
    return 0


def cmd_demo(args) -> int:
    from omniva import creators, summary
    from omniva.sample_site import SAMPLE_CREATOR, SAMPLE_DAYS, SampleSite
    from omniva.settings import layout
    from omniva.youtube_emulator import YouTubeEmulator

    lay = layout()
    started = time.perf_counter()
    api_root = os.environ.setdefault("OMNIVA_YOUTUBE_API_ROOT", f"http://127.0.0.1:{args.youtube_port}/")
    emulator = None
    if not _answers(api_root):
        port = int(api_root.rstrip("/").rsplit(":", 1)[1])
        emulator = YouTubeEmulator(lay.home / "youtube-emulator", port=port)
        emulator.start()
    try:
        with SampleSite(lay.home / "sample-site", port=args.port) as site:
            print(f"sample creator site: {site.feed_url}")
            creators.add(lay, SAMPLE_CREATOR, site.feed_url)
            runner = _runner()
            report = runner.run_creator(SAMPLE_CREATOR, SAMPLE_DAYS[0], SAMPLE_DAYS[-1])
    finally:
        if emulator:
            emulator.stop()
    db = _sync_and_refresh(lay)
    print()
    print(summary.render(lay, report, time.perf_counter() - started, db))
    unexpected = [f for f in report.failures if not summary.is_expected_bad_input(f)]
    return 1 if unexpected else 0


def _sync_and_refresh(lay) -> Path:
    """Mirror Dagster's events into the warehouse, then (re)create the DuckDB views."""
    from omniva_resources.lineage import sync_lineage
    from omniva_resources.warehouse import Warehouse

    wh = Warehouse(lay.warehouse, lay.duckdb_path)
    sync_lineage(_instance(), wh)
    return wh.refresh_views()


def cmd_explain(args) -> int:
    from cognitive_sensors import halolux
    from omniva.insights import load_bundle
    from omniva.settings import layout
    from omniva_resources.warehouse import Warehouse

    lay = layout()
    bundle = load_bundle(Warehouse(lay.warehouse, lay.duckdb_path), args.clip)
    if args.json:
        print(json.dumps(bundle | {"explanation": halolux.explain_markdown(bundle)}, default=str, indent=2))
    else:
        print(halolux.explain_markdown(bundle) if args.markdown else halolux.explain_text(bundle))
    return 0


def cmd_lineage(args) -> int:
    from omniva import insights
    from omniva.settings import layout
    from omniva_resources.lineage import sync_lineage
    from omniva_resources.warehouse import Warehouse

    lay = layout()
    wh = Warehouse(lay.warehouse, lay.duckdb_path)
    if args.clip == "sync":
        r = sync_lineage(_instance(), wh)
        wh.refresh_views()
        print(
            f"mirrored {r.runs_synced} of {r.runs_seen} finished run(s): {r.materializations} "
            f"materialization(s), {r.checks} check result(s)"
        )
        return 0
    rows = insights.lineage(wh, args.clip)
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    for r in rows:
        print(f"{r['step_order']:>2} {r['step']:<11} {r['asset_key']:<16} {r['location'] or ''}")
        extra = "  ".join(
            x for x in (f"sha256 {r['checksum']}" if r["checksum"] else "", r["detail"] or "") if x
        )
        if extra:
            print(f"   {'':<11} {extra}")
    return 0


def _answers(api_root: str) -> bool:
    try:
        urllib.request.urlopen(api_root, timeout=1)  # noqa: S310 - loopback
        return True
    except urllib.error.HTTPError:
        return True  # something serves there (the emulator answers 404 on /)
    except OSError:
        return False


def cmd_warehouse(args) -> int:
    from omniva.settings import layout
    from omniva_resources.warehouse import Warehouse

    lay = layout()
    print(Warehouse(lay.warehouse, lay.duckdb_path).refresh_views())
    return 0


def cmd_emulator(args) -> int:
    from omniva.settings import layout
    from omniva.youtube_emulator import YouTubeEmulator

    emu = YouTubeEmulator(
        Path(args.data_dir) if args.data_dir else layout().home / "youtube-emulator", port=args.port
    )
    print(f"YouTube API emulator on {emu.start()} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    from omniva_resources import asr

    p = argparse.ArgumentParser(prog="omniva", description="Open clip farm on Dagster.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("transcribe", help="words with timestamps for any audio or video file")
    t.add_argument("file")
    t.add_argument("--json", action="store_true")
    t.add_argument("--model", default=os.environ.get("OMNIVA_ASR_MODEL", asr.DEFAULT_MODEL))
    t.add_argument("--device", default=os.environ.get("OMNIVA_ASR_DEVICE", "cpu"))
    t.add_argument("--compute-type", default=os.environ.get("OMNIVA_ASR_COMPUTE_TYPE", "int8"))
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--word-timing", default="auto", choices=["auto", "whisperx-align", "faster-whisper"])
    t.set_defaults(func=cmd_transcribe)

    c = sub.add_parser("creators", help="add, list or remove creators")
    csub = c.add_subparsers(dest="action", required=True)
    a = csub.add_parser("add")
    a.add_argument("name")
    a.add_argument("url")
    r = csub.add_parser("remove")
    r.add_argument("name")
    csub.add_parser("list")
    c.set_defaults(func=cmd_creators)

    run = sub.add_parser("run", help="run a creator's posts for a date range (UTC days)")
    run.add_argument("--creator", required=True)
    run.add_argument("--since")
    run.add_argument("--until")
    run.add_argument(
        "--refresh-stale",
        action="store_true",
        help="also re-render clips Dagster reports unsynced (render code or parameters changed)",
    )
    run.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="the whole pipeline on the bundled sample creator")
    d.add_argument("--port", type=int, default=int(os.environ.get("OMNIVA_SAMPLE_PORT", "8088")))
    d.add_argument("--youtube-port", type=int, default=8089)
    d.set_defaults(func=cmd_demo)

    x = sub.add_parser("explain", help="HaloLux: why a clip was chosen, cut, titled and scheduled")
    x.add_argument("clip", help="clip id, RANK|VIDEO_KEY or VIDEO_KEY#RANK")
    x.add_argument("--json", action="store_true")
    x.add_argument("--markdown", action="store_true")
    x.set_defaults(func=cmd_explain)

    li = sub.add_parser(
        "lineage", help="a clip's chain back to its source, with checksums ('sync' mirrors Dagster's events)"
    )
    li.add_argument("clip", help="clip id, RANK|VIDEO_KEY, VIDEO_KEY#RANK, or 'sync'")
    li.add_argument("--json", action="store_true")
    li.set_defaults(func=cmd_lineage)

    w = sub.add_parser("warehouse", help="refresh the DuckDB views over the warehouse")
    w.set_defaults(func=cmd_warehouse)

    e = sub.add_parser("youtube-emulator", help="serve the loopback YouTube API emulator")
    e.add_argument("--port", type=int, default=8089)
    e.add_argument("--data-dir")
    e.set_defaults(func=cmd_emulator)
    return p


def main(argv: list[str] | None = None) -> int:
    _quiet()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OmnivaError as exc:
        print(f"omniva: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno == 98:  # address in use
            print(f"omniva: {exc}. Another demo or server uses that port; pass --port.", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
