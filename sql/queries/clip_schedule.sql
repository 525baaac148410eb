-- One clip's publish slot, if the publish plan gave it one. $1 clip id.
SELECT * FROM schedules WHERE CAST(clip_id AS VARCHAR) = $1
