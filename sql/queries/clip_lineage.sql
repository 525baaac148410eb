-- One clip's chain back to its source, from Dagster's event log (mirrored), with checksums
-- and each step's Stardust packet. $1 clip id.
SELECT step_order, step, asset_key, partition_key, run_id, storage_id, data_version, checksum,
       location, detail, stardust_id, packet
FROM clip_lineage
WHERE CAST(clip_id AS VARCHAR) = $1
ORDER BY step_order, partition_key
