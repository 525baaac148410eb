"""``omniva sources ...`` and ``omniva projects ...`` (registered by ``omniva_app.cli``)."""

from __future__ import annotations

import argparse
import json
import time
from datetime import date

from omniva.errors import OmnivaError
from omniva.redact import redact_text, split_credentials
from omniva.settings import layout

# The commands import what they use when they run: building the parser (every `omniva` call)
# must not import the driver (Dagster), the source readers or the YouTube client (issue #20).


def cmd_sources(args) -> int:
    from omniva_app.driver import runner
    from omniva_resources import creators, sources
    from omniva_resources.source_guard import SourceAccess, origin_of

    if args.action == "check":
        url, credentials = split_credentials(args.url)
        url = creators.normalize_url(url)
        # The user typed it here: a local address is on purpose; a password stays in memory.
        access = SourceAccess(True, credentials, origin_of(url))
        posts, read_as = sources.check(url, args.limit, access=access)
        if args.json:
            print(json.dumps([_post_json(p) for p in posts], indent=1))
            return 0
        print(
            f"{url}: read as {read_as}; first {len(posts)} entr{'y' if len(posts) == 1 else 'ies'} (nothing downloaded)"
        )
        for p in posts:
            duration = p.raw_metadata.get("duration")
            length = f"{float(duration):.0f}s" if duration is not None else "?"
            licence = f"\tlicence: {p.raw_metadata['license']}" if p.raw_metadata.get("license") else ""
            print(
                f"{(p.posted_at or 'undated'):<20}\t{length:>6}\t{p.platform_post_id}\t{p.title[:70]}\t{p.url}{licence}"
            )
        if not posts:
            print("  (no entries: check the URL in a browser; a login may be needed, see --cookies)")
        return 0
    # fetch: list and download only, as Dagster runs
    creators.get(layout(), args.creator)
    if not creators.is_active(layout(), args.creator):
        raise OmnivaError(
            f"creator {args.creator!r} was removed: no new work for it (add it again to resume; its history stays)"
        )
    today = date.today()
    since = date.fromisoformat(args.since) if args.since else today
    until = date.fromisoformat(args.until) if args.until else since
    if until < since:
        raise OmnivaError(f"--until {until} is before --since {since}")
    started = time.perf_counter()
    report = runner().fetch_creator(args.creator, since, until)
    print(
        f"{len(report.video_keys)} video(s) listed, {report.runs} run(s), {len(report.failures)} failed, "
        f"{time.perf_counter() - started:.1f} s"
    )
    for f in report.failures:
        print(f"  ✗ {f.partition}: {redact_text(f.message)}")
    return 0


def _post_json(p) -> dict:
    return {
        "id": p.platform_post_id,
        "posted_at": p.posted_at,
        "title": p.title,
        "duration": p.raw_metadata.get("duration"),
        "license": p.raw_metadata.get("license"),
        "url": p.url,
    }


def cmd_projects(args) -> int:
    from omniva_resources import projects

    if args.action == "add":
        p = projects.add_project(
            args.name, args.channel, goals=args.goals, description=args.description or ""
        )
        print(f"project {p.name}: channel {p.channel}, goals {p.goals or 'config/horizon.yaml (default)'}")
    elif args.action == "remove":
        p = projects.remove_project(args.name)
        print(
            f"removed project {p.name}; its creators ({', '.join(p.creators) or 'none'}) and their history stay"
        )
    elif args.action == "add-creator":
        p = projects.add_creator(args.project, args.creator)
        print(f"{args.creator} is in project {p.name} ({len(p.creators)} creator(s))")
    elif args.action == "remove-creator":
        p = projects.remove_creator(args.project, args.creator)
        print(f"{args.creator} left project {p.name}; `omniva creators remove {args.creator}` stops its work")
    elif args.action in ("start", "stop"):
        p = projects.set_automation(args.name, args.action == "start", reason="omniva projects")
        print(
            f"project {p.name}: automation {p.automation} (the sensors and the daily schedule "
            f"{'serve' if p.automation == 'on' else 'skip'} its creators; `omniva run` always runs them)"
        )
    elif args.action == "settings":
        return _project_settings(args)
    else:
        rows = projects.list_projects()
        if args.json:
            print(json.dumps([p.as_dict() for p in rows], indent=1))
            return 0
        for p in rows:
            print(
                f"{p.name}\tchannel {p.channel}\tcreators {','.join(p.creators) or '-'}"
                f"\tgoals {p.goals or 'default'}\tautomation {'off' if p.stopped else 'on'}"
            )
        if not rows:
            print("no projects (add one with `omniva projects add NAME --channel CHANNEL`)")
    return 0


