"""Notifications in Dagster (#29): one sensor that looks at the farm, raises the alerts
(``omniva.alerts``) and sends each to the channels of the projects it concerns
(``omniva_resources.notify``), once per channel.

What it looks at, every minute:

- failed runs of the last two days whose retries are spent: the step retries are inside the
  run; a run Dagster will retry (``dagster/will_retry``, ``dagster/max_retries``) or Eclipse
  ordered a retry or a quota deferral of waits for that; a run of a job Eclipse watches waits up
  to ``ECLIPSE_GRACE`` for Eclipse's verdict;
- each stage's crisis mode (``policy.stage_crisis``, the rule Zenith applies), compared with
  what the sensor saw last;
- the quota ledgers (a bucket spent, a channel paused for its upload limit);
- each project's channel token (revoked, or ending within three days);
- clips of review-required projects waiting longer than the project's ``review_wait_hours``.

Whom an alert goes to: the run's project (its creator's: the ``omniva/creator`` tag or its
partition), the projects publishing to the channel; what concerns the whole farm (a stage's
crisis, a run no project owns, the Google Cloud project's quota) goes to every project with
notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster import DagsterEventType

from omniva import alerts
from omniva.alerts import Alert
from omniva.settings import dagster_ui_url, notify_allow_loopback
from omniva_assets.policy import STAGES, stage_crisis
from omniva_resources import notify, projects
from omniva_resources.project_file import Project
from omniva_resources.resources import OmnivaStore, YouTubeResource

log = logging.getLogger("omniva.notifications")

LOOKBACK = timedelta(days=2)
ECLIPSE_GRACE = timedelta(minutes=10)
#: The jobs Eclipse's run-failure sensor judges (omniva_assets/eclipse.py).
ECLIPSE_JOBS = frozenset({"posts_job", "video_job", "download_job", "clip_job", "upload_job"})
FARM = None  # an alert's projects: None means every project with notifications


@dataclass
class Report:
    """What one evaluation did (the sensor's skip reason)."""

    raised: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.raised} alert(s) current, {self.sent} delivery(ies) made"
        return text + (f"; {len(self.failed)} failed: {'; '.join(self.failed[:3])}" if self.failed else "")


# ---------------------------------------------------------------- whom
class Owners:
    """Which projects an alert concerns: by creator, by channel."""

    def __init__(self, listed: list[Project], store: OmnivaStore):
        self.listed = listed
        self.store = store
        self.by_creator = {c: f"proj_{p.name}" for p in listed for c in p.creators}

    def of_channel(self, channel: str) -> list[str] | None:
        owners = [f"proj_{p.name}" for p in self.listed if p.channel == channel]
        return owners or FARM

    def of_run(self, run: dg.DagsterRun) -> list[str] | None:
        creator = run.tags.get("omniva/creator") or self._creator_of(run.tags.get("dagster/partition"))
        owner = self.by_creator.get(creator or "")
        return [owner] if owner else FARM

    def _creator_of(self, partition: str | None) -> str | None:
        if not partition:
            return None
        head, sep, tail = partition.partition("|")
        if sep and not head.isdigit():
            return head  # posts: creator|day
        video = tail if sep else partition
        if video in self.by_creator:
            return video  # creators: the creator's own partition
        rows = self.store.warehouse.query_file("creators_of_videos", [[video]])
        return str(rows[0]["creator"]) if rows else None


# ---------------------------------------------------------------- what
def _failure_message(instance: dg.DagsterInstance, run_id: str) -> tuple[str, bool]:
    """The first step failure's message (else the run failure's), and whether a step failed."""
    steps = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records
    for record in steps:
        event = record.event_log_entry.dagster_event
        error = getattr(getattr(event, "event_specific_data", None), "error", None)
        user = getattr(getattr(event, "event_specific_data", None), "user_failure_data", None)
        text = getattr(user, "description", None) or _root_cause(error)
        step = record.event_log_entry.step_key or "?"
        if text:
            return f"step {step}: {str(text).strip()}", True
    runs = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records
    for record in runs:
        if record.event_log_entry.user_message:
            return record.event_log_entry.user_message.strip(), bool(steps)
    return "", bool(steps)


