-- When a person last approved a clip (the publish plan sensor re-plans after an approval, so
-- the upload sensor, fed by new plans, launches the clip Zenith held for review).
SELECT CAST(max(created_at) AS VARCHAR) AS at FROM clip_reviews WHERE decision = 'approve'
