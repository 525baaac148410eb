-- The latest person's edit of a clip's copy. $1 the clip's partition key (rank|video).
SELECT title, description, keywords, author, created_at
FROM clip_copy_edits
WHERE partition_key = $1
ORDER BY created_at DESC, edit_id
LIMIT 1
