-- One clip's render: length, encoding, loudness, checksum and file. $1 clip id.
SELECT duration_seconds, resolution, encoder, integrated_lufs, checksum, file_path
FROM renders
WHERE CAST(clip_id AS VARCHAR) = $1
