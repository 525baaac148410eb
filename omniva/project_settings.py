"""A project's settings (#29): what a person may set per project, how each is checked, and which
value is in force.

Precedence, highest first: the project's own value (``PUT /v1/projects/{id}/settings``, kept in
``projects.json``); the deployment's environment variable (README's configuration table); the
Horizon goals file (cadence, topics, brand words); the built-in default. ``in_force`` answers
each setting's value *and* where it comes from, which the dashboard shows and the Stardust
packets of the runs it influenced record.

Pure: the callers read ``projects.json``, the environment and the goals file, and pass them in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omniva import templates

__all__ = [
    "SETTINGS",
    "InForce",
    "ProjectSetting",
    "SettingsError",
    "changed",
    "in_force",
    "validate",
]

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_TOPICS, MAX_EXAMPLES, MAX_TEXT = 12, 20, 300
MAX_WORDS = 200


class SettingsError(ValueError):
    """One or more settings refused: ``problems`` is ``[(field, why), ...]``."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {w}" for f, w in problems))
        self.problems = problems


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
            raise ValueError(f"a whole number from {lo} to {hi}")
        if not lo <= int(v) <= hi:
            raise ValueError(f"must be from {lo} to {hi} (got {int(v)})")
        return int(v)

    return check


def _seconds(lo: float, hi: float) -> Callable[[Any], float]:
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"a number of seconds from {lo:g} to {hi:g}")
        if not lo <= float(v) <= hi:
            raise ValueError(f"must be from {lo:g} to {hi:g} seconds (got {float(v):g})")
        return float(v)

    return check


def _slots(v: Any) -> list[str]:
    if not isinstance(v, list) or not v:
        raise ValueError("a list of one or more times of day, HH:MM (24 h)")
    bad = [str(t) for t in v if not isinstance(t, str) or not HHMM.match(t.strip())]
    if bad:
        raise ValueError(f"not a time of day HH:MM: {', '.join(bad[:3])}")
    times = sorted({t.strip() for t in v})
    if len(times) > 24:
        raise ValueError("at most 24 slots a day")
    return times


