-- How many uploads the channel (the parameter) has scheduled within a week either side of now.
SELECT count(*) AS n
FROM schedules
WHERE channel = ?
  AND final_scheduled_time BETWEEN now() - INTERVAL 7 DAY AND now() + INTERVAL 7 DAY
