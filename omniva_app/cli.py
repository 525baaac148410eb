"""``omniva``: the command line (other tools call these exactly; see README)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import json
import logging
import os
import sys
import time
import warnings
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from omniva.errors import OmnivaError
from omniva.redact import redact_url, split_credentials
from omniva.settings import Layout, layout
from omniva_app import sources_cli
from omniva_app.api.cli import add_parser as add_api_parser

if TYPE_CHECKING:
    from omniva_resources.asr import AsrSettings

# Every other import happens inside the command that needs it: `omniva --help` and
# `omniva transcribe FILE` must not pay for Dagster, the driver, the warehouse or the YouTube
# client (issue #20, cold start; tests/unit/test_cli_startup.py checks sys.modules).
# Settings: the CLI keeps no defaults of its own and reads no OMNIVA_* variable for a resource
# field; an option left out takes the resource's value (``omniva_resources.resources``:
# ``resources_from_env``), and a command's own settings reach its runs as resource
# configuration (``resources_from_env(overrides=...)`` and run config), never through the
# environment.


def _asr_settings() -> AsrSettings:
    """The ``asr_model`` resource's settings (``OMNIVA_ASR_*``, README's Configuration table).
    With no such variable set they are ``AsrSettings``' defaults, which are the resource's, and
    ``omniva transcribe`` does not import Dagster for them (issue #20)."""
    if any(name.startswith("OMNIVA_ASR_") for name in os.environ):
        from omniva_resources.resources import asr_settings_from_env

        return asr_settings_from_env()
    from omniva_resources.asr import AsrSettings

    return AsrSettings()


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
    """Words with times for one file, in its own language (detected unless ``--language``).
    The offline default never imports whisperx or torch (``omniva_resources.asr``)."""
    from omniva_resources import asr

    given = {
        "model": args.model,
        "multilingual_model": args.multilingual_model,
        "device": args.device,
        "compute_type": args.compute_type,
        "batch_size": args.batch_size,
        "language": args.language,
        "word_timing": args.word_timing,
    }
    settings = dataclasses.replace(_asr_settings(), **{k: v for k, v in given.items() if v is not None})
    with _stdout_to_stderr():  # model loaders may print progress on stdout
        t = asr.transcribe(Path(args.file), settings)
    if args.json:
        extra = {
            "language_probability": t.language_probability,
            "word_timing": t.word_timing,
            "backend": t.backend,
        }
        print(json.dumps(t.as_json() | extra, ensure_ascii=False))
    else:
        print(t.text)
    return 0


def cmd_creators(args) -> int:
    from omniva_app.launch import dagster_instance
    from omniva_assets.partitions import creators_partitions
    from omniva_assets.policy import register_partitions
    from omniva_resources import creators

    lay = layout()
    if args.action == "add":
        # From the CLI a loopback or private address is on purpose (a local site, a NAS).
        c = creators.add(
            lay, args.name, args.url, allow_private_network=True, **sources_cli.creator_add_kwargs(args)
        )
        register_partitions(dagster_instance(), creators_partitions, [c.name])
        has_password = split_credentials(args.url)[1] is not None
        kept = " (its user and password are kept in the secrets folder)" if has_password else ""
        print(f"added creator {c.name} ({c.platform}) {redact_url(c.url)}{kept}")
    elif args.action == "remove":
        creators.remove(lay, args.name)
        print(f"removed {args.name}: no new work is scheduled; its history stays")
    else:
        for c in creators.active(lay):
            print(f"{c.name}\t{c.platform}\t{redact_url(c.url)}")
    return 0


def cmd_run(args) -> int:
    from omniva_app import summary
    from omniva_app.driver import runner
    from omniva_app.launch import queue_launcher
    from omniva_devkit.loopback import loopback_emulator
    from omniva_resources import creators

    today = date.today()
    since = date.fromisoformat(args.since) if args.since else today
    until = date.fromisoformat(args.until) if args.until else today
    if until < since:
        raise OmnivaError(f"--until {until} is before --since {since}")
    run = runner(refresh_stale=args.refresh_stale)
    lay = layout()
    creators.get(lay, args.creator)  # clear error for an unknown creator
    if not creators.is_active(lay, args.creator):
        raise OmnivaError(
            f"creator {args.creator!r} was removed: its history is kept, but no new work starts; "
            f"add it again with `omniva creators add {args.creator} URL` to resume"
        )
    started = time.perf_counter()
    # Uploads go where the runs' youtube_api resource sends them (OMNIVA_YOUTUBE_API_ROOT).
    emulator = loopback_emulator(lay, (run.defs.resources or {})["youtube_api"].api_root)
    try:
        with contextlib.ExitStack() as stack:
            if args.queue:
                run.launcher = stack.enter_context(queue_launcher(run.instance))
            report = run.run_creator(args.creator, since, until)
    finally:
        if emulator:
            emulator.stop()
    db = _sync_and_refresh(lay)
    print()
    print(summary.render(lay, report, time.perf_counter() - started, db))
    return 0


def cmd_demo(args) -> int:
    from omniva_app import summary
    from omniva_app.driver import runner
    from omniva_devkit.loopback import DEFAULT_API_ROOT, loopback_emulator
    from omniva_devkit.sample_site import DEFAULT_PORT, SAMPLE_CREATOR, SAMPLE_DAYS, SampleSite
    from omniva_resources import creators
    from omniva_resources.resources import resources_from_env, resources_run_config

    lay = layout()
    started = time.perf_counter()
    # The demo's own settings, handed to its runs as resource config (not the environment):
    # uploads go to its loopback emulator, and two clips per video keep the sample inside one
    # day of YouTube API quota (10,000 units, ~1,650 per upload; more would be deferred to the
    # next quota window, by design).
    api_root = f"http://127.0.0.1:{args.youtube_port}/" if args.youtube_port else DEFAULT_API_ROOT
    overrides = {
        "youtube_api": {"api_root": api_root},
        "clip_rules": {"max_clips_per_video": args.max_clips_per_video},
    }
    run = runner(run_config=resources_run_config(resources_from_env(overrides=overrides), overrides))
    emulator = loopback_emulator(lay, api_root)
    port = args.port or int(os.environ.get("OMNIVA_SAMPLE_PORT") or DEFAULT_PORT)
    try:
        with SampleSite(lay.home / "sample-site", port=port) as site:
            print(f"sample creator site: {site.feed_url}")
            creators.add(lay, SAMPLE_CREATOR, site.feed_url, allow_private_network=True)
            _demo_project(lay, args.review)
            report = run.run_creator(SAMPLE_CREATOR, SAMPLE_DAYS[0], SAMPLE_DAYS[-1])
    finally:
        if emulator:
            emulator.stop()
    db = _sync_and_refresh(lay)
    print()
    print(summary.render(lay, report, time.perf_counter() - started, db, project=DEMO_PROJECT))
    unexpected = [f for f in report.failures if not summary.is_expected_bad_input(f)]
    return 1 if unexpected else 0


#: The demo's project: the sample creator, publishing to the emulator's channel.
DEMO_PROJECT, DEMO_CHANNEL = "demo", "omniva-demo"


def _demo_project(lay: Layout, review: str) -> None:
    """Project ``demo`` holds the sample creator (the dashboard shows it), with the review mode
    asked for: ``auto`` publishes unattended; ``required`` holds every upload until a person
    approves its clip on the dashboard. Its automation stays as it was (the demo's own run is an
    explicit request); an existing project keeps its other settings."""
    from omniva_devkit.sample_site import SAMPLE_CREATOR
    from omniva_resources import projects

    if DEMO_PROJECT not in {p.name for p in projects.list_projects(lay)}:
        projects.add_project(DEMO_PROJECT, DEMO_CHANNEL, lay=lay)
    if SAMPLE_CREATOR not in projects.get_project(DEMO_PROJECT, lay).creators:
        projects.add_creator(DEMO_PROJECT, SAMPLE_CREATOR, lay)
    projects.set_review(DEMO_PROJECT, review, lay)


def _sync_and_refresh(lay: Layout) -> Path:
    """Mirror Dagster's events into the warehouse, then (re)create the DuckDB views."""
    from omniva_app.launch import dagster_instance
    from omniva_resources.lineage import sync_lineage
    from omniva_resources.warehouse import Warehouse

    wh = Warehouse(lay.warehouse, lay.duckdb_path)
    sync_lineage(dagster_instance(), wh)
    return wh.refresh_views()


def cmd_explain(args) -> int:
    from cognitive_sensors import halolux
    from omniva_resources.insights import load_bundle
    from omniva_resources.warehouse import Warehouse

    lay = layout()
    bundle = load_bundle(Warehouse(lay.warehouse, lay.duckdb_path), args.clip)
    if args.json:
        print(json.dumps(bundle | {"explanation": halolux.explain_markdown(bundle)}, default=str, indent=2))
    else:
        print(halolux.explain_markdown(bundle) if args.markdown else halolux.explain_text(bundle))
    return 0


def cmd_lineage(args) -> int:
    from omniva_app.launch import dagster_instance
    from omniva_resources import insights
    from omniva_resources.lineage import sync_lineage
    from omniva_resources.warehouse import Warehouse

    lay = layout()
    wh = Warehouse(lay.warehouse, lay.duckdb_path)
    if args.clip == "sync":
        synced = sync_lineage(dagster_instance(), wh)
        wh.refresh_views()
        print(
            f"mirrored {synced.runs_synced} of {synced.runs_seen} finished run(s): {synced.materializations} "
            f"materialization(s), {synced.checks} check result(s)"
        )
        return 0
    if args.packets:
        walk = insights.packet_walk(wh, args.clip)
        if args.json:
            print(json.dumps(walk, default=str, indent=2))
            return 0
        for p in walk:
            where = p["source_url"] if p["asset_key"] in ("posts", "creators") else ""
            files = "  ".join(f"{k} sha256 {v[:12]}" for k, v in {**p["inputs"], **p["outputs"]}.items())
            print(f"{'  ' * p['depth']}{p['asset_key']}[{p['partition_key']}] {p['stardust_id']}")
            if where or files:
                print(f"{'  ' * p['depth']}  {where or files}")
        return 0
    # Dagster's event log is the ledger: mirror what finished since the last look, then walk it.
    sync_lineage(dagster_instance(), wh)
    rows = insights.lineage(wh, args.clip)
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    for r in rows:
        print(f"{r['step_order']:>2} {r['step']:<11} {r['asset_key']:<16} {r['location'] or ''}")
        extra = "  ".join(
            x
            for x in (
                f"sha256 {r['checksum']}" if r["checksum"] else "",
                r["detail"] or "",
                f"run {r['run_id'][:8]} event {r['storage_id']}",
            )
            if x
        )
        print(f"   {'':<11} {extra}")
    return 0


def cmd_quarantine(args) -> int:
    from omniva_resources.resources import OmnivaStore

    store = OmnivaStore()
    if args.action == "release":
        released = store.release(args.partition, by=_operator())
        if not released:
            raise OmnivaError(f"{args.partition!r} is not quarantined (see `omniva quarantine list`)")
        print(f"released {args.partition} ({', '.join(released)}); the next run or sensor tick retries it")
        return 0
    rows = store.warehouse.query_file("quarantined_partitions")
    for r in rows:
        print(
            f"{r['partition']}\t{r['asset_key']}\t{r['failure_class']}\t{r['failures']}x\t{r['reason'][:160]}"
        )
    if not rows:
        print("nothing is quarantined")
    return 0


def _operator() -> str:
    """Who released a quarantined partition: the login name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def cmd_warehouse(args) -> int:
    from omniva_resources.warehouse import Warehouse

    lay = layout()
    print(Warehouse(lay.warehouse, lay.duckdb_path).refresh_views())
    return 0


def cmd_emulator(args) -> int:
    from omniva_devkit.loopback import DEFAULT_API_ROOT
    from omniva_devkit.youtube_emulator import DEV_TOKEN, YouTubeEmulator

    port = int(args.port or urlsplit(DEFAULT_API_ROOT).port or 0)
    # Omniva's launcher for its emulator mode (``make ui``, a second terminal): the tokens it
    # issued and, explicitly, the fixed dev token that mode sends; --lax-auth: any token;
    # --oauth-only: issued tokens only (as ``python -m omniva_devkit.youtube_emulator``).
    emu = YouTubeEmulator(
        Path(args.data_dir) if args.data_dir else layout().home / "youtube-emulator",
        port=port,
        strict_auth=not args.lax_auth,
        dev_token=None if args.oauth_only else DEV_TOKEN,
        quota_model=args.quota_model,
        channel_upload_limit=args.channel_upload_limit,
    )
    print(f"YouTube API emulator on {emu.start()} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()
    return 0


def cmd_youtube(args) -> int:
    """Connect YouTube channels (OAuth) and show tokens and quota; never prints a secret."""
    from omniva_resources import youtube
    from omniva_resources.resources import resources_from_env
    from omniva_resources.youtube.auth import TokenStore, authorize

    resources = resources_from_env()
    api = resources["youtube_api"]  # OMNIVA_YOUTUBE_SECRETS_DIR, OMNIVA_YOUTUBE_API_ROOT
    secrets_dir = args.secrets_dir or api.secrets_dir
    store = TokenStore(Path(secrets_dir).expanduser() if secrets_dir else None)
    if args.action == "auth":
        channel = args.channel or resources["publish_rules"].channel  # OMNIVA_CHANNEL, the goals'
        token = authorize(
            Path(args.client_secrets).expanduser(),
            channel,
            store=store,
            console=args.console,
            open_browser=args.browser,
            port=args.port,
            scopes=youtube.MINIMAL_SCOPES if args.minimal_scopes else youtube.YOUTUBE_SCOPES,
        )
        who = f"{token.channel_title} ({token.channel_id})" if token.channel_id else "channel not read back"
        print(f"connected {channel}: {who}; token saved to {token.path} (mode {token.mode})")
        print(f"uploads use it with OMNIVA_CHANNEL={channel} and OMNIVA_YOUTUBE_API_ROOT= (empty)")
        return 0
    api_root = api.api_root
    print(f"uploads go to {api_root or 'YouTube (' + youtube.YOUTUBE_API_ROOT + ')'}")
    print(f"tokens in {store.root}")
    channels = store.channels()
    for name in channels:
        t = store.describe(name)
        who = f"{t.channel_title} ({t.channel_id})" if t.channel_id else "?"
        scopes = ",".join(s.rsplit("/", 1)[-1] for s in t.scopes) or "?"
        refresh = "refresh token" if t.has_refresh_token else "NO refresh token"
        print(
            f"  {name}\t{who}\tscopes {scopes}\t{refresh}\taccess token expires {t.expiry or '?'}\tmode {t.mode}"
        )
    if not channels:
        print("  (none: run `omniva youtube auth --client-secrets client_secret.json --channel NAME`)")
    quota_dir = layout().home / "youtube-quota"
    print(f"quota (buckets per Google Cloud project, per Pacific day) in {quota_dir}")
    for path in sorted(quota_dir.glob("*.json")):
        st = youtube.QuotaLedger.from_file(path).status()
        spent = f", exhausted ({st['exhausted']})" if st["exhausted"] else ""
        print(f"  {st['project']}\t{st['day']}\tmodel {st['model']}{spent}\tresets {st['resets_at']}")
        for b in st["buckets"]:
            full = f", exhausted ({b['exhausted']})" if b["exhausted"] else ""
            print(
                f"    {b['bucket']}\t{b['used']}/{b['limit']} {b['unit']} used{full}\tresets {b['resets_at']}"
            )
        for name, ch in st["channels"].items():
            paused = f", paused ({ch['paused']}) until {ch['resets_at']}" if ch["paused"] else ""
            print(f"    channel {name}\t{ch['uploads']} upload(s) today{paused}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="omniva", description="Open clip farm on Dagster.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("transcribe", help="words with timestamps for any audio or video file")
    t.add_argument("file")
    t.add_argument("--json", action="store_true")
    # Left out: the asr_model resource's setting (OMNIVA_ASR_<FIELD>, else its default).
    t.add_argument("--model", help="model for English speech (default: bundled:tiny.en)")
    t.add_argument("--device", help="cpu or cuda (default: cpu)")
    t.add_argument("--compute-type", help="CTranslate2 compute type (default: int8)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--word-timing", choices=["auto", "whisperx-align", "faster-whisper"])
    t.add_argument("--language", help="the spoken language (ISO 639-1, e.g. es); default: detected")
    t.add_argument(
        "--multilingual-model", help="model for languages other than English (default: bundled:base)"
    )
    t.set_defaults(func=cmd_transcribe)

    c = sub.add_parser("creators", help="add, list or remove creators")
    csub = c.add_subparsers(dest="action", required=True)
    a = csub.add_parser("add")
    a.add_argument("name")
    a.add_argument("url", help="channel, /@handle, playlist, profile, feed, page, or a folder path")
    sources_cli.add_creator_options(a)
    r = csub.add_parser("remove")
    r.add_argument("name")
    csub.add_parser("list")
    c.set_defaults(func=cmd_creators)
    sources_cli.add_parsers(sub)  # omniva sources check|fetch, omniva projects ...

    run = sub.add_parser("run", help="run a creator's posts for a date range (UTC days)")
    run.add_argument("--creator", required=True)
    run.add_argument("--since")
    run.add_argument("--until")
    run.add_argument(
        "--refresh-stale",
        action="store_true",
        help="also re-render clips Dagster reports unsynced (render code or parameters changed)",
    )
    run.add_argument(
        "--queue",
        action="store_true",
        help="submit the runs through the instance's run coordinator (production: the daemon "
        "launches them within the queue's limits, on the Celery workers) instead of running them here",
    )
    run.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="the whole pipeline on the bundled sample creator")
    d.add_argument(
        "--port", type=int, help="the sample creator site's port (default: OMNIVA_SAMPLE_PORT, 8088)"
    )
    d.add_argument(
        "--youtube-port", type=int, help="the loopback YouTube API emulator's port (default: 8089)"
    )
    d.add_argument(
        "--max-clips-per-video",
        type=int,
        default=2,
        help="most clips Pantheon picks from one video (default: 2, one day of YouTube quota)",
    )
    d.add_argument(
        "--review",
        choices=("auto", "required"),
        default="auto",
        help="the demo project's review mode: auto (default) publishes unattended; required holds "
        "every upload until its clip is approved on the dashboard",
    )
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
    li.add_argument(
        "--packets", action="store_true", help="walk the Stardust packets by their _meta_parents instead"
    )
    li.set_defaults(func=cmd_lineage)

    q = sub.add_parser("quarantine", help="Eclipse's quarantined partitions: list, or release one")
    qsub = q.add_subparsers(dest="action", required=True)
    qsub.add_parser("list")
    qr = qsub.add_parser("release")
    qr.add_argument("partition")
    q.set_defaults(func=cmd_quarantine)

    w = sub.add_parser("warehouse", help="refresh the DuckDB views over the warehouse")
    w.set_defaults(func=cmd_warehouse)

    e = sub.add_parser("youtube-emulator", help="serve the loopback YouTube API emulator")
    e.add_argument("--port", type=int, help="default: 8089")
    e.add_argument("--data-dir")
    e.add_argument("--lax-auth", action="store_true", help="accept any bearer token")
    e.add_argument(
        "--oauth-only",
        action="store_true",
        help="only tokens it issued, not the fixed token Omniva's emulator mode sends",
    )
    e.add_argument("--quota-model", choices=("buckets", "legacy"), default="buckets")
    e.add_argument("--channel-upload-limit", type=int, default=0, help="uploads a day (0: no limit)")
    e.set_defaults(func=cmd_emulator)

    yt = sub.add_parser("youtube", help="connect YouTube channels (OAuth) and show tokens and quota")
    ytsub = yt.add_subparsers(dest="action", required=True)
    ya = ytsub.add_parser("auth", help="authorize a channel with a Desktop-app OAuth client")
    ya.add_argument(
        "--client-secrets", required=True, help="client_secret.json of a 'Desktop app' OAuth client"
    )
    ya.add_argument("--channel", help="token name (default: OMNIVA_CHANNEL, else the goals' channel)")
    ya.add_argument("--console", action="store_true", help="no local browser: paste the redirected address")
    ya.add_argument("--browser", action="store_true", help="open the link in this machine's browser")
    ya.add_argument("--port", type=int, default=0, help="loopback redirect port (default: any free one)")
    ya.add_argument(
        "--minimal-scopes", action="store_true", help="upload + read only (no captions, playlists)"
    )
    ya.add_argument(
        "--secrets-dir", help="default: OMNIVA_YOUTUBE_SECRETS_DIR, else $OMNIVA_HOME/secrets/youtube"
    )
    ys = ytsub.add_parser("status", help="connected channels, token expiry and today's quota")
    ys.add_argument(
        "--secrets-dir", help="default: OMNIVA_YOUTUBE_SECRETS_DIR, else $OMNIVA_HOME/secrets/youtube"
    )
    yt.set_defaults(func=cmd_youtube)

    add_api_parser(sub)  # omniva api [--port 8090] | omniva api keys create|list|revoke
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