def _zone(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("an IANA time zone name, e.g. Europe/Berlin")
    try:
        ZoneInfo(v.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not a time zone (an IANA name such as Europe/Berlin)") from None
    return v.strip()


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return str(v)

    return check


def _flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("true or false")
    return v


def _words(v: Any) -> list[str]:
    if not isinstance(v, list) or any(not isinstance(w, str) for w in v):
        raise ValueError("a list of words or phrases")
    words = [w.strip() for w in v if w.strip()]
    if len(words) > MAX_WORDS or any(len(w) > 80 for w in words):
        raise ValueError(f"at most {MAX_WORDS} entries of 80 characters each")
    return list(dict.fromkeys(words))


def _topics(v: Any) -> dict[str, list[str]]:
    if not isinstance(v, dict):
        raise ValueError("topic name -> a list of example sentences")
    if len(v) > MAX_TOPICS:
        raise ValueError(f"at most {MAX_TOPICS} topics")
    out: dict[str, list[str]] = {}
    for name, examples in v.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9 _-]{0,39}", name):
            raise ValueError(f"topic name {name!r}: lowercase letters, digits, space, - or _ (up to 40)")
        if not isinstance(examples, list) or not examples or any(not isinstance(e, str) for e in examples):
            raise ValueError(f"topic {name!r}: a list of one or more example sentences")
        kept = [e.strip() for e in examples if e.strip()]
        if not kept or len(kept) > MAX_EXAMPLES or any(len(e) > MAX_TEXT for e in kept):
            raise ValueError(
                f"topic {name!r}: 1 to {MAX_EXAMPLES} example sentences of up to {MAX_TEXT} characters"
            )
        out[name] = kept
    return out


def _template(limit: int) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError("a template: text with {{variables}}")
        if len(v) > limit:
            raise ValueError(f"at most {limit} characters")
        try:
            templates.check(v)
        except templates.TemplateError as exc:
            raise ValueError(str(exc)) from None
        return v.strip()

    return check


@dataclass(frozen=True)
class ProjectSetting:
    name: str
    label: str
    group: str  # the Settings page's section
    check: Callable[[Any], Any]
    default: Any  # built-in, when neither the environment nor the goals file sets it
    help: str
    env: str | None = None  # the deployment-wide variable (README's configuration table)
    goals_field: str | None = None  # the Horizon goals file's field, when it has one
    advanced: bool = False
    #: what a change influences: the Dagster assets whose next runs read it
    influences: tuple[str, ...] = ()


SETTINGS: tuple[ProjectSetting, ...] = (
    ProjectSetting(
        "daily_clips", "Clips a day", "Posting", _int(1, 10), 5,
        "Uploads a day to the project's channel (its cadence; YouTube's quota only bounds it).",
        env="OMNIVA_DAILY_QUOTA", goals_field="daily_quota", influences=("publish_plan",),
    ),
    ProjectSetting(
        "slot_times", "Daily slots", "Posting", _slots, ["14:00", "16:00", "18:00", "20:00", "22:00"],
        "Times of day the clips publish at (HH:MM in the time zone below).",
        influences=("publish_plan",),
    ),
    ProjectSetting(
        "time_zone", "Time zone", "Posting", _zone, "UTC",
        "The zone the slots are read in and days are counted in (the audience's).",
        env="OMNIVA_SLOT_TIME_ZONE", influences=("publish_plan",),
    ),
    ProjectSetting(
        "review", "Review before publish", "Posting", _choice("auto", "required"), "auto",
        "required: every upload waits until a person approves its clip; auto: uploads go unreviewed.",
        influences=("uploads",),
    ),
    ProjectSetting(
        "scrape_window_days", "Scraping window (days)", "Sources", _int(1, 60), 7,
        "How many past days a scrape lists when no days are given; set here, the daily schedule also "
        "lists the days of this window not listed yet (otherwise it lists the day before).",
        influences=("posts",),
    ),
    ProjectSetting(
        "goal_topics", "Goal topics", "Goals", _topics, {},
        "Topic -> example sentences (any language): Horizon matches clips to them by meaning.",
        goals_field="topics", influences=("clip_candidates", "clip_selections"),
    ),
    ProjectSetting(
        "banned_words", "Banned words", "Goals", _words, [],
        "Brand rules: the guardian vetoes a clip that says one of these.",
        goals_field="banned_words", influences=("clip_selections",),
    ),
    ProjectSetting(
        "title_template", "Title template", "Copy", _template(300), "",
        "The title with {{variables}} (e.g. {{title}} | {{creator}}); empty: Chorus's title.",
        influences=("uploads",),
    ),
    ProjectSetting(
        "description_template", "Description template", "Copy", _template(5000), "",
        "The description with {{variables}}; empty: Chorus's description.",
        influences=("uploads",),
    ),
    ProjectSetting(
        "tags_template", "Tags template", "Copy", _template(1000), "",
        "Comma-separated tags with {{variables}} (e.g. {{keyphrases}}, shorts); empty: Chorus's tags.",
        influences=("uploads",),
    ),
    ProjectSetting(
        "clip_min_s", "Shortest clip (s)", "Clips", _seconds(5, 60), 5.0,
        "Candidates shorter than this after cuts are not considered.", advanced=True,
        influences=("clip_candidates",),
    ),
    ProjectSetting(
        "clip_max_s", "Longest clip (s)", "Clips", _seconds(10, 180), 120.0,
        "Candidates longer than this after cuts are not considered (Shorts: 180 s at most).", advanced=True,
        influences=("clip_candidates",),
    ),
    ProjectSetting(
        "clip_target_s", "Preferred length (s)", "Clips", _seconds(5, 180), 35.0,
        "The length the editor agent favours.", advanced=True, influences=("clip_candidates",),
    ),
    ProjectSetting(
        "render_layout", "Layout", "Clips", _choice("auto", "audiogram", "reframe"), "auto",
        "auto: an audiogram for a still picture or audio only, the face-aware reframe for moving video; "
        "or force either for the project's next renders (a creator's own layout still wins).",
        env="OMNIVA_RENDER_LAYOUT", influences=("renders",),
    ),
    ProjectSetting(
        "watermark", "Logo watermark", "Clips", _flag, False,
        "Lay the channel's logo (uploaded on the Channels page) over the top-right corner of the "
        "project's next renders.", influences=("renders",),
    ),
    ProjectSetting(
        "max_clips_per_video", "Clips per video", "Clips", _int(1, 10), 3,
        "Most clips Pantheon picks from one video.",
        env="OMNIVA_MAX_CLIPS_PER_VIDEO", advanced=True, influences=("clip_selections",),
    ),
)  # fmt: skip
BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class InForce:
    name: str
    value: Any
    source: str  # "project" | "environment" | "goals" | "default"
    where: str  # the variable, the goals file, or "built-in"

    def as_dict(self) -> dict[str, Any]:
        s = BY_NAME[self.name]
        return {
            "name": self.name,
            "label": s.label,
            "group": s.group,
            "advanced": s.advanced,
            "help": s.help,
            "value": self.value,
            "source": self.source,
            "where": self.where,
            "env": s.env,
            "default": s.default,
            "influences": list(s.influences),
        }


def validate(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes, checked and normalised; ``None`` for a setting removes the project's own
    value (the deployment's is in force again). ``SettingsError`` names every bad field."""
    problems: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        spec = BY_NAME.get(name)
        if spec is None:
            problems.append((name, f"no such setting (settings: {', '.join(BY_NAME)})"))
            continue
        if value is None:
            clean[name] = None
            continue
        try:
            clean[name] = spec.check(value)
        except ValueError as exc:
            problems.append((name, str(exc)))
    lo, hi = clean.get("clip_min_s"), clean.get("clip_max_s")
    if isinstance(lo, float) and isinstance(hi, float) and lo >= hi:
        problems.append(("clip_min_s", f"must be below clip_max_s ({lo:g} >= {hi:g})"))
    if problems:
        raise SettingsError(problems)
    return clean


def in_force(
    project: Mapping[str, Any],
    environ: Mapping[str, str],
    goals: Mapping[str, Any],
    goals_file: str = "the goals file",
) -> list[InForce]:
    """Each setting's value and where it comes from: the project's own value, else the
    environment variable, else the goals file, else the built-in default."""
    out = []
    for s in SETTINGS:
        if project.get(s.name) is not None:
            out.append(InForce(s.name, project[s.name], "project", "project settings"))
            continue
        raw = environ.get(s.env) if s.env else None
        if raw:
            try:
                out.append(InForce(s.name, s.check(_parse_env(raw, s)), "environment", str(s.env)))
                continue
            except ValueError:
                pass  # a bad variable is the deployment's error, reported where it is read
        if s.goals_field and goals.get(s.goals_field) not in (None, {}, [], ()):
            value = goals[s.goals_field]
            if isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out.append(InForce(s.name, value, "goals", goals_file))
            continue
        out.append(InForce(s.name, s.default, "default", "built-in"))
    return out


def _parse_env(raw: str, s: ProjectSetting) -> Any:
    if isinstance(s.default, bool):
        return raw.strip().lower() in ("1", "true", "on", "yes")
    if isinstance(s.default, int):
        return int(raw)
    if isinstance(s.default, float):
        return float(raw)
    return raw


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> {"before", "after"} for each setting whose value in force changed."""
    return {
        k: {"before": before.get(k), "after": after.get(k)} for k in BY_NAME if before.get(k) != after.get(k)
    }
