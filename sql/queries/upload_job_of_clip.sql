-- A clip's upload record. $1 the clip's id.
SELECT * FROM upload_jobs WHERE clip_id = $1
