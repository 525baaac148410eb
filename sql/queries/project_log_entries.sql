-- The warehouse log of one project (#28), newest first: the rows of its creators' partitions
-- and clips and of its API actions. $1 its creators, $2 its project id, $3 the ids of the
-- keys scoped to it, $4 source, $5 levels (a list), $6 since, $7 until, $8 worker,
-- $9 limit, $10 offset. Each row: its clip (a clip partition) and Stardust's packet, if known.
WITH v AS (SELECT DISTINCT video_key FROM videos WHERE list_contains($1, creator)),
     c AS (SELECT CAST(clips.clip_id AS VARCHAR) AS clip_id,
                  CAST(clips.rank AS VARCHAR) || '|' || clips.video_key AS partition
           FROM clips JOIN v USING (video_key)),
     l AS (SELECT CAST(log_id AS VARCHAR) AS log_id, source, level, message,
                  CAST(metadata AS VARCHAR) AS metadata, created_at,
                  json_extract_string(metadata, '$.partition') AS partition,
                  json_extract_string(metadata, '$.clip_id') AS meta_clip_id,
                  json_extract_string(metadata, '$.run_id') AS run_id,
                  json_extract_string(metadata, '$.project_id') AS project_id,
                  json_extract_string(metadata, '$.key_id') AS key_id,
                  json_extract_string(metadata, '$.creator') AS creator,
                  coalesce(json_extract_string(metadata, '$.worker'),
                           json_extract_string(metadata, '$.worker_type')) AS worker,
                  json_extract_string(metadata, '$.stardust_id') AS meta_stardust_id
           FROM logs),
     mine AS (SELECT l.*, coalesce(l.meta_clip_id, c.clip_id) AS clip_id
              FROM l LEFT JOIN c ON c.partition = l.partition
              WHERE l.project_id = $2 OR list_contains($3, l.key_id) OR list_contains($1, l.creator)
                 OR list_contains($1, split_part(l.partition, '|', 1))
                 OR l.partition IN (SELECT video_key FROM v) OR c.clip_id IS NOT NULL
                 OR l.meta_clip_id IN (SELECT clip_id FROM c)),
     picked AS (SELECT *, count(*) OVER () AS total FROM mine
                WHERE ($4 IS NULL OR source = $4)
                  AND ($5 IS NULL OR list_contains($5, level))
                  AND ($6 IS NULL OR created_at >= $6)
                  AND ($7 IS NULL OR created_at <= $7)
                  AND ($8 IS NULL OR worker = $8 OR source = $8)
                ORDER BY created_at DESC, log_id
                LIMIT $9 OFFSET $10),
     sd AS (SELECT run_id, partition_key, min(CAST(stardust_id AS VARCHAR)) AS stardust_id
            FROM stardust_metadata WHERE run_id IN (SELECT run_id FROM picked) GROUP BY ALL)
SELECT p.log_id, p.source, p.level, p.message, p.metadata, p.created_at, p.partition, p.clip_id,
       p.run_id, p.worker, coalesce(p.meta_stardust_id, sd.stardust_id) AS stardust_id, p.total
FROM picked p
LEFT JOIN sd ON sd.run_id = p.run_id AND sd.partition_key IS NOT DISTINCT FROM p.partition
ORDER BY p.created_at DESC, p.log_id
