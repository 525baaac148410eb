"""The channel's branding: ``channelBanners.insert`` and ``channels.update`` (brandingSettings).

As on YouTube, a banner is first uploaded (``channelBanners.insert``, an image of at most
6 MB) and answers a URL; ``channels.update(part="brandingSettings")`` then sets that URL as
the channel's ``brandingSettings.image.bannerExternalUrl``. Only URLs this emulator answered
are accepted, and the update replaces the whole ``brandingSettings`` part, as YouTube's does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from omniva_devkit.youtube_emulator.errors import ApiError
from omniva_devkit.youtube_emulator.store import Store

MAX_BANNER_BYTES = 6 * 1024 * 1024
_IMAGES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def insert_banner(store: Store, headers: dict[str, str], body: bytes, url_root: str) -> dict:
    """``channelBanners.insert`` (a simple media upload): the banner's URL."""
    if not body:
        raise ApiError(400, "The banner image is empty.", "mediaBodyRequired", "youtube.channelBanner")
    if len(body) > MAX_BANNER_BYTES:
        raise ApiError(400, "The banner image is too large.", "mediaBodyTooLarge", "youtube.channelBanner")
    ext = next((e for magic, e in _IMAGES.items() if body.startswith(magic)), None)
    if ext is None:
        raise ApiError(
            400, "The banner is not a JPEG or PNG image.", "bannerImageInvalid", "youtube.channelBanner"
        )
    store.charge("channelBanners.insert")
    digest = hashlib.sha256(body).hexdigest()[:24]
    with store.lock:
        (store.data_dir / "banners").mkdir(exist_ok=True, mode=0o700)
        (store.data_dir / "banners" / f"{digest}{ext}").write_bytes(body)
    return {
        "kind": "youtube#channelBannerResource",
        "etag": digest[:27],
        "url": f"{url_root}banners/{digest}{ext}",
    }


def update_channel(store: Store, query: dict[str, str], body: bytes, url_root: str) -> dict:
    """``channels.update(part="brandingSettings")``: the channel's new branding."""
    if query.get("part") != "brandingSettings":
        raise ApiError(400, "The emulator updates part=brandingSettings only.", "invalidPart")
    try:
        meta = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, f"Request body is not valid JSON: {exc}", "parseError") from exc
    if meta.get("id") != store.channel_id:
        raise ApiError(
            404, "The channel in the request cannot be found.", "channelNotFound", "youtube.channel"
        )
    branding = meta.get("brandingSettings")
    if not isinstance(branding, dict):
        raise ApiError(400, "brandingSettings is required.", "required", "youtube.channel")
    url = ((branding.get("image") or {}).get("bannerExternalUrl")) or ""
    if url:
        name = url.removeprefix(f"{url_root}banners/")
        if name == url or "/" in name or not (store.data_dir / "banners" / name).is_file():
            raise ApiError(
                400,
                "bannerExternalUrl must be a URL channelBanners.insert returned.",
                "bannerImageUrlInvalid",
                "youtube.channel",
            )
    store.charge("channels.update")
    with store.lock:
        store.branding = json.loads(json.dumps(branding))
        store.save()
    return {"kind": "youtube#channel", "id": store.channel_id, "brandingSettings": branding}


def branding_part(store: Store) -> dict[str, Any]:
    """``brandingSettings`` as ``channels.list`` answers it."""
    with store.lock:
        out: dict[str, Any] = json.loads(json.dumps(store.branding or {}))
    out.setdefault("channel", {"title": store.channel_title})
    return out
