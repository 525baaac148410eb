-- Other videos (first parameter: the checksum; second: the video itself) with the same file: Paradox's duplicate check.
SELECT video_key FROM videos WHERE checksum = ? AND video_key <> ?
