-- Lattice's inputs for each clip in a list ($1: clip partition keys "RANK|VIDEO_KEY"): Pantheon's
-- consensus and the clip's goal topic (from the selection, so they are known before the clip
-- runs), and when its video was posted (the latest listing's posted_at; NULL when unknown).
WITH selected AS (
    SELECT CAST(selected_rank AS VARCHAR) || '|' || video_key AS clip_key,
           video_key,
           consensus,
           json_extract_string(features, '$.goal_topic') AS topic
    FROM clip_candidates
    WHERE selected_rank IS NOT NULL
),
posted AS (
    SELECT video_key, max_by(posted_at, listed_on) AS posted_at, max_by(creator, listed_on) AS creator
    FROM posts
    GROUP BY video_key
)
SELECT s.clip_key, s.consensus, p.posted_at, p.creator, s.topic
FROM selected s
LEFT JOIN posted p ON p.video_key = s.video_key
WHERE list_contains($1, s.clip_key)
ORDER BY s.clip_key
