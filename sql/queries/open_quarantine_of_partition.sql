-- The quarantine entries of a partition (the parameter) that no operator released yet.
SELECT * FROM quarantine WHERE partition_key = ? AND released_at IS NULL
