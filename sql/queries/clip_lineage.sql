-- One clip's chain back to its source, step by step, with checksums. $1 clip id.
SELECT step_order, step, asset_key, entity_id, checksum, location, detail
FROM clip_lineage
WHERE CAST(clip_id AS VARCHAR) = $1
ORDER BY step_order
