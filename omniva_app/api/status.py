"""``GET /v1/system/status``: the Dagster instance, its daemons, the run queue, YouTube
quota left per channel, quarantined partitions, and Zenith's view of each stage."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from omniva_app.api.dagster_ops import WORKER_OF_JOB, Actions
from omniva_assets.eclipse import stage_crisis
from omniva_resources.resources import OmnivaStore, resources_from_env

IN_FLIGHT = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def daemons(instance: dg.DagsterInstance) -> dict:
    out = {}
    for kind, st in instance.get_daemon_statuses(instance.get_required_daemon_types()).items():
        hb = st.last_heartbeat
        out[kind] = {
            "healthy": bool(st.healthy),
            "last_heartbeat": _iso(hb.timestamp) if hb else None,
            "errors": [e.message for e in (hb.errors or [])][:3] if hb else [],
        }
    return out


def quota_per_channel(store: OmnivaStore, channels: list[str]) -> list[dict]:
    """Today's YouTube quota for each channel's Google Cloud project (one ledger per project)."""
    youtube_api = resources_from_env()["youtube_api"]
    home = store.layout.home
    out = []
    for channel in channels:
        try:
            ledger = youtube_api.quota_ledger(youtube_api.credentials(channel, home), home)
            st = ledger.status()
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
                }
            )
        except Exception as exc:  # noqa: BLE001 - e.g. a channel without a token: say so, per channel
            out.append({"channel": channel, "error": f"{type(exc).__name__}: {exc}"})
    return out


def system_status(actions: Actions, channels: list[str]) -> dict:
    instance, store = actions.instance, actions.store
    count = lambda statuses, job=None: instance.get_runs_count(  # noqa: E731
        dg.RunsFilter(statuses=statuses, job_name=job)
    )
    api_waiting = [r for j in actions.pending() for r in j.runs if r.status == "QUEUED"]
    workers = {}
    for job_name, worker in WORKER_OF_JOB.items():
        if job_name == "creators_job":
            continue
        crisis = stage_crisis(instance, store, job_name)
        workers[worker] = {
            "status": "DEGRADED" if crisis else "HEALTHY",
            "reason": crisis,
            "queue_depth": count(WAITING, job_name) + sum(r.job_name == job_name for r in api_waiting),
            "running": count(IN_FLIGHT, job_name),
        }
    heartbeats = daemons(instance)
    last = max((d["last_heartbeat"] for d in heartbeats.values() if d["last_heartbeat"]), default=None)
    quarantined = store.warehouse.query_file("quarantined_partitions")
    return {
        "instance": {
            "dagster_home": instance.root_directory,
            "run_storage": type(instance.run_storage).__name__,
            "event_log_storage": type(instance.event_log_storage).__name__,
            "run_coordinator": type(instance.run_coordinator).__name__,
            "run_launcher": type(instance.run_launcher).__name__,
            "api_launches": f"GraphQL {actions.graphql_url}" if actions.graphql_url else "in-process",
        },
        "daemons": heartbeats,
        "queues": {
            "dagster_queued_runs": count(WAITING),
            "dagster_runs_in_progress": count(IN_FLIGHT),
            "api_jobs_pending": len(actions.pending()),
            "api_runs_waiting": len(api_waiting),
        },
        "workers": workers,
        "database": {
            "status": "HEALTHY",
            "warehouse": str(store.layout.warehouse),
            "duckdb": str(store.layout.duckdb_path),
        },
        "quota": quota_per_channel(store, channels),
        "quarantined": [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in quarantined
        ],
        "cognitive_layer": {
            "status": "HEALTHY" if all(w["status"] == "HEALTHY" for w in workers.values()) else "DEGRADED",
            "last_heartbeat": last,
            "automation": actions.automation(),
        },
    }
