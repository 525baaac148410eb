-- Analyses of the project's videos, best first. $1 creators, $2 min virality, $3 limit, $4 offset.
SELECT a.analysis_id, a.video_id, a.video_key, v.creator, a.virality_score, a.relevance_score, a.keywords,
       a.created_at, count(*) OVER () AS total
FROM analysis a
JOIN (SELECT DISTINCT video_key, creator FROM videos) v ON v.video_key = a.video_key
WHERE list_contains($1, v.creator) AND coalesce(a.virality_score, 0) >= $2
ORDER BY a.virality_score DESC NULLS LAST, a.video_key
LIMIT $3 OFFSET $4
