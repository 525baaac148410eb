"""Videos once uploaded: ``videos.list``, ``videos.update`` (status), ``thumbnails.set`` and
``captions.insert``."""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import hashlib
import json
import secrets

from omniva_devkit.youtube_emulator.errors import ApiError, required_parts
from omniva_devkit.youtube_emulator.store import Store, now_rfc3339
from omniva_devkit.youtube_emulator.uploads import publish_time

MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024


def list_videos(store: Store, query: dict[str, str]) -> dict:
    parts = required_parts(query)
    ids = [i for i in query.get("id", "").split(",") if i]
    store.charge("videos.list")
    with store.lock:
        items = [store.render(store.videos[i], parts) for i in ids if i in store.videos]
    return {
        "kind": "youtube#videoListResponse",
        "etag": hashlib.sha1(",".join(ids).encode()).hexdigest()[:27],
        "items": items,
        "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
    }


def update_video(store: Store, query: dict[str, str], body: bytes) -> dict:
    """``videos.update``: this emulator takes ``part=status`` (the part Omniva changes: a
    scheduled video's ``publishAt``), replacing the whole part as YouTube does."""
    parts = required_parts(query)
    if parts != {"status"}:
        raise ApiError(400, "This emulator updates part=status only.", "invalidPart")
    try:
        resource = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, "The request body is not JSON.", "parseError") from exc
    vid = str(resource.get("id") or "")
    status = dict(resource.get("status") or {})
    with store.lock:
        if vid not in store.videos:
            raise ApiError(404, f"The video {vid!r} cannot be found.", "videoNotFound", "youtube.video")
    privacy = status.get("privacyStatus")
    if privacy not in ("private", "public", "unlisted"):
        raise ApiError(400, "status.privacyStatus is required.", "invalidVideoMetadata", "youtube.video")
    at = publish_time(status)
    if at is not None and at <= store.clock():
        raise ApiError(400, "The publishAt time must be in the future.", "invalidPublishAt", "youtube.video")
    store.charge("videos.update")
    with store.lock:
        video = store.videos[vid]
        kept = {k: v for k, v in (video.get("status") or {}).items() if k in ("uploadStatus",)}
        video["status"] = {**kept, **status}
        video["etag"] = hashlib.sha1(json.dumps(video["status"], sort_keys=True).encode()).hexdigest()[:27]
        store.save_video(vid)
        return store.render(video, {"status"})


def insert_caption(store: Store, query: dict[str, str], headers: dict[str, str], body: bytes) -> dict:
    if query.get("uploadType") != "multipart":
        raise ApiError(400, "captions.insert needs the metadata and the track (multipart).", "badRequest")
    meta, track = split_multipart(headers.get("content-type", ""), body)
    snippet = meta.get("snippet") or {}
    vid = snippet.get("videoId", "")
    language = snippet.get("language", "")
    with store.lock:
        if vid not in store.videos:
            raise ApiError(404, f"The video {vid!r} cannot be found.", "videoNotFound", "youtube.caption")
    if not language:
        raise ApiError(400, "snippet.language is required.", "required", "youtube.caption")
    if not track.strip():
        raise ApiError(400, "The caption track is empty.", "contentRequired", "youtube.caption")
    if b"-->" not in track:
        raise ApiError(
            400, "The caption track is not in a recognised format.", "invalidFormat", "youtube.caption"
        )
    store.charge("captions.insert")
    cid = secrets.token_urlsafe(16)
    with store.lock:
        (store.data_dir / "captions" / f"{vid}.{cid}.srt").write_bytes(track)
        caption = {
            "kind": "youtube#caption",
            "id": cid,
            "snippet": {
                "videoId": vid,
                "language": language,
                "name": snippet.get("name", ""),
                "isDraft": bool(snippet.get("isDraft", False)),
                "trackKind": "standard",
                "lastUpdated": now_rfc3339(),
                "status": "serving",
            },
        }
        store.videos[vid].setdefault("_captions", []).append(caption)
        store.save_video(vid)
    return caption


def set_thumbnail(
    store: Store, query: dict[str, str], headers: dict[str, str], body: bytes, url_root: str
) -> dict:
    """``thumbnails.set``; ``url_root``: the emulator's address, for the thumbnail's URL."""
    vid = query.get("videoId", "")
    with store.lock:
        if vid not in store.videos:
            raise ApiError(
                404,
                f"The video identified by videoId {vid!r} cannot be found.",
                "videoNotFound",
                "youtube.thumbnail",
            )
    if not body:
        raise ApiError(400, "The thumbnail image is empty.", "mediaBodyRequired", "youtube.thumbnail")
    if len(body) > MAX_THUMBNAIL_BYTES:
        raise ApiError(
            400, "The provided image content is too large.", "mediaBodyTooLarge", "youtube.thumbnail"
        )
    store.charge("thumbnails.set")
    ctype = headers.get("content-type", "application/octet-stream")
    ext = {"image/jpeg": ".jpg", "image/png": ".png"}.get(ctype.split(";")[0].strip(), ".bin")
    with store.lock:
        (store.data_dir / "thumbnails" / f"{vid}{ext}").write_bytes(body)
        url = f"{url_root}vi/{vid}/default{ext}"
        thumbs = {"default": {"url": url, "width": 120, "height": 90}}
        store.videos[vid]["snippet"]["thumbnails"] = thumbs
        store.save_video(vid)
    return {
        "kind": "youtube#thumbnailSetResponse",
        "etag": hashlib.sha1(body).hexdigest()[:27],
        "items": [thumbs],
    }


def split_multipart(content_type: str, body: bytes) -> tuple[dict, bytes]:
    """(JSON metadata, media bytes) of a ``multipart/related`` upload."""
    if not content_type.lower().startswith("multipart/related"):
        raise ApiError(400, "Expected a multipart/related body.", "badContent")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = [p for p in msg.iter_parts()] if msg.is_multipart() else []
    if len(parts) != 2:
        raise ApiError(400, "A multipart upload needs exactly two parts.", "badContent")
    try:
        meta = json.loads(_payload(parts[0]) or b"{}")
    except ValueError as exc:
        raise ApiError(400, f"Metadata part is not JSON: {exc}", "parseError") from exc
    return meta, _payload(parts[1])


def _payload(part: email.message.Message) -> bytes:
    data = part.get_payload(decode=True)  # bytes (or None) for a non-multipart part
    return data if isinstance(data, bytes) else b""
