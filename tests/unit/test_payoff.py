"""To the payoff: a clip does not stop one sentence before the sentence that completes its
thought (the answer to its question, the claim after its setup, what it announced, its
punchline), and redundancy alone never makes a shorter take of the same start win."""

from __future__ import annotations

import numpy as np

from cognitive_sensors.goals import Goals
from cognitive_sensors.pantheon import PantheonConfig, council, select_clips
from omniva.candidates import VideoContext, extract_candidates, payoff
from omniva.records import AgentVote, Candidate
from omniva.vectors import to_bytes
from tests.unit.test_judgement import _speech  # timed words and sentences of given texts

# A setup, its question, the answer (the line people quote), then another subject.
TALK = [
    "I let the wrecking ball go from the tip of my nose.",
    "It swings across the whole lecture hall and comes right back at me.",
    "Why does it stop just short of my chin?",
    "Because energy is conserved and the ball can never rise higher than where it started.",
    "Now let us talk about cooking pasta for dinner tonight.",
    "Boil the water with plenty of salt before the spaghetti goes in.",
    "Serve it hot with basil and a little grated cheese.",
]
QUESTION, ANSWER = 2, 3


def _vectors(n_a, n_b, seed=4):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(32), rng.standard_normal(32)

    def unit(base):
        v = base + 0.15 * rng.standard_normal(32)
        return v / np.linalg.norm(v)

    return np.stack([unit(a) for _ in range(n_a)] + [unit(b) for _ in range(n_b)])


def test_what_completes_a_thought():
    assert payoff("Why does it stop?", "Because energy is conserved.") == "answers its question"
    assert payoff("Here's the trick.", "You hold the rope loosely.") == "says what it announces"
    assert payoff("There are two rules:", "Never rinse the pasta.") == "says what it announces"
    assert payoff("If you let it go gently.", "Then it never hits you.") == "makes the claim after its setup"
    assert payoff("The ball lost no energy.", "That's why it stops at my chin.") == "draws its consequence"
    assert payoff("And he said he'd be right back.", "He never came back!") == "is its punchline"
    assert payoff("The ball swings.", "The hall is quiet.") is None
    assert payoff("Pourquoi ça marche ?", "Parce que l'énergie se conserve.", "fr") == "answers its question"
    assert payoff("如果你放手。", "所以它不会打到你。", "zh") == "makes the claim after its setup"


def test_a_transcript_with_a_question_and_its_answer_keeps_the_answer():
    words, sentences = _speech(TALK)
    ctx = VideoContext(language="en", sentence_vectors=_vectors(4, 3), segments=((0, 3), (4, 6)))
    cands = extract_candidates("v", sentences, words, [], [], words[-1].end + 1, context=ctx)
    short = [c for c in cands if c.features["last_sentence"] == QUESTION]
    assert short and all(c.features["payoff_after"] == "answers its question" for c in short)
    cfg, agents = council(Goals(quorum=0.0), {}, 3)
    sel = select_clips("v", cands, cfg, agents)
    assert sel.clips
    for clip in sel.clips:  # no pick stops on the question when a take to its answer passed
        assert clip.candidate.features["last_sentence"] != QUESTION, clip.candidate.text
    reasons = dict(sel.rejected)
    for c in short:
        longer = [x for x in cands if x.features["first_sentence"] == c.features["first_sentence"]
                  and x.features["last_sentence"] == ANSWER]  # fmt: skip
        if longer:
            assert "answers its question" in reasons[c.candidate_id]


def _take(first, last, score, vector):
    """A take of sentences first..last of a 4 s-a-sentence talk, scored ``score``."""
    features = {"first_sentence": first, "last_sentence": last}
    return Candidate("v", first * 4.0, last * 4.0 + 3.5, f"{first}-{last}", features, score, (),
                     to_bytes(vector[None, :]))  # fmt: skip


def _judge(c: Candidate) -> AgentVote:
    return AgentVote("judge", c.score, "yes", 1.0, "the take's own score")


def test_redundancy_alone_never_picks_the_shorter_take_of_the_same_start():
    rng = np.random.default_rng(7)
    base, other = rng.standard_normal(32), rng.standard_normal(32)
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    first = _take(0, 2, 0.9, unit(base))
    # From sentence 4: the longer take scores higher but is closer to the first pick; MMR alone
    # would pick the shorter one.
    longer = _take(4, 7, 0.80, unit(base + 0.3 * other))
    shorter = _take(4, 6, 0.78, unit(other))
    filler = [_take(9 + k, 10 + k, 0.1, unit(rng.standard_normal(32))) for k in range(0, 6, 2)]
    cfg = PantheonConfig(weights={"judge": 1.0}, quorum=0.0, max_clips=2, diversity=0.3)
    sel = select_clips("v", [first, longer, shorter, *filler], cfg, {"judge": _judge})
    picked = [c.candidate for c in sel.clips]
    assert picked[0] is first
    assert picked[1] is longer, [c.text for c in picked]
    # and the other way round: a shorter take with the higher consensus is still free to win
    better_short = _take(4, 6, 0.85, unit(other))
    sel = select_clips("v", [first, longer, better_short, *filler], cfg, {"judge": _judge})
    assert sel.clips[1].candidate is better_short
