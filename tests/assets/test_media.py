"""ffmpeg stage functions on real media."""

import pytest

from omniva.errors import CorruptMediaError, NoAudioError
from omniva_resources import media


def test_probe_facts(fixtures):
    f = media.probe(fixtures / "example.mp4")
    assert (f.width, f.height, f.video_codec, f.audio_codec) == (1280, 720, "h264", "aac")
    assert 42 < f.duration_s < 43


def test_corrupt_and_missing_audio_are_named(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video" * 1000)
    with pytest.raises(CorruptMediaError, match="broken.mp4"):
        media.probe(bad)
    mute = media.make_sample_video(tmp_path / "mute.mp4", None, duration_s=2)
    with pytest.raises(NoAudioError, match="mute.mp4"):
        media.decode_audio(mute)


def test_silencedetect_finds_the_long_pause(fixtures):
    spans = media.detect_silences(fixtures / "example.mp4", -35, 1.0)
    assert any(s <= 19 and e >= 38 for s, e in spans), spans


@pytest.mark.slow
def test_render_meets_the_shorts_spec(fixtures, tmp_path):
    src = fixtures / "example.mp4"
    out = tmp_path / "clip.mp4"
    result = media.render_vertical(src, [(0.5, 6.0), (7.0, 12.0)], out, media.probe(src))
    f = media.probe(out)
    assert (f.width, f.height, f.video_codec, f.audio_codec, f.pix_fmt) == (
        1080,
        1920,
        "h264",
        "aac",
        "yuv420p",
    )
    assert f.video_profile == "High" and f.sample_rate == 48000
    assert 10.0 < f.duration_s < 11.0
    assert abs(media.measure_loudness(out).integrated_lufs + 14) <= 1.0
    assert result.encoder in ("libx264", "h264_nvenc")
    assert not list(tmp_path.glob(".*partial*"))
