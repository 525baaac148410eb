-- Paradox checks that concern one clip's video or the clip itself. $1 video key, $2 clip key.
SELECT asset_key, check_name, partition_key, passed, description, created_at
FROM dagster_checks
WHERE partition_key IN ($1, $2)
ORDER BY created_at DESC
