-- Decisions of the cognitive layer (Zenith, Eclipse) and the quarantine list.

CREATE TABLE zenith_decisions (
    decision_id UUID NOT NULL,
    source TEXT NOT NULL,          -- the sensor, schedule or CLI that decided
    stage TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    action TEXT NOT NULL,          -- request | skip | defer
    reason TEXT NOT NULL,
    tags JSON,
    decided_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE eclipse_decisions (
    decision_id UUID NOT NULL,
    run_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    step_key TEXT NOT NULL,
    partition_key TEXT,
    error_type TEXT,
    message TEXT,
    failure_class TEXT NOT NULL,   -- transient | quota | bad_input | bug
    failures INTEGER NOT NULL,
    action TEXT NOT NULL,          -- retry | defer | quarantine
    reason TEXT NOT NULL,
    defer_until TIMESTAMPTZ,
    decided_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE quarantine (
    asset_key TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    failure_class TEXT NOT NULL,
    reason TEXT NOT NULL,
    failures INTEGER NOT NULL,
    run_id TEXT,
    quarantined_at TIMESTAMPTZ NOT NULL,
    released_at TIMESTAMPTZ,
    released_by TEXT
);
