"""The channel and its playlists: ``channels.list`` and ``playlistItems.list``/``insert``.

The uploads playlist (``UU...``) lists every video, newest first, as YouTube's does for
the channel's owner; other playlists are made with ``create_playlist``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from omniva_devkit.youtube_emulator.branding import branding_part
from omniva_devkit.youtube_emulator.errors import ApiError, required_parts
from omniva_devkit.youtube_emulator.store import Store, now_rfc3339


def create_playlist(store: Store, title: str) -> str:
    """A new, empty playlist of the channel; its id."""
    with store.lock:
        pid = "PL" + secrets.token_urlsafe(24)[:32]
        store.playlists[pid] = {"title": title, "items": []}
        store.save()
        return pid


def playlist_video_ids(store: Store, playlist_id: str) -> list[str]:
    with store.lock:
        return [i["videoId"] for i in store.playlists.get(playlist_id, {}).get("items", [])]


def list_channels(store: Store, query: dict[str, str]) -> dict:
    parts = required_parts(query)
    if query.get("mine", "").lower() != "true":
        raise ApiError(400, "The emulator supports channels.list with mine=true only.", "badRequest")
    store.charge("channels.list")
    channel: dict[str, Any] = {
        "kind": "youtube#channel",
        "etag": hashlib.sha1(store.channel_id.encode()).hexdigest()[:27],
        "id": store.channel_id,
    }
    if "snippet" in parts:
        channel["snippet"] = {
            "title": store.channel_title,
            "description": "",
            "publishedAt": now_rfc3339(),
        }
    if "brandingSettings" in parts:
        channel["brandingSettings"] = branding_part(store)
    if "contentDetails" in parts:
        channel["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": store.uploads_playlist_id}}
    return {
        "kind": "youtube#channelListResponse",
        "items": [channel],
        "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
    }


def _playlist_entries(store: Store, playlist_id: str) -> list[dict]:
    """(videoId, added) of a playlist, in the API's order (uploads: newest first)."""
    if playlist_id == store.uploads_playlist_id:
        videos = sorted(store.videos.values(), key=lambda v: v.get("_seq", 0), reverse=True)
        return [{"videoId": v["id"], "added": v["snippet"].get("publishedAt", "")} for v in videos]
    if playlist_id not in store.playlists:
        raise ApiError(
            404,
            "The playlist identified with the request's playlistId parameter cannot be found.",
            "playlistNotFound",
            "youtube.playlistItem",
            location="playlistId",
            locationType="parameter",
        )
    return list(store.playlists[playlist_id]["items"])


def list_playlist_items(store: Store, query: dict[str, str]) -> dict:
    parts = required_parts(query)
    playlist_id = query.get("playlistId", "")
    size = max(0, min(int(query.get("maxResults") or 5), 50))
    start = int(query.get("pageToken") or 0) if (query.get("pageToken") or "0").isdigit() else 0
    store.charge("playlistItems.list")
    with store.lock:
        entries = _playlist_entries(store, playlist_id)
        page = entries[start : start + size]
        items = []
        for pos, entry in enumerate(page, start=start):
            video = store.videos.get(entry["videoId"], {})
            item: dict[str, Any] = {
                "kind": "youtube#playlistItem",
                "etag": hashlib.sha1(f"{playlist_id}:{entry['videoId']}".encode()).hexdigest()[:27],
                "id": hashlib.sha1(f"{playlist_id}:{pos}".encode()).hexdigest()[:32],
            }
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": entry["added"],
                    "channelId": store.channel_id,
                    "title": video.get("snippet", {}).get("title", ""),
                    "description": video.get("snippet", {}).get("description", ""),
                    "channelTitle": store.channel_title,
                    "playlistId": playlist_id,
                    "position": pos,
                    "resourceId": {"kind": "youtube#video", "videoId": entry["videoId"]},
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {"videoId": entry["videoId"]}
            if "status" in parts:
                item["status"] = {"privacyStatus": video.get("status", {}).get("privacyStatus", "private")}
            items.append(item)
    out: dict[str, Any] = {
        "kind": "youtube#playlistItemListResponse",
        "items": items,
        "pageInfo": {"totalResults": len(entries), "resultsPerPage": size},
    }
    if start + size < len(entries):
        out["nextPageToken"] = str(start + size)
    if start > 0:
        out["prevPageToken"] = str(max(start - size, 0))
    return out


def insert_playlist_item(store: Store, query: dict[str, str], body: bytes) -> dict:
    try:
        meta = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, f"Request body is not valid JSON: {exc}", "parseError") from exc
    snippet = meta.get("snippet") or {}
    playlist_id = snippet.get("playlistId", "")
    vid = (snippet.get("resourceId") or {}).get("videoId", "")
    with store.lock:
        if playlist_id not in store.playlists:
            raise ApiError(
                404,
                "The playlist identified with the request's playlistId parameter cannot be found.",
                "playlistNotFound",
                "youtube.playlistItem",
            )
        if vid not in store.videos:
            raise ApiError(404, f"Video {vid!r} not found.", "videoNotFound", "youtube.playlistItem")
    store.charge("playlistItems.insert")
    with store.lock:
        items = store.playlists[playlist_id]["items"]
        items.append({"videoId": vid, "added": now_rfc3339()})
        store.save()
        return {
            "kind": "youtube#playlistItem",
            "id": hashlib.sha1(f"{playlist_id}:{len(items) - 1}".encode()).hexdigest()[:32],
            "snippet": {
                "playlistId": playlist_id,
                "position": len(items) - 1,
                "resourceId": {"kind": "youtube#video", "videoId": vid},
                "title": store.videos[vid]["snippet"].get("title", ""),
            },
        }
