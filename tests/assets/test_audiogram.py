"""The audiogram layout (#31): a still source gets cover art, a moving waveform, the title and
large captions; moving video keeps the reframe; a forced setting beats the measurement.

Sources are built here with ffmpeg: JFK's speech (``jfk.flac``, then silence) over a flat
colour card, its "thumbnail" a test-card picture kept beside it as yt-dlp would
(``<stem>.jpg``), and a moving test pattern with the same speech."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from omniva import captions, layout
from omniva.errors import ConfigError
from omniva.records import EditDecisionList, Word
from omniva_assets.editor.definitions import render_code_version
from omniva_resources import media, shorts
from omniva_resources.media import audiogram
from omniva_resources.media.run import run
from omniva_resources.resources import RenderSettings

TITLE = "Ask not what your country can do for you"
WORDS = ["And", "so", "my", "fellow", "Americans", "ask", "not"]
SPEECH_S, SILENCE_S = 6.0, 3.0


def _ffmpeg(*args: str) -> None:
    run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], what="test media")


@pytest.fixture(scope="module")
def sources(fixtures, tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("audiogram")
    speech = work / "speech.wav"  # 6 s of speech, then 3 s of silence
    _ffmpeg(
        "-i", str(fixtures / "jfk.flac"), "-af", f"atrim=0:{SPEECH_S},apad=pad_dur={SILENCE_S}", str(speech)
    )
    still = media.make_sample_video(work / "still.mp4", speech, color="0x3d5a3d")
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=1280x720:d=1", "-frames:v", "1", "-q:v", "2", str(work / "still.jpg")
    )
    moving = work / "moving.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30", "-i", str(speech), "-shortest",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(moving),
    )  # fmt: skip
    return {"still": still, "thumbnail": work / "still.jpg", "moving": moving, "work": work}


def _edl(src: Path, end: float) -> EditDecisionList:
    words = tuple(Word(t, 0.3 + 0.55 * i, 0.3 + 0.55 * i + 0.45) for i, t in enumerate(WORDS))
    return EditDecisionList(
        "clip", "video", 1, str(src), ((0.0, end),), (), words, 0.0, 30.0, {"language": "en"}
    )


def _render(src: Path, out: Path, end: float, spec=media.RenderSpec(), **kw) -> shorts.ShortRender:
    return shorts.render_short(_edl(src, end), src, out, spec, captions.CaptionStyle(), **kw)


def _rgb(video: Path, at: float, out: Path) -> np.ndarray:
    media.extract_frame(video, at, out, 1080, 1920)
    img = cv2.imread(str(out))
    assert img is not None
    return img[:, :, ::-1].astype(int)


def _box_motion(video: Path, span: tuple[float, float], box: tuple[int, int, int, int]) -> float:
    """Mean grey-level change between consecutive frames (10 a second) inside ``box``."""
    _, frames, _ = media.sample_frames(video, [span], media.probe(video), 0.0, 10.0, 1080)
    x, y, w, h = box
    region = frames[:, y : y + h, x : x + w].astype(np.int16)
    return float(np.abs(np.diff(region, axis=0)).mean())


@pytest.fixture(scope="module")
def still_render(sources) -> shorts.ShortRender:
    out = sources["work"] / "out" / "still.mp4"
    return _render(sources["still"], out, SPEECH_S + SILENCE_S, title=TITLE, creator_name="John F. Kennedy")


@pytest.mark.slow
def test_a_still_source_is_measured_still_and_renders_as_an_audiogram(still_render):
    r = still_render.render
    assert r.layout == "audiogram", still_render.reason
    assert r.reframe["layout"] == "audiogram" and r.reframe["reframe_layout"] == "fit-on-blurred"
    choice = r.reframe["layout_choice"]
    assert choice["forced_by"] == "" and choice["stillness"]["still"] is True
    assert choice["stillness"]["threshold"] == media.RenderSpec().still_threshold  # recorded with the render
    assert (r.width, r.height, r.video_codec, r.audio_codec) == (1080, 1920, "h264", "aac")
    assert abs(r.integrated_lufs - media.RenderSpec().target_lufs) <= 0.5


@pytest.mark.slow
def test_the_cover_is_the_thumbnail_fitted_in_the_upper_part(still_render, sources):
    r = still_render.render
    assert r.reframe["audiogram"]["cover"] == "thumbnail still.jpg"
    x, y, w, h = r.reframe["audiogram"]["cover_box"]
    geometry = media.RenderSpec().audiogram_style().geometry()
    assert (x, y, w, h) == geometry.fitted_cover(1280, 720) and y + h < 1920 // 2 + 200
    frame = _rgb(Path(r.path), 1.5, sources["work"] / "cover.png")
    thumb = cv2.imread(str(sources["thumbnail"]))[:, :, ::-1]
    expected = cv2.resize(thumb, (w, h), interpolation=cv2.INTER_AREA).astype(int)
    region = frame[y : y + h, x : x + w]
    match = np.abs(region - expected).mean()
    card = np.abs(region - np.array([0x3D, 0x5A, 0x3D])).mean()  # what the video's own picture is
    assert match < 12 and card > 5 * match, (match, card)


@pytest.mark.slow
def test_the_waveform_moves_while_the_voice_speaks_and_not_in_silence(still_render):
    path = Path(still_render.render.path)
    wave = media.RenderSpec().audiogram_style().geometry().wave
    speaking = _box_motion(path, (1.0, 3.0), wave)
    silent = _box_motion(path, (SPEECH_S + 0.8, SPEECH_S + 2.6), wave)
    assert speaking > 2.0 and silent < 0.2, (speaking, silent)


@pytest.mark.slow
def test_the_spectrum_style_moves_with_the_voice_too(sources, tmp_path):
    """``audiogram_wave=freqs``: ffmpeg's showfreqs (its frames are re-timed by the overlay;
    an ``fps`` filter after it once ran away at the end of the audio)."""
    spec = media.RenderSpec(audiogram_wave="freqs")
    short = _render(sources["still"], tmp_path / "freqs.mp4", SPEECH_S + SILENCE_S, spec)
    path = Path(short.render.path)
    assert short.render.layout == "audiogram"
    assert abs(media.probe(path).duration_s - (SPEECH_S + SILENCE_S)) < 0.1
    wave = spec.audiogram_style().geometry().wave
    speaking = _box_motion(path, (1.0, 3.0), wave)
    silent = _box_motion(path, (SPEECH_S + 0.8, SPEECH_S + 2.6), wave)
    assert speaking > 2.0 and silent < 0.2, (speaking, silent)


@pytest.mark.slow
def test_the_title_and_captions_are_drawn(still_render, sources):
    """Against the same background composed without text: the title band and the caption band
    (a caption is on screen at 1.5 s) differ; a band with nothing in it does not."""
    r = still_render.render
    look = media.RenderSpec().audiogram_style()
    g = look.geometry()
    base = sources["work"] / "base.png"
    audiogram.compose_base(sources["thumbnail"], g, look, base)
    plain = cv2.imread(str(base))[:, :, ::-1].astype(int)
    frame = _rgb(Path(r.path), 1.5, sources["work"] / "text.png")
    diff = np.abs(frame - plain).max(axis=2)
    title_band = diff[g.title_xy[1] : g.title_xy[1] + 2 * g.title_size, 90:990]
    caption_band = diff[1920 - g.caption_margin_v - g.caption_size : 1920 - g.caption_margin_v, 90:990]
    empty_band = diff[1920 - 300 : 1920 - 100, 90:990]
    ink = [float((band > 80).mean()) for band in (title_band, caption_band, empty_band)]
    assert ink[0] > 0.03 and ink[1] > 0.03 and ink[2] < 0.002, ink
    assert r.captions_burned and r.srt_path


@pytest.mark.slow
def test_an_audio_only_source_is_an_audiogram_on_a_plain_card(fixtures, tmp_path):
    short = _render(fixtures / "jfk.flac", tmp_path / "audio-only.mp4", 4.0, title=TITLE)
    r = short.render
    assert r.layout == "audiogram" and (r.width, r.height) == (1080, 1920)
    assert r.reframe["layout_choice"]["reason"] == "the source has no picture"
    assert r.reframe["audiogram"]["cover"] == "none"


@pytest.mark.slow
def test_moving_video_keeps_the_reframe(sources):
    short = _render(sources["moving"], sources["work"] / "out" / "moving.mp4", 4.0, title=TITLE)
    assert short.render.layout in ("fit-on-blurred", "crop", "split"), short.reason
    assert short.render.reframe["layout_choice"]["stillness"]["still"] is False


@pytest.mark.slow
def test_a_forced_setting_overrides_the_detection(sources, tmp_path):
    forced = media.RenderSpec(layout="reframe")
    still = _render(sources["still"], tmp_path / "still-reframe.mp4", 4.0, forced)
    assert still.render.layout == "fit-on-blurred"
    assert still.render.reframe["layout_choice"]["forced_by"] == "render setting"
    (tmp_path / "caption_styles.json").write_text('{"podcaster": {"layout": "audiogram"}}')
    creator = layout.creator_layout("podcaster", tmp_path)
    moving = _render(
        sources["moving"], tmp_path / "moving-audiogram.mp4", 4.0, forced, creator_layout=creator
    )
    assert moving.render.layout == "audiogram"
    assert moving.render.reframe["layout_choice"]["forced_by"] == "creator setting"


def test_stillness_separates_a_still_card_from_a_moving_picture():
    rng = np.random.default_rng(0)
    card = np.full((20, 90, 160), 120, np.uint8) + rng.integers(0, 2, (20, 90, 160), dtype=np.uint8)
    assert layout.measure_stillness(card).still
    slides = card.copy()
    slides[10:] = 30  # one slide change: a shot change, still a still
    s = layout.measure_stillness(slides)
    assert s.still and s.shot_changes == 1
    moving = np.stack(
        [np.roll(card[0] * 0 + np.arange(160, dtype=np.uint8), 4 * k, axis=1) for k in range(20)]
    )
    assert not layout.measure_stillness(moving).still
    assert layout.choose_layout("auto", "auto", None).layout == "audiogram"  # no picture at all
    with pytest.raises(ConfigError, match="OMNIVA_RENDER_LAYOUT"):
        layout.choose_layout("sideways", "auto", None)


def test_the_layout_settings_are_part_of_the_renders_code_version():
    """Changing the layout or the audiogram's look marks renders unsynced in Dagster."""
    default = render_code_version(RenderSettings())
    for change in ({"layout": "reframe"}, {"audiogram_colour": "00C2FF"}, {"audiogram_wave": "freqs"},
                   {"audiogram_caption_size": 80}, {"still_threshold": 3.0}):  # fmt: skip
        assert render_code_version(RenderSettings(**change)) != default, change


def test_the_audiogram_text_keeps_the_caption_fonts_and_right_to_left():
    """Title and creator blocks are styled like captions: the font by the script, Encoding -1
    (libass finds the right-to-left base direction) for Arabic, CJK broken by width."""
    ass = captions.to_ass(
        [Word("مرحبا", 0.0, 0.5)],
        blocks=[
            captions.TextBlock("Title", "مرحبا بكم في القناة", 540, 150, 64),
            captions.TextBlock("Creator", "字幕の表示テストです日本語で話します", 540, 300, 40, max_chars=12),
        ],
        duration=5.0,
    )
    title = next(line for line in ass.splitlines() if line.startswith("Style: Title,"))
    creator = next(line for line in ass.splitlines() if line.startswith("Style: Creator,"))
    assert title.startswith("Style: Title,Noto Sans Arabic,64,") and title.endswith(",-1")
    assert creator.startswith("Style: Creator,Noto Sans CJK JP,40,")
    event = next(line for line in ass.splitlines() if ",Creator,," in line)
    assert "\\N" in event and "{\\an8\\pos(540,300)}" in event
