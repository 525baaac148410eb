"""ffmpeg and ffprobe, the one adapter that touches media files.

Functions take paths and plain numbers and return frozen records; they know nothing
about Dagster. Every output file is written under a temporary name in the same folder
and renamed into place only when ffmpeg succeeded. Rooms:

- ``run``: the one place a subprocess runs ffmpeg/ffprobe; ``FFmpegTools`` names the binaries
- ``probe``: ffprobe's facts, checksums, MP4 box order
- ``audio``: decoded samples, silences, EBU R128 loudness
- ``spec``: ``RenderSpec`` (with the loudness tolerance), ``Reframe``, ``RenderResult``
- ``edit``, ``picture``, ``loudnorm``, ``render``: the render's filters and command
- ``frames``: frames for faces and thumbnails; ``samples``: synthetic test media
- ``files``: atomic writes
"""

from omniva_resources.media.audio import Loudness, decode_audio, detect_silences, measure_loudness
from omniva_resources.media.files import copy_atomic, write_text_atomic
from omniva_resources.media.frames import extract_frame, sample_frames
from omniva_resources.media.probe import (
    MediaFacts,
    is_faststart,
    mp4_top_level_boxes,
    probe,
    probe_url_duration,
    sha256_file,
)
from omniva_resources.media.prosody import prosody_track
from omniva_resources.media.render import h264_encoder, render_vertical
from omniva_resources.media.run import (
    DEFAULT_TOOLS,
    FFMPEG,
    FFPROBE,
    FFmpegTools,
    ffmpeg_build,
    ffmpeg_version,
)
from omniva_resources.media.samples import make_sample_video, write_video
from omniva_resources.media.spec import CropPath, Reframe, RenderResult, RenderSpec

__all__ = [
    "DEFAULT_TOOLS",
    "prosody_track",
    "FFMPEG",
    "FFPROBE",
    "CropPath",
    "FFmpegTools",
    "Loudness",
    "MediaFacts",
    "Reframe",
    "RenderResult",
    "RenderSpec",
    "copy_atomic",
    "decode_audio",
    "detect_silences",
    "extract_frame",
    "ffmpeg_build",
    "ffmpeg_version",
    "h264_encoder",
    "is_faststart",
    "make_sample_video",
    "measure_loudness",
    "mp4_top_level_boxes",
    "probe",
    "probe_url_duration",
    "render_vertical",
    "sample_frames",
    "sha256_file",
    "write_text_atomic",
    "write_video",
]
