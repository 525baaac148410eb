-- For each clip partition in $1 (rank|video): its copy (a person's latest edit over Chorus's)
-- and its latest review.
WITH keys AS (SELECT DISTINCT unnest($1) AS partition_key),
edits AS (
    SELECT DISTINCT ON (partition_key) partition_key, title, description, keywords, author
    FROM clip_copy_edits
    ORDER BY partition_key, created_at DESC, edit_id
),
reviews AS (
    SELECT DISTINCT ON (partition_key) partition_key, decision, reason, author, created_at
    FROM clip_reviews
    ORDER BY partition_key, created_at DESC, review_id
)
SELECT k.partition_key,
       COALESCE(e.title, cc.title) AS title,
       COALESCE(e.description, cc.description) AS description,
       COALESCE(e.keywords, cc.keywords) AS tags,
       e.author AS edited_by,
       r.decision AS review_decision, r.reason AS review_reason, r.author AS reviewed_by,
       r.created_at AS reviewed_at
FROM keys k
LEFT JOIN clips c ON CAST(c.rank AS VARCHAR) || '|' || c.video_key = k.partition_key
LEFT JOIN clip_copy cc ON cc.clip_id = c.clip_id
LEFT JOIN edits e ON e.partition_key = k.partition_key
LEFT JOIN reviews r ON r.partition_key = k.partition_key
