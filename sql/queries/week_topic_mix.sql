-- How many clips of each goal topic are scheduled within a week either side of now
-- (Horizon's mix so far; the topic is the one Pantheon's strategist read at selection).
SELECT json_extract_string(cc.features, '$.goal_topic') AS topic, count(*) AS n
FROM schedules s
JOIN clips c ON c.clip_id = s.clip_id
JOIN clip_candidates cc ON cc.candidate_id = c.candidate_id
WHERE s.final_scheduled_time BETWEEN now() - INTERVAL 7 DAY AND now() + INTERVAL 7 DAY
  AND json_extract_string(cc.features, '$.goal_topic') IS NOT NULL
GROUP BY 1
