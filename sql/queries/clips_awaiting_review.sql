-- Rendered clips of the creators in $1 with no review yet and no upload, rendered at or before $2
-- (notifications, #29: a review-required project's clips that wait too long). Ids compare as text.
SELECT CAST(c.clip_id AS VARCHAR) AS clip_id,
       CAST(c.rank AS VARCHAR) || '|' || c.video_key AS clip_key,
       v.creator,
       min(r.created_at) AS rendered_at
FROM clips c
JOIN renders r ON r.clip_id = c.clip_id
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
WHERE list_contains($1, v.creator)
  AND CAST(c.clip_id AS VARCHAR) NOT IN (SELECT CAST(clip_id AS VARCHAR) FROM clip_reviews)
  AND CAST(c.clip_id AS VARCHAR) NOT IN (SELECT CAST(clip_id AS VARCHAR) FROM upload_jobs
                                         WHERE status <> 'DEFERRED')
GROUP BY c.clip_id, c.rank, c.video_key, v.creator
HAVING min(r.created_at) <= $2
ORDER BY rendered_at, clip_key
