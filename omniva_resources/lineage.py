"""Mirror Dagster's own ledger (runs, steps, materializations, check results) into the warehouse.

Works on any instance storage (SQLite or PostgreSQL) through the instance API. Each
finished run becomes one Parquet file per table, named by its run id: syncing is
incremental (runs already mirrored and unchanged are skipped) and idempotent
(re-syncing a run rewrites the same file, so rows are never duplicated).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from omniva_resources.warehouse import Warehouse, file_lock

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass(frozen=True, slots=True)
class SyncReport:
    runs_seen: int
    runs_synced: int
    materializations: int
    checks: int


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ts else None


def _meta_json(metadata: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in metadata.items():
        raw = getattr(value, "value", value)
        if hasattr(raw, "md_str"):
            raw = raw.md_str
        try:
            json.dumps(raw)
            out[key] = raw
        except TypeError:
            out[key] = str(raw)
    return out


def _synced_versions(wh: Warehouse) -> dict[str, str]:
    try:
        return {r["run_id"]: r["synced_version"] for r in wh.query_file("lineage_synced_runs")}
    except Exception:  # no runs mirrored yet
        return {}


def sync_lineage(instance: dg.DagsterInstance, wh: Warehouse) -> SyncReport:
    """Copy every finished run's events into the warehouse tables ``dagster_*``."""
    lock = wh.root / ".lineage.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock):
        known = _synced_versions(wh)
        records = instance.get_run_records(filters=dg.RunsFilter(statuses=FINISHED))
        synced = mats = checks = 0
        for rec in records:
            run = rec.dagster_run
            version = f"{run.status.value}:{rec.update_timestamp.timestamp():.6f}"
            if known.get(run.run_id) == version:
                continue
            m, c = _sync_run(instance, wh, rec, version)
            synced += 1
            mats += m
            checks += c
        return SyncReport(len(records), synced, mats, checks)


def _materialization_row(record: dg.EventLogRecord, run: dg.DagsterRun) -> dict | None:
    """The ``dagster_materializations`` row of an event, or None if it is not a materialization."""
    entry = record.event_log_entry
    m = entry.asset_materialization
    if m is None:
        return None
    tags = m.tags or {}
    return {
        "storage_id": record.storage_id,
        "run_id": run.run_id,
        "job_name": run.job_name,
        "asset_key": m.asset_key.to_user_string(),
        "partition_key": m.partition,
        "step_key": entry.step_key,
        "created_at": _iso(entry.timestamp),
        "data_version": tags.get("dagster/data_version"),
        "code_version": tags.get("dagster/code_version"),
        "input_data_versions": {
            k.split("/")[-1]: v for k, v in tags.items() if k.startswith("dagster/input_data_version/")
        },
        "metadata": _meta_json(m.metadata),
        "parents": parents_in(m),
    }


def parents_in(m: dg.AssetMaterialization) -> list[dict]:
    """The parent partitions a materialization names (``lineage/parents``: asset, partition,
    the parent materialization's storage id, run and data version)."""
    value = m.metadata.get("lineage/parents")
    raw = getattr(value, "value", value)
    return [dict(p) for p in raw] if isinstance(raw, list) else []


def _check_row(record: dg.EventLogRecord, run: dg.DagsterRun) -> dict | None:
    """The ``dagster_checks`` row of an event, or None if it is not a check evaluation."""
    entry = record.event_log_entry
    c = entry.asset_check_evaluation
    if c is None:
        return None
    return {
        "storage_id": record.storage_id,
        "run_id": run.run_id,
        "asset_key": c.asset_key.to_user_string(),
        "check_name": c.check_name,
        "partition_key": c.partition or run.tags.get("dagster/partition"),
        "passed": bool(c.passed),
        "severity": c.severity.value if c.severity else None,
        "description": c.description,
        "metadata": _meta_json(c.metadata or {}),
        "created_at": _iso(entry.timestamp),
    }


def _sync_run(
    instance: dg.DagsterInstance, wh: Warehouse, rec: dg.RunRecord, version: str
) -> tuple[int, int]:
    run = rec.dagster_run
    mat_rows, check_rows = [], []
    conn = instance.get_records_for_run(
        run.run_id,
        of_type={dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION},
    )
    for record in conn.records:
        mat = _materialization_row(record, run)
        if mat is not None:
            mat_rows.append(mat)
        check = _check_row(record, run)
        if check is not None:
            check_rows.append(check)
    step_rows = [
        {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "step_key": s.step_key,
            "status": s.status.value if s.status else None,
            "partition_key": run.tags.get("dagster/partition"),
            "started_at": _iso(s.start_time),
            "ended_at": _iso(s.end_time),
            "duration_s": round(s.end_time - s.start_time, 3) if s.start_time and s.end_time else None,
            "attempts": s.attempts,
        }
        for s in instance.get_run_step_stats(run.run_id)
    ]
    wh.write_partition("dagster_materializations", run.run_id, mat_rows)
    wh.write_partition("dagster_checks", run.run_id, check_rows)
    wh.write_partition("dagster_steps", run.run_id, step_rows)
    wh.write_partition(
        "dagster_runs",
        run.run_id,
        [
            {
                "run_id": run.run_id,
                "job_name": run.job_name,
                "status": run.status.value,
                "partition_key": run.tags.get("dagster/partition"),
                "started_at": _iso(rec.start_time),
                "ended_at": _iso(rec.end_time),
                "tags": dict(run.tags),
                "synced_version": version,
            }
        ],
    )
    return len(mat_rows), len(check_rows)
