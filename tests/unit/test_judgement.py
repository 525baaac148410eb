"""Judgement's pure parts: topic segments, complete-thought boundaries, calibration, a council
that disagrees, diversity, near-duplicates (synthetic vectors: no model needed)."""

import numpy as np

from cognitive_sensors.goals import Goals
from cognitive_sensors.pantheon import (
    ChannelClips,
    PantheonConfig,
    agent_stats,
    council,
    select_clips,
)
from omniva.candidates import VideoContext, ends_complete, extract_candidates, opener_problem
from omniva.records import Candidate, Sentence, Word
from omniva.topics import segment
from omniva.vectors import percentile_ranks, to_bytes


def _unit(rng, base, noise=0.15):
    v = base + noise * rng.standard_normal(base.shape)
    return v / np.linalg.norm(v)


def _two_topics(n_a=8, n_b=8, seed=1):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(32), rng.standard_normal(32)
    return np.stack([_unit(rng, a) for _ in range(n_a)] + [_unit(rng, b) for _ in range(n_b)])


def test_texttiling_finds_the_topic_shift_and_keeps_one_topic_whole():
    vectors = _two_topics()
    times = [float(i * 5) for i in range(len(vectors))]
    segments = segment(vectors, times, [t + 4 for t in times])
    assert (0, 7) in segments and (8, 15) in segments
    rng = np.random.default_rng(2)
    base = rng.standard_normal(32)
    one = np.stack([_unit(rng, base, 0.05) for _ in range(12)])
    times = [float(i * 5) for i in range(12)]
    assert len(segment(one, times, [t + 4 for t in times])) <= 2  # no topic change: (nearly) whole


def test_openers_that_lean_on_what_came_before():
    assert opener_problem("And then it swings back.", "en")
    assert opener_problem("Uh, so we lift it.", "en")  # fillers skipped
    assert opener_problem("It breaks the building.", "en")
    assert not opener_problem("The pendulum swings back.", "en")
    assert not opener_problem("This is an example video.", "en")
    assert opener_problem("Aber das Pendel schwingt.", "de")
    assert opener_problem("所以我们要看这个。", "zh")
    assert not opener_problem("Le pendule revient.", "fr")
    assert ends_complete("It ends here.") and ends_complete("終わり。") and not ends_complete("and then the")


def _speech(texts, step=0.4):
    words, sentences, t = [], [], 0.0
    for text in texts:
        first = len(words)
        for w in text.split():
            words.append(Word(w, t, t + 0.3, 0.9))
            t += step
        sentences.append(Sentence(text, words[first].start, words[-1].end, first, len(words) - 1))
        t += 0.8  # a pause between sentences
    return words, sentences


SENTENCES = [
    "Gravity pulls the heavy bob down toward the floor.",
    "And so the potential energy becomes kinetic energy.",
    "The pendulum can never swing higher than its start.",
    "It is the conservation of mechanical energy at work.",
    "Why does the wrecking ball never hit the professor?",
    "Now let us talk about cooking pasta for dinner tonight.",
    "Boil the water with plenty of salt before the spaghetti.",
    "But never rinse the pasta after you drain it.",
    "The sauce needs garlic olive oil and fresh tomatoes.",
    "Serve it hot with basil and a little grated cheese.",
]


def _context(vectors, segments):
    return VideoContext(language="en", sentence_vectors=vectors, segments=segments)


def test_candidates_stay_inside_topics_and_open_cleanly():
    words, sentences = _speech(SENTENCES)
    vectors = _two_topics(5, 5, seed=3)
    ctx = _context(vectors, ((0, 4), (5, 9)))
    cands = extract_candidates("v", sentences, words, [], [], words[-1].end + 1, context=ctx)
    assert cands
    splice = sentences[5].start
    for c in cands:
        first, last = c.features["first_sentence"], c.features["last_sentence"]
        assert not (c.start_time < splice - 0.2 and c.end_time > splice + 0.2), "spans two topics"
        assert first == 0 or not opener_problem(sentences[first].text)
        assert ends_complete(sentences[last].text)
        assert set(c.features["calibrated"]) >= {"hook", "self_contained", "coherence", "pace"}
        assert c.vector
    # Calibration: percentile ranks within the video, spread over 0..1.
    hooks = [c.features["calibrated"]["hook"] for c in cands]
    assert min(hooks) < 0.5 < max(hooks)


