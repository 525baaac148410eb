"""Decision logic: pure functions, no media."""

from datetime import UTC, datetime

from cognitive_sensors import chorus
from cognitive_sensors.horizon import PlanRules, ReadyClip, double_booked, plan_publish
from cognitive_sensors.pantheon import PantheonConfig, select_clips
from cognitive_sensors.zenith import decide_partitions
from omniva.candidates import CandidateRules, extract_candidates
from omniva.editing import plan_keep_spans
from omniva.records import Candidate, Sentence, Word


def _words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(w, start + i * step, start + i * step + 0.3) for i, w in enumerate(text.split())]


def _sentences(words: list[Word], sizes: list[int]) -> list[Sentence]:
    out, i = [], 0
    for n in sizes:
        ws = words[i : i + n]
        out.append(Sentence(" ".join(w.word for w in ws), ws[0].start, ws[-1].end, i, i + n - 1))
        i += n
    return out


def test_candidates_lie_on_sentence_boundaries_and_within_limits():
    words = _words(" ".join(f"word{i}." if i % 10 == 9 else f"word{i}" for i in range(200)))
    sentences = _sentences(words, [10] * 20)
    cands = extract_candidates("v", sentences, words, [], ["word3"], 80.0, CandidateRules(min_s=5, max_s=30))
    assert cands
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    for c in cands:
        assert 5 <= c.duration_s <= 30
        assert any(abs(c.start_time - (s - 0.15)) < 1e-6 or c.start_time == 0 for s in starts)
        assert any(abs(c.end_time - min(80.0, e + 0.35)) < 1e-6 for e in ends)
    assert cands == sorted(cands, key=lambda c: (-c.score, c.start_time))


def _cand(start, end, text="You will never guess why this works so well today.", **feat):
    features = {
        "duration_s": end - start,
        "sentences": 2,
        "words": 30,
        "words_per_s": 2.4,
        "silence_ratio": 0.05,
        "keyword_density": 0.1,
        "hook": True,
        "ends_complete": True,
        "length_fit": 0.9,
    } | feat
    return Candidate("v", start, end, text, features, 0.8, ("physics",))


def test_pantheon_picks_disjoint_clips_and_records_votes():
    cands = [_cand(0, 30), _cand(10, 40), _cand(50, 80), _cand(90, 100)]
    sel = select_clips("v", cands, PantheonConfig(max_clips=2))
    assert [c.rank for c in sel.clips] == [1, 2]
    spans = [(c.candidate.start_time, c.candidate.end_time) for c in sel.clips]
    assert spans[0][1] <= spans[1][0] or spans[1][1] <= spans[0][0]
    assert all(len(c.votes) >= 3 and all(v.reason for v in c.votes) for c in sel.clips)
    assert any("overlaps" in why or "top 2" in why for _, why in sel.rejected)


def test_guardian_veto_is_never_outvoted():
    sel = select_clips("v", [_cand(0, 30, text="This is fucking great, you know why.")])
    assert not sel.clips
    assert "vetoed by guardian" in sel.rejected[0][1]


def test_no_quorum_rejects():
    weak = _cand(
        0,
        30,
        hook=False,
        words_per_s=0.2,
        silence_ratio=0.9,
        keyword_density=0.0,
        ends_complete=False,
        length_fit=0.1,
    )
    sel = select_clips("v", [weak], PantheonConfig(quorum=0.9))
    assert not sel.clips and "no quorum" in sel.rejected[0][1]


def test_publish_plan_honours_quota_and_never_double_books():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    ready = [ReadyClip(f"id{i}", f"{i}|v", "ch", 1 - i / 100) for i in range(12)]
    rules = PlanRules(daily_quota=5)
    plan = plan_publish(ready, [], now, rules)
    assert len(plan.slots) == 12 and not double_booked(plan)
    per_day = {}
    for s in plan.slots:
        per_day[s.publish_at[:10]] = per_day.get(s.publish_at[:10], 0) + 1
        assert s.publish_at >= "2026-01-01T13:00:00Z"
    assert max(per_day.values()) <= 5
    # Re-planning keeps committed slots and adds only the new clip.
    again = plan_publish([*ready, ReadyClip("new", "1|w", "ch", 0.99)], plan.slots, now, rules)
    old = {s.clip_key: s.publish_at for s in plan.slots}
    assert all(old[s.clip_key] == s.publish_at for s in again.slots if s.clip_key in old)
    assert len(again.slots) == 13 and not double_booked(again)


def test_double_booking_is_detected():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    plan = plan_publish([ReadyClip("a", "1|v", "ch", 1)], [], now)
    from dataclasses import replace

    clash = replace(plan, slots=(*plan.slots, replace(plan.slots[0], clip_key="2|v")))
    assert double_booked(clash)


def test_autocut_removes_long_silence_but_never_cuts_a_word():
    words = _words("one two three", 0.0, 0.4) + _words("four five", 5.0, 0.4)
    keep, removed = plan_keep_spans(0.0, 6.0, words, [(1.0, 4.9)])
    assert removed and removed[0][0] >= words[2].end and removed[0][1] <= words[3].start
    for w in words:
        assert any(a <= w.start and w.end <= b for a, b in keep), w


def _bag_of_words(texts):
    """A deterministic stand-in embedder for limit tests: hashed bag of words, normalised."""
    import numpy as np

    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, hash(w) % 64] += 1
    return out / np.maximum(1e-9, np.linalg.norm(out, axis=1, keepdims=True))


