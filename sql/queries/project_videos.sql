-- Video partition keys of the project's creators (listed in posts). $1 creators.
SELECT DISTINCT video_key FROM posts WHERE list_contains($1, creator)
