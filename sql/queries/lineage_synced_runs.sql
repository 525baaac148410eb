-- Runs already mirrored from Dagster's event log, with the version they were mirrored at.
SELECT run_id, synced_version FROM dagster_runs