def test_chorus_respects_youtube_limits():
    clip = chorus.ClipText(("x" * 300 + ".", "Second sentence about gravity and energy."))
    title = chorus.make_title(clip, ["gravity"], _bag_of_words)
    assert len(title) <= 100 and title.endswith("#Shorts")
    tags = chorus.make_tags([f"tag number {i}" for i in range(100)], (), "creator")
    assert sum(len(t) + 2 for t in tags) <= 500 + len(tags)
    desc = chorus.make_description(
        chorus.ClipText(("<b>" + "é" * 4000 + ".",)), ["k"], _bag_of_words, "Clip from c: http://x"
    )
    assert len(desc.encode()) <= 5000 and "<" not in desc


def test_zenith_requests_each_new_partition_once():
    d = decide_partitions(["a", "b", "a", "c"], materialized={"b"}, quarantined={"c"})
    assert [(x.partition_key, x.action) for x in d] == [("a", "request"), ("b", "skip"), ("c", "skip")]


def test_a_window_that_autocut_would_shrink_below_the_minimum_is_not_a_candidate():
    words = _words("hello there friend.", 0.0, 0.4) + _words("banana.", 30.0, 0.4)
    sentences = _sentences(words, [3, 1])
    # 1.1 s of speech, 28 s of silence, one word: after autocut about 2 s remain.
    cands = extract_candidates("v", sentences, words, [(1.2, 29.9)], [], 31.0, CandidateRules(min_s=5))
    assert not cands


def test_video_scores_next_to_the_candidate_scoring():
    from omniva.candidates import video_scores

    scores = video_scores(100.0, [(0.0, 20.0), (90.0, 110.0)], words=200)
    assert scores.speech_ratio == 0.7  # 30 s of 100 silent (the second silence is cut at the end)
    assert scores.virality == round(0.6 * min(1.0, (200 / 70) / 2.5) + 0.4 * 0.7, 3)
    assert scores.relevance == 0.5 and "pace" in scores.basis  # no goals, no engagement
    # Relevance follows the goal similarity margin; engagement replaces pace when the source has it.
    assert video_scores(100.0, [], 200, goal_similarity=0.02).relevance == 0.8
    assert video_scores(100.0, [], 200, goal_similarity=-0.04).relevance == 0.0
    viral = video_scores(100.0, [], 200, views=1_000_000, likes=40_000)
    assert viral.virality == 1.0 and viral.basis == "views and likes"
    assert video_scores(100.0, [], 200, views=100, likes=0).virality < 0.3
    assert video_scores(0.0, [], 0).speech_ratio == 0.0


def _render(**changes):
    import dataclasses

    from omniva.records import Render

    good = Render(
        "c", "r.mp4", "sha", 10_000_000, 30.0, 1080, 1920, "h264", "aac", -14.1, -2.0, "libx264", "r.jpg", (),
        faststart=True, video_profile="High", pix_fmt="yuv420p", audio_sample_rate=48000,
    )  # fmt: skip
    return dataclasses.replace(good, **changes)


def test_shorts_spec_problems_names_each_miss():
    from omniva_resources import media
    from omniva_resources.shorts import shorts_spec_problems

    spec = media.RenderSpec()
    thumb = media.MediaFacts("r.jpg", 100_000, "image2", 0.0, True, False, 1280, 720)
    assert shorts_spec_problems(_render(), thumb, spec, 5.0, 120.0) == []
    loud = shorts_spec_problems(_render(integrated_lufs=-15.0, true_peak_dbtp=-1.0), thumb, spec, 5.0, 120.0)
    assert loud == ["loudness -15.0 LUFS", "true peak -1.0 dBTP"]
    odd = _render(width=720, height=1280, faststart=False, audio_sample_rate=44100, duration_s=3.0)
    assert shorts_spec_problems(odd, thumb, spec, 5.0, 120.0) == [
        "size 720x1280",
        "audio 44100 Hz",
        "moov after mdat (no faststart)",
        "duration 3.0s",
    ]


def test_settings_come_from_the_environment_in_one_place_and_render_settings_version_renders():
    import dataclasses

    from omniva_assets.definitions import assets_for
    from omniva_resources import media
    from omniva_resources.resources import RenderSettings, resources_from_env

    # The render resource mirrors RenderSpec field for field, with its defaults.
    assert {f.name for f in dataclasses.fields(media.RenderSpec)} <= set(RenderSettings.model_fields)
    assert RenderSettings().spec() == media.RenderSpec()
    env = {"OMNIVA_RENDER_CRF": "20", "OMNIVA_RENDER_DENOISE": "yes", "OMNIVA_YOUTUBE_CAPTIONS": "never"}
    res = resources_from_env(env)
    assert res["render"].spec().crf == 20 and res["render"].spec().denoise is True
    assert res["youtube_api"].options()["captions"] == "never"
    assert res["scrape"].source_settings().interval_for("instagram") == 3.0
    tuned = resources_from_env({"OMNIVA_SCRAPE_INTERVAL_INSTAGRAM": "7", "OMNIVA_SCRAPE_INTERVAL_S": "2"})
    assert tuned["scrape"].source_settings().interval_for("instagram") == 7.0
    assert tuned["scrape"].source_settings().interval_for("youtube") == 2.0

    def versions(render):
        return {
            next(iter(a.specs)).key.to_user_string(): next(iter(a.specs)).code_version
            for a in assets_for(render)
        }

    default, changed = versions(resources_from_env({})["render"]), versions(res["render"])
    assert default["renders"] != changed["renders"] and default["uploads"] != changed["uploads"]
    assert changed["uploads"] == f"2-{changed['renders']}"
    assert {k: v for k, v in default.items() if k not in ("renders", "uploads")} == {
        k: v for k, v in changed.items() if k not in ("renders", "uploads")
    }