def _project_settings(args) -> int:
    """``omniva projects settings NAME [--set KEY=VALUE ...] [--unset KEY ...]`` (#29): the same
    settings, checks and audit as the dashboard's Settings page."""
    from omniva.project_settings import SettingsError
    from omniva_resources import projects
    from omniva_resources.resources import OmnivaStore, resources_from_env

    changes: dict = {}
    for item in args.set or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise OmnivaError(f"--set {item!r}: write KEY=VALUE (a JSON value, or text)")
        try:
            changes[key.strip()] = json.loads(raw)
        except ValueError:
            changes[key.strip()] = raw
    changes |= dict.fromkeys(args.unset or [])
    goals = resources_from_env()["horizon"].goals_file or None
    lay = layout()
    if changes:
        try:
            diff = projects.set_settings(args.name, changes, lay, default_goals=goals)
        except SettingsError as exc:
            raise OmnivaError(f"settings of project {args.name} refused: {exc}") from None
        if diff:
            OmnivaStore(home=str(lay.home)).log(
                "cli",
                "INFO",
                f"settings of proj_{args.name} changed: {', '.join(sorted(diff))}",
                project_id=f"proj_{args.name}",
                event="settings_changed",
                changes=diff,
                key_id="omniva-cli",
            )
        for name, c in diff.items():
            print(f"{name}: {json.dumps(c['before'])} -> {json.dumps(c['after'])}")
        if not diff:
            print("nothing changed")
    rows = projects.settings_in_force(args.name, lay, default_goals=goals)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=1, default=str))
        return 0
    for r in rows:
        print(f"{r.name}\t{json.dumps(r.value)}\t({r.source}: {r.where})")
    return 0


def add_creator_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``omniva creators add`` beyond NAME and URL."""
    parser.add_argument("--project", help="add the creator to this project")
    parser.add_argument(
        "--language", help="the language the creator speaks (ISO 639-1, e.g. es): skips detection"
    )
    parser.add_argument(
        "--cookies", help="Netscape cookies.txt for sources that need a login (kept owner-only)"
    )
    parser.add_argument("--min-duration", type=float, help="skip posts shorter than this (seconds)")
    parser.add_argument("--max-duration", type=float, help="skip posts longer than this (seconds)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--shorts-only", action="store_const", const="shorts", dest="kind", help="only Shorts")
    kind.add_argument("--long-only", action="store_const", const="long", dest="kind", help="no Shorts")


def creator_add_kwargs(args) -> dict:
    from omniva.source_rules import SourceRules

    rules = None
    if args.min_duration is not None or args.max_duration is not None or args.kind:
        rules = SourceRules(args.min_duration, args.max_duration, args.kind or "any")
    return {"cookies": args.cookies, "rules": rules, "project": args.project, "language": args.language}


def add_parsers(sub) -> None:
    s = sub.add_parser("sources", help="check a source URL (no download), or fetch a creator's posts only")
    ssub = s.add_subparsers(dest="action", required=True)
    c = ssub.add_parser("check", help="list the first entries of a URL without downloading")
    c.add_argument("url", help="channel, /@handle, playlist, profile, feed, page, or a folder path")
    c.add_argument("--limit", type=int, default=10)
    c.add_argument("--json", action="store_true")
    f = ssub.add_parser("fetch", help="list and download a creator's posts for a date range; no processing")
    f.add_argument("--creator", required=True)
    f.add_argument("--since")
    f.add_argument("--until")
    s.set_defaults(func=cmd_sources)

    p = sub.add_parser("projects", help="projects: creators grouped for a target channel and its goals")
    psub = p.add_subparsers(dest="action", required=True)
    a = psub.add_parser("add", help="create or update a project")
    a.add_argument("name")
    a.add_argument("--channel", required=True, help="target channel (the YouTube token's name)")
    a.add_argument("--goals", help="Horizon goals YAML (like config/horizon.yaml)")
    a.add_argument("--description")
    r = psub.add_parser("remove", help="remove the project (creators and history stay)")
    r.add_argument("name")
    ls = psub.add_parser("list")
    ls.add_argument("--json", action="store_true")
    for name, text in (("start", "sensors serve its creators"), ("stop", "sensors skip its creators")):
        x = psub.add_parser(name, help=f"automation on or off for this project only: the {text}")
        x.add_argument("name")
    for name in ("add-creator", "remove-creator"):
        x = psub.add_parser(name)
        x.add_argument("project")
        x.add_argument("creator")
    st = psub.add_parser(
        "settings",
        help="the project's settings with where each value comes from; --set / --unset change them",
    )
    st.add_argument("name")
    st.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="e.g. daily_clips=3, slot_times='[\"09:00\"]'"
    )
    st.add_argument("--unset", action="append", metavar="KEY", help="give the setting back to the deployment")
    st.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_projects)