def test_percentile_ranks_share_ties():
    assert percentile_ranks([3, 1, 2]) == [1.0, 0.0, 0.5]
    assert percentile_ranks([1, 1]) == [0.5, 0.5]
    assert percentile_ranks([7]) == [0.5]


def _cands_with_vectors():
    words, sentences = _speech(SENTENCES)
    vectors = _two_topics(5, 5, seed=3)
    ctx = _context(vectors, ((0, 4), (5, 9)))
    return extract_candidates("v", sentences, words, [], [], words[-1].end + 1, context=ctx)


def test_the_council_disagrees_and_records_why():
    cands = _cands_with_vectors()
    goals = Goals(quorum=0.5)
    cfg, agents = council(goals, {}, 3)
    sel = select_clips("v", cands, cfg, agents)
    stats = agent_stats(sel)
    assert stats["_council"]["disagreed"] >= 0.2
    assert all(
        len({v.vote for b in sel.ballots for v in b.votes if v.agent == a}) > 1
        for a in ("audience", "strategist")
    )
    assert any(b.dissent for b in sel.ballots)
    rows = sel.candidate_rows(cands)
    assert any(r["dissent"] for r in rows) and all(isinstance(r["dissent"], list) for r in rows)


def test_picks_are_diverse_not_three_takes_on_one_sentence():
    cands = _cands_with_vectors()
    cfg, agents = council(Goals(quorum=0.0), {}, 2)
    sel = select_clips("v", cands, cfg, agents)
    assert len(sel.clips) == 2
    topics = {0 if c.candidate.features["first_sentence"] < 5 else 1 for c in sel.clips}
    assert topics == {0, 1}, "maximal marginal relevance picks one clip from each topic"


def test_guardian_refuses_a_near_duplicate_of_a_clip_on_the_channel():
    cands = _cands_with_vectors()
    dup = cands[0]
    on_channel = ChannelClips(
        ("c1",),
        ("clip c1 of other-video",),
        np.frombuffer(dup.vector, np.float16).astype(np.float32)[None, :],
    )
    cfg, agents = council(Goals(quorum=0.0), {}, 3, on_channel)
    sel = select_clips("v", cands, cfg, agents)
    why = dict(sel.rejected)[dup.candidate_id]
    assert "near-duplicate of clip c1 of other-video already on the channel" in why
    assert dup.candidate_id not in {c.candidate.candidate_id for c in sel.clips}


def test_without_model_features_the_council_still_votes():
    c = Candidate("v", 0, 20, "Why this works.", {"duration_s": 20, "words_per_s": 2.5}, 0.5, ())
    sel = select_clips("v", [c], PantheonConfig(quorum=0.0))
    assert len(sel.clips) == 1 and len(sel.ballots[0].votes) == 4


def test_a_vector_of_the_wrong_size_is_not_a_duplicate():
    on_channel = ChannelClips(("c1",), ("x",), np.ones((1, 8), np.float32))
    assert on_channel.nearest(np.ones(16, np.float32)) is None
    assert to_bytes(np.ones((1, 4))) and len(to_bytes(np.ones((1, 4)))) == 8


def test_zenith_runs_the_most_watched_videos_first():
    from cognitive_sensors.lattice import engagement_priorities, route

    p = engagement_priorities({"a": (1000, 10), "b": (100_000, 5000), "c": (None, None), "d": (50, 1)})
    assert p["b"] > p["a"] > p["d"] and p["c"] == 0.5
    assert int(route("video", p["b"])["dagster/priority"]) > int(route("video", p["d"])["dagster/priority"])
    assert engagement_priorities({"only": (10, 1)}) == {"only": 0.5}
