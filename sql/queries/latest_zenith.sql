-- Zenith's latest decisions on some partitions. $1 partition keys.
SELECT partition_key, stage, action, reason, source, decided_at
FROM zenith_decisions
WHERE list_contains($1, partition_key)
ORDER BY decided_at DESC
