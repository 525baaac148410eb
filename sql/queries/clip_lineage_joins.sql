-- One clip's chain from the warehouse tables joined by hand (the cross-check). $1 clip id.
SELECT step_order, step, asset_key, entity_id, checksum, location, detail
FROM clip_lineage_joins
WHERE CAST(clip_id AS VARCHAR) = $1
ORDER BY step_order
