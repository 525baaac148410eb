-- Every publish slot already planned (the publish plan never moves them).
SELECT * FROM schedules
