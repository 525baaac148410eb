"""``GET /v1/system/status``: the Dagster instance, its daemons, the run queue, YouTube
quota left per channel, quarantined partitions, and Zenith's view of each stage.

An admin key sees all of it. A project key sees its own channels' quota and its creators'
quarantined partitions (``ProjectScope``), the stages' health and the queue's counts, and none
of the server's paths or internal addresses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from omniva_app.api.dagster_ops import WORKER_OF_JOB, Actions
from omniva_assets.policy import stage_crisis
from omniva_resources.resources import OmnivaStore, resources_from_env

IN_FLIGHT = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]


@dataclass(frozen=True, slots=True)
class ProjectScope:
    """What a project key may see: its creators and their videos' partition keys."""

    creators: frozenset[str]
    videos: frozenset[str]

    def owns(self, asset_key: str, partition: str) -> bool:
        """Whether a partition (``creator``, ``creator|day``, ``video`` or ``rank|video``) is the project's."""
        head, _, _ = partition.partition("|")
        if "posts" in asset_key or "creators" in asset_key:
            return head in self.creators
        return partition in self.videos or partition.split("|", 1)[-1] in self.videos


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def daemons(instance: dg.DagsterInstance, with_errors: bool = True) -> dict:
    """Each daemon's health; ``with_errors``: its last errors' text too (admins only: it can
    name any project's partitions and the server's paths)."""
    out = {}
    for kind, st in instance.get_daemon_statuses(instance.get_required_daemon_types()).items():
        hb = st.last_heartbeat
        out[kind] = {
            "healthy": bool(st.healthy),
            "last_heartbeat": _iso(hb.timestamp) if hb else None,
            "errors": [e.message for e in (hb.errors or [])][:3] if hb and with_errors else [],
        }
    return out


def quota_per_channel(store: OmnivaStore, channels: list[str]) -> list[dict]:
    """Today's YouTube quota for each channel's Google Cloud project (one ledger per project)."""
    youtube_api = resources_from_env()["youtube_api"]
    home = store.layout.home
    out = []
    for channel in channels:
        try:
            ledger = youtube_api.quota_ledger(youtube_api.credentials(channel, home), home, channel)
            st = ledger.status()
            mine = st["channels"].get(channel) or {"uploads": 0, "paused": None}
            out.append(
                {
                    "channel": channel,
                    "project": st["project"],
                    "day": st["day"],
                    "used": st["used"],
                    "budget": st["budget"],
                    "remaining": st["remaining"],
                    "exhausted": st["exhausted"],
                    "resets_at": st["resets_at"],
                    # Each bucket of the project (videos.insert, search.list, the shared pool):
                    # use, limit and reset; and this channel's uploads today and its pause.
                    "model": st["model"],
                    "buckets": st["buckets"],
                    "uploads_today": mine["uploads"],
                    "upload_limit_paused": mine["paused"],
                }
            )
        except Exception as exc:  # noqa: BLE001 - e.g. a channel without a token: say so, per channel
            out.append({"channel": channel, "error": f"{type(exc).__name__}: {exc}"})
    return out


def _hide_paths(row: dict, store: OmnivaStore, scope: ProjectScope | None) -> dict:
    """A project key's copy of a row whose error text may name the server's folders."""
    if scope is None or "error" not in row:
        return row
    return {**row, "error": str(row["error"]).replace(str(store.layout.home), "$OMNIVA_HOME")}


def _quarantined(store: OmnivaStore, scope: ProjectScope | None) -> list[dict]:
    home = str(store.layout.home)
    out = []
    for r in store.warehouse.query_file("quarantined_partitions"):
        row = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
        if scope is not None:
            if not scope.owns(str(row["asset_key"]), str(row["partition"])):
                continue
            row["reason"] = str(row["reason"] or "").replace(home, "$OMNIVA_HOME")
        out.append(row)
    return out


def pools(actions: Actions) -> dict:
    """Each worker pool (a stage's job): Zenith's health, runs waiting (Dagster's queue and the
    API's) and runs in progress."""
    instance, store = actions.instance, actions.store
    api_waiting = [r for j in actions.pending() for r in j.runs if r.status == "QUEUED"]
    out = {}
    for job_name, worker in WORKER_OF_JOB.items():
        if job_name == "creators_job":
            continue
        crisis = stage_crisis(instance, store, job_name)
        waiting = instance.get_runs_count(dg.RunsFilter(statuses=WAITING, job_name=job_name))
        out[worker] = {
            "status": "DEGRADED" if crisis else "HEALTHY",
            "reason": crisis,
            "queue_depth": waiting + sum(r.job_name == job_name for r in api_waiting),
            "running": instance.get_runs_count(dg.RunsFilter(statuses=IN_FLIGHT, job_name=job_name)),
        }
    return out


def asr_worker(home: Path) -> dict:
    """The speech-recognition worker's heartbeat: whether its socket is there (it leaves when idle)."""
    from omniva_resources import asr_worker as worker

    try:
        alive = worker.socket_path(home).exists()
    except Exception:  # noqa: BLE001 - e.g. the temp folder is not this user's: unknown
        return {"running": None, "checked_at": _iso(time.time())}
    return {"running": alive, "checked_at": _iso(time.time())}


def code_server(actions: Actions, admin: bool) -> dict | None:
    """The code server the API launches through (GraphQL), where known; None when in-process."""
    if not actions.graphql_url:
        return None
    return {"kind": "graphql", "address": actions.graphql_url if admin else None}


def system_status(actions: Actions, channels: list[str], scope: ProjectScope | None = None) -> dict:
    """The status for ``channels``; ``scope``: a project key's view (None: an admin's)."""
    instance, store = actions.instance, actions.store
    count = lambda statuses, job=None: instance.get_runs_count(  # noqa: E731
        dg.RunsFilter(statuses=statuses, job_name=job)
    )
    api_waiting = [r for j in actions.pending() for r in j.runs if r.status == "QUEUED"]
    workers = pools(actions)
    heartbeats = daemons(instance, with_errors=scope is None)
    last = max((d["last_heartbeat"] for d in heartbeats.values() if d["last_heartbeat"]), default=None)
    launches = (
        ("GraphQL" if scope else f"GraphQL {actions.graphql_url}") if actions.graphql_url else "in-process"
    )
    about = {
        "run_storage": type(instance.run_storage).__name__,
        "event_log_storage": type(instance.event_log_storage).__name__,
        "run_coordinator": type(instance.run_coordinator).__name__,
        "run_launcher": type(instance.run_launcher).__name__,
        "api_launches": launches,
    }
    database = {"status": "HEALTHY"}
    if scope is None:
        about = {"dagster_home": instance.root_directory, **about}
        database.update(warehouse=str(store.layout.warehouse), duckdb=str(store.layout.duckdb_path))
    return {
        "instance": about,
        "daemons": heartbeats,
        "queues": {
            "dagster_queued_runs": count(WAITING),
            "dagster_runs_in_progress": count(IN_FLIGHT),
            "api_jobs_pending": len(actions.pending()),
            "api_runs_waiting": len(api_waiting),
        },
        "workers": workers,
        "database": database,
        "quota": [_hide_paths(q, store, scope) for q in quota_per_channel(store, channels)],
        "quarantined": _quarantined(store, scope),
        "cognitive_layer": {
            "status": "HEALTHY" if all(w["status"] == "HEALTHY" for w in workers.values()) else "DEGRADED",
            "last_heartbeat": last,
            "automation": actions.automation(),
        },
    }
