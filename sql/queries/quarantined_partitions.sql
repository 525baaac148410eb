-- Partitions Eclipse quarantined and nobody released yet.
SELECT partition_key AS partition, asset_key, failure_class, reason, failures, quarantined_at
FROM quarantine
WHERE released_at IS NULL
ORDER BY quarantined_at
