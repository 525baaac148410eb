-- Every transcript but the video's own (the parameter): Paradox's near-duplicate speech check.
SELECT video_key, text FROM transcripts WHERE video_key <> ?
