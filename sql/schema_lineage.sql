-- Dagster's own ledger, mirrored from the instance (SQLite or PostgreSQL) by
-- `omniva lineage sync` / the lineage sensor: one Parquet file per run and table.

CREATE TABLE dagster_runs (
    run_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    partition_key TEXT,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    tags JSON,
    synced_version TEXT NOT NULL
);

CREATE TABLE dagster_steps (
    run_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    step_key TEXT NOT NULL,
    status TEXT,
    partition_key TEXT,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    duration_s DOUBLE,
    attempts INTEGER
);

CREATE TABLE dagster_materializations (
    storage_id BIGINT NOT NULL,
    run_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    partition_key TEXT,
    step_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    data_version TEXT,
    code_version TEXT,
    input_data_versions JSON,
    metadata JSON,
    parents JSON
);

CREATE TABLE dagster_checks (
    storage_id BIGINT NOT NULL,
    run_id TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    check_name TEXT NOT NULL,
    partition_key TEXT,
    passed BOOLEAN NOT NULL,
    severity TEXT,
    description TEXT,
    metadata JSON,
    created_at TIMESTAMPTZ NOT NULL
);
