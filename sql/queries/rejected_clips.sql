-- Clip partitions whose latest review rejects them (the publish plan leaves them out).
SELECT partition_key, author, reason
FROM (
    SELECT DISTINCT ON (partition_key) partition_key, decision, author, reason
    FROM clip_reviews
    ORDER BY partition_key, created_at DESC, review_id
)
WHERE decision = 'reject'
