-- The demo summary's clips: each render with its source span, title, Pantheon's consensus and
-- dissent, and upload (or the planned slot of a clip not uploaded yet), by publish time.
SELECT c.video_key, c.rank, c.start_time, c.end_time, r.duration_seconds, r.size_bytes,
       r.integrated_lufs, r.resolution, r.file_path, u.yt_video_id,
       coalesce(u.scheduled_time, s.final_scheduled_time) AS scheduled_time, u.status,
       cc.title, c.confidence AS consensus,
       json_array_length(json_extract(c.metadata, '$.dissent')) AS dissenters
FROM clips c
JOIN renders r USING (clip_id)
LEFT JOIN upload_jobs u USING (clip_id)
LEFT JOIN schedules s ON s.clip_id = c.clip_id
LEFT JOIN clip_copy cc USING (clip_id)
ORDER BY coalesce(u.scheduled_time, s.final_scheduled_time) NULLS LAST, c.video_key, c.rank