def _root_cause(error: object) -> str | None:
    """The error a step's retries ended on: Dagster wraps it ("Exceeded max_retries of 1",
    "Error occurred while executing op"), the cause at the bottom is the code's own."""
    if error is None:
        return None
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    name, message = getattr(error, "cls_name", None), str(getattr(error, "message", "") or "").strip()
    return f"{name}: {message}" if name and not message.startswith(f"{name}:") else message


def _retry_pending(run: dg.DagsterRun) -> bool:
    """Whether Dagster's run retries will launch this run again."""
    will = run.tags.get("dagster/will_retry")
    if will is not None:
        return will.lower() == "true"
    try:
        return int(run.tags.get("dagster/retry_number", 0)) < int(run.tags.get("dagster/max_retries", 0))
    except ValueError:
        return False


def failed_runs(
    instance: dg.DagsterInstance,
    store: OmnivaStore,
    owners: Owners,
    now: datetime,
    ui: str,
    settled: set[str],
) -> list[tuple[Alert, list[str] | None]]:
    """Alerts for the runs that failed with no retry to come (``settled``: the alerts sent
    already, whose runs are not read again)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=now - LOOKBACK),
        limit=200,
    )
    records = [r for r in records if alerts.run_failed_key(r.dagster_run.run_id) not in settled]
    if not records:
        return []
    ids = [r.dagster_run.run_id for r in records]
    actions = {
        str(row["run_id"]): set(row["actions"] or ())
        for row in store.warehouse.query_file("eclipse_actions_of_runs", [ids])
    }
    out = []
    for record in records:
        run = record.dagster_run
        ended = datetime.fromtimestamp(record.end_time, UTC) if record.end_time else record.update_timestamp
        ended = ended if ended.tzinfo else ended.replace(tzinfo=UTC)
        verdict = actions.get(run.run_id)
        if _retry_pending(run) or (verdict and verdict & {"retry", "defer"}):
            continue  # the retry is judged in its turn; a quota deferral has its own alert
        message, step_failed = _failure_message(instance, run.run_id)
        if verdict is None and step_failed and run.job_name in ECLIPSE_JOBS and now - ended < ECLIPSE_GRACE:
            continue  # Eclipse has not judged it yet: it may still retry it
        partition = run.tags.get("dagster/partition")
        alert = alerts.run_failed(run.run_id, run.job_name, partition, message, ended, ui)
        out.append((alert, owners.of_run(run)))
    return out


def crises(
    instance: dg.DagsterInstance, store: OmnivaStore, ledger: notify.SentLedger, now: datetime, ui: str
) -> list[tuple[Alert, list[str] | None]]:
    """The latest crisis transition of each stage, from the state the sensor keeps (so a
    transition whose delivery failed is tried again on the next tick)."""
    state = ledger.crisis_state()
    current = {stage.job: stage_crisis(instance, store, stage.job) for stage in STAGES.values()}
    changes = alerts.crisis_changes({job: s.get("reason") for job, s in state.items()}, current)
    unseen = set(current) - set(state)
    for job, entered, reason in changes:
        episode = int(state.get(job, {}).get("episode", 0)) + (1 if entered else 0)
        state[job] = {"reason": reason if entered else None, "last_reason": reason, "episode": episode,
                      "changed_at": alerts.iso(now)}  # fmt: skip
    for job in unseen - {job for job, _, _ in changes}:
        state[job] = {"reason": None, "last_reason": None, "episode": 0, "changed_at": alerts.iso(now)}
    if changes or unseen:
        ledger.set_crisis_state(state)
    out: list[tuple[Alert, list[str] | None]] = []
    for job, s in sorted(state.items()):
        if not s.get("episode"):
            continue
        at = alerts.parse_time(s.get("changed_at")) or now
        entered = bool(s.get("reason"))
        out.append(
            (alerts.crisis_changed(job, entered, s.get("last_reason") or "", s["episode"], at, ui), FARM)
        )
    return out


def quotas(store: OmnivaStore, owners: Owners) -> list[tuple[Alert, list[str] | None]]:
    out: list[tuple[Alert, list[str] | None]] = []
    for status in notify.quota_statuses(store.layout.home):
        channels = [c for c in (status.get("channels") or {}) if owners.of_channel(c)]
        for alert in alerts.quota_alerts(status):
            if alert.kind == "upload_limit":
                out.append((alert, owners.of_channel(dict(alert.details)["channel"])))
            else:
                mine = sorted({o for c in channels for o in owners.of_channel(c) or ()})
                out.append((alert, mine or FARM))
    return out


def tokens(
    youtube_api: YouTubeResource, store: OmnivaStore, owners: Owners, now: datetime
) -> list[tuple[Alert, list[str] | None]]:
    token_store = youtube_api.token_store(store.layout.home)
    out: list[tuple[Alert, list[str] | None]] = []
    for channel in sorted({p.channel for p in owners.listed if p.channel}):
        facts = notify.token_facts(token_store, channel)
        alert = alerts.token_alert(facts, now) if facts else None
        if alert is not None:
            out.append((alert, owners.of_channel(channel)))
    return out


def reviews(
    store: OmnivaStore,
    owners: Owners,
    configured: dict[str, notify.NotificationSettings],
    now: datetime,
    ui: str,
) -> list[tuple[Alert, list[str] | None]]:
    out: list[tuple[Alert, list[str] | None]] = []
    for p in owners.listed:
        pid, s = f"proj_{p.name}", configured.get(f"proj_{p.name}")
        if p.review != "required" or s is None or not p.creators or "review_waiting" not in s.events:
            continue
        cutoff = now - timedelta(hours=s.review_wait_hours)
        for row in store.warehouse.query_file("clips_awaiting_review", [list(p.creators), cutoff]):
            rendered = row["rendered_at"]
            rendered = rendered if rendered.tzinfo else rendered.replace(tzinfo=UTC)
            alert = alerts.review_waiting(
                row["clip_id"], row["clip_key"], row["creator"], rendered, now, s.review_wait_hours, ui
            )
            if alert is not None:
                out.append((alert, [pid]))
    return out


# ---------------------------------------------------------------- the evaluation
def notify_once(
    instance: dg.DagsterInstance,
    store: OmnivaStore,
    youtube_api: YouTubeResource,
    now: datetime | None = None,
    ui: str | None = None,
    allow_loopback: bool | None = None,
) -> Report:
    """Raise every current alert and send what no channel has had yet (the sensor's body; the
    tests call it with their own instance)."""
    now = now or datetime.now(UTC)
    ui = ui or dagster_ui_url()
    home = store.layout.home
    notifier = notify.Notifier(home, notify_allow_loopback() if allow_loopback is None else allow_loopback)
    listed = projects.list_projects(store.layout)
    existing = {f"proj_{p.name}" for p in listed}
    configured = {}
    for pid in notifier.store.projects():
        try:
            s = notifier.store.load(pid) if pid in existing else None  # a removed project: no one to tell
        except (notify.DeliveryError, ValueError):
            continue
        if s is not None and s.channels():
            configured[pid] = s
    report = Report()
    if not configured:
        return report
    owners = Owners(listed, store)
    collectors: dict[str, Callable[[], list[tuple[Alert, list[str] | None]]]] = {
        "failed runs": lambda: failed_runs(instance, store, owners, now, ui, notifier.ledger.settled()),
        "crisis mode": lambda: crises(instance, store, notifier.ledger, now, ui),
        "quota": lambda: quotas(store, owners),
        "tokens": lambda: tokens(youtube_api, store, owners, now),
        "reviews": lambda: reviews(store, owners, configured, now, ui),
    }
    found: list[tuple[Alert, list[str] | None]] = []
    for what, collect in collectors.items():
        try:
            found += collect()
        except Exception as exc:  # one unreadable source must not silence the others
            log.warning("notifications: could not look at %s", what, exc_info=True)
            report.failed.append(f"looking at {what}: {type(exc).__name__}")
    report.raised = len(found)
    for alert, targets in found:
        for pid, delivery in notifier.dispatch(alert, _targets(targets, configured)):
            if delivery.delivered:
                report.sent += 1
            else:
                report.failed.append(f"{pid} {delivery.channel}: {delivery.error}")
    return report


def _targets(targets: list[str] | None, configured: Mapping[str, object]) -> Iterable[str]:
    return sorted(configured) if targets is FARM else [t for t in targets if t in configured]


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notifications (#29): run failures after retries, crisis mode, quota and upload limits, "
    "expiring or revoked tokens, clips waiting for review; each alert once per channel "
    "(docs/notifications.md).",
)
def notifications_sensor(
    context: dg.SensorEvaluationContext, store: OmnivaStore, youtube_api: YouTubeResource
):
    report = notify_once(context.instance, store, youtube_api)
    return dg.SkipReason(str(report))
