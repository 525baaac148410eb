"""A channel's branding (#29): the banner and the logo, checked, kept, and the banner applied.

``check_image`` reads the upload's first bytes (PNG or JPEG only, whatever the name or the
declared type say) and its pixel size with Pillow, against YouTube's rules
(support.google.com/youtube/answer/2972003, checked 2026-12): a banner at least 2048x1152,
16:9, at most 6 MB; a logo (the profile picture) square, at least 98x98, at most 4 MB.
``BrandingStore`` keeps them per channel under ``$OMNIVA_HOME/branding/<channel>/`` (the
working folder, not the secrets folder: nothing there is secret).

``apply_banner`` makes the two real API calls: ``channelBanners.insert`` uploads the image and
answers its URL, then ``channels.update(part="brandingSettings")`` sets it as
``image.bannerExternalUrl``. The update replaces the whole ``brandingSettings`` part, so the
channel's current one is read first (``channels.list``) and only the image is changed.
The Data API has no call that sets a channel's profile picture: the logo is kept for the
dashboard (and a watermark, later), not sent.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from googleapiclient.http import MediaIoBaseUpload
from PIL import Image

from omniva.settings import omniva_home
from omniva_resources.private_files import write_private_json
from omniva_resources.youtube.auth import check_channel_name
from omniva_resources.youtube.client import YouTubeClient
from omniva_resources.youtube.errors import YouTubeError

MB = 1024 * 1024
PNG, JPEG = "image/png", "image/jpeg"
_MAGIC = {b"\x89PNG\r\n\x1a\n": PNG, b"\xff\xd8\xff": JPEG}
_EXT = {PNG: ".png", JPEG: ".jpg"}
#: Quota units (developers.google.com/youtube/v3/determine_quota_cost, checked 2026-12).
BANNER_INSERT_UNITS = 50
CHANNEL_UPDATE_UNITS = 50


@dataclass(frozen=True)
class ImageRule:
    """What YouTube takes for one kind of image."""

    kind: str
    min_width: int
    min_height: int
    max_bytes: int
    aspect: tuple[int, int]  # width:height

    def describe(self) -> str:
        w, h = self.aspect
        shape = "square" if w == h else f"{w}:{h}"
        return f"PNG or JPEG, {shape}, at least {self.min_width}x{self.min_height}, at most {self.max_bytes // MB} MB"


RULES = {
    "banner": ImageRule("banner", 2048, 1152, 6 * MB, (16, 9)),
    "logo": ImageRule("logo", 98, 98, 4 * MB, (1, 1)),
}
#: How far from the exact ratio a banner may be (2560x1440 and 2048x1152 are exact; a pixel off is fine).
ASPECT_TOLERANCE = 0.01


class BrandingError(YouTubeError):
    """An image YouTube would refuse; ``field`` names the upload (banner or logo)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class CheckedImage:
    kind: str
    mime: str
    width: int
    height: int
    size: int
    data: bytes


def check_image(kind: str, data: bytes) -> CheckedImage:
    """The image if YouTube would take it as ``kind``; ``BrandingError`` naming the problem."""
    rule = RULES[kind]
    if not data:
        raise BrandingError(kind, "the file is empty")
    mime = next((m for magic, m in _MAGIC.items() if data.startswith(magic)), None)
    if mime is None:
        raise BrandingError(kind, f"not a PNG or JPEG image (by its first bytes); {rule.describe()}")
    if len(data) > rule.max_bytes:
        raise BrandingError(
            kind, f"{len(data):,} bytes is over YouTube's {rule.max_bytes // MB} MB; {rule.describe()}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                img.verify()  # a truncated or corrupt file is refused here
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise BrandingError(
            kind, f"the image cannot be read ({type(exc).__name__}); {rule.describe()}"
        ) from exc
    if width < rule.min_width or height < rule.min_height:
        raise BrandingError(
            kind, f"{width}x{height} is smaller than {rule.min_width}x{rule.min_height}; {rule.describe()}"
        )
    aw, ah = rule.aspect
    if aw == ah and width != height:
        raise BrandingError(kind, f"{width}x{height} is not square; {rule.describe()}")
    if abs(width * ah / (height * aw) - 1) > ASPECT_TOLERANCE:
        raise BrandingError(kind, f"{width}x{height} is not {aw}:{ah}; {rule.describe()}")
    return CheckedImage(kind, mime, width, height, len(data), data)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BrandingStore:
    """Each channel's banner and logo under ``<home>/branding/<channel>/`` with ``branding.json``
    (sizes, when uploaded, when and where the banner was applied)."""

    def __init__(self, home: Path | None = None):
        self.root = Path(home or omniva_home()) / "branding"

    def folder(self, channel: str) -> Path:
        return self.root / check_channel_name(channel)

    def meta(self, channel: str) -> dict[str, Any]:
        try:
            data = json.loads((self.folder(channel) / "branding.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_meta(self, channel: str, meta: dict[str, Any]) -> None:
        write_private_json(self.folder(channel) / "branding.json", meta)

    def save(self, channel: str, image: CheckedImage) -> Path:
        folder = self.folder(channel)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in folder.glob(f"{image.kind}.*"):
            old.unlink()
        path = folder / f"{image.kind}{_EXT[image.mime]}"
        path.write_bytes(image.data)
        meta = self.meta(channel)
        meta[image.kind] = {
            "file": path.name,
            "mime": image.mime,
            "width": image.width,
            "height": image.height,
            "bytes": image.size,
            "uploaded_at": _now(),
        }
        self._write_meta(channel, meta)
        return path

    def image(self, channel: str, kind: str) -> tuple[Path, str] | None:
        """(file, mime) of the channel's ``kind`` image, if one was uploaded."""
        entry = self.meta(channel).get(kind) or {}
        path = self.folder(channel) / str(entry.get("file", ""))
        return (path, str(entry["mime"])) if entry and path.is_file() else None

    def applied(self, channel: str, url: str, channel_id: str | None) -> None:
        meta = self.meta(channel)
        meta["banner"] = {
            **meta.get("banner", {}),
            "applied_at": _now(),
            "banner_url": url,
            "channel_id": channel_id,
        }
        self._write_meta(channel, meta)


def apply_banner(client: YouTubeClient, data: bytes, mime: str) -> tuple[str, str | None]:
    """``channelBanners.insert`` then ``channels.update``: the banner's URL and the channel's id."""
    service = client.service
    media = MediaIoBaseUpload(io.BytesIO(data), mimetype=mime, resumable=False)
    if client.quota is not None:
        client.quota.charge("channelBanners.insert", BANNER_INSERT_UNITS)
    uploaded = client.call(
        lambda: service.channelBanners().insert(media_body=media).execute(), "channelBanners.insert"
    )
    url = str((uploaded or {}).get("url") or "")
    if not url:
        raise YouTubeError("YouTube answered channelBanners.insert without the banner's URL")
    listed = client.execute(
        service.channels().list(part="brandingSettings", mine=True), "channels.list", "channels.list"
    )
    items = listed.get("items") or []
    if not items:
        raise YouTubeError("the token's account has no YouTube channel to put the banner on")
    channel = items[0]
    branding = dict(channel.get("brandingSettings") or {})
    branding["image"] = {**(branding.get("image") or {}), "bannerExternalUrl": url}
    if client.quota is not None:
        client.quota.charge("channels.update", CHANNEL_UPDATE_UNITS)
    client.call(
        lambda: (
            service.channels()
            .update(part="brandingSettings", body={"id": channel["id"], "brandingSettings": branding})
            .execute()
        ),
        "channels.update",
    )
    return url, channel.get("id")
