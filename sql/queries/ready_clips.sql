-- Clips with a finished render and copy: what the publish plan may schedule.
SELECT c.clip_id,
       CAST(c.rank AS VARCHAR) || '|' || c.video_key AS clip_key,
       c.lattice_priority AS priority,
       v.creator
FROM clips c
JOIN renders r ON r.clip_id = c.clip_id
JOIN clip_copy cc ON cc.clip_id = c.clip_id
LEFT JOIN videos v ON v.video_key = c.video_key
ORDER BY c.lattice_priority DESC, clip_key
