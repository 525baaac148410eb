-- One row per clip with its creator and pipeline status. $1: the project's creators.
SELECT c.clip_id, c.video_id, c.video_key, c.rank, v.creator, c.start_time, c.end_time, c.confidence,
       c.semantic_tags, c.pantheon_votes, c.lattice_priority,
       CASE WHEN u.status IS NOT NULL THEN u.status
            WHEN r.clip_id IS NOT NULL THEN 'READY_FOR_UPLOAD'
            WHEN e.clip_id IS NOT NULL THEN 'EDITING'
            ELSE 'READY_FOR_EDIT' END AS status,
       count(*) OVER () AS total
FROM clips c
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = c.video_key
LEFT JOIN upload_jobs u ON u.clip_id = c.clip_id
LEFT JOIN renders r ON r.clip_id = c.clip_id
LEFT JOIN edit_jobs e ON e.clip_id = c.clip_id
WHERE list_contains($1, v.creator)
ORDER BY c.video_key, c.rank
LIMIT $2 OFFSET $3
