"""Pantheon: a council of agents that each read *different* evidence about every candidate,
vote with a reason, and can disagree; the weighted consensus, with diversity, picks the clips.

- strategist: the project's goals (relevance to its topics by embedding), Horizon's topic gap,
  engagement where the platform gave it (YouTube's most-replayed curve over the clip);
- editor: the cut (pauses at both ends), pace, delivery (pitch and loudness movement,
  emphasis, laughter), length, and the picture where the video has one (a face in shot, motion,
  shot changes; a flash of another shot at an edge counts against it);
- guardian: brand and safety rules (vetoes), near-duplicates of clips already on the channel
  (veto, by embedding), and the risk of misquoting the speaker (ASR confidence of the captions);
- audience: the hook (first seconds: question, number, contrast, direct address, similarity to
  exemplar hooks), clarity (fillers), whether the clip stands on its own;
- horizon: the content mix (is the clip in one of the project's topics, and does the week need
  more of it).

Features are calibrated within the video (``features["calibrated"]``: percentile ranks), so an
agent says yes to what is good *for this video* by its own evidence. Agents are pure functions
of the candidate and the council's context: identical inputs give identical votes. A veto is
never outvoted. Picks are ranked by maximal marginal relevance over the candidates' embeddings,
so a video's clips are not three takes on one sentence.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cognitive_sensors.goals import Goals
from omniva import picture
from omniva.candidates import overlap_s
from omniva.records import AgentVote, Ballot, Candidate, RankedClip, Selection
from omniva.vectors import from_bytes

Agent = Callable[[Candidate], AgentVote]

# Words a brand-safe channel would not publish without review; projects add their own rules.
UNSAFE = re.compile(r"\b(fuck\w*|shit\w*|bitch\w*|kill yourself|suicide|nazi\w*|porn\w*)\b", re.IGNORECASE)


def _vote(agent: str, score: float, reason: str, yes_at: float = 0.5) -> AgentVote:
    score = round(max(0.0, min(1.0, score)), 4)
    return AgentVote(
        agent=agent,
        score=score,
        vote="yes" if score >= yes_at else "no",
        confidence=round(min(1.0, abs(score - yes_at) * 2), 4),
        reason=reason,
    )


def _cal(c: Candidate, name: str, default: float = 0.5) -> float:
    return float((c.features.get("calibrated") or {}).get(name, default))


def _pct(x: float) -> str:
    """A calibrated value as words a person reads: where the clip stands in its video."""
    if x >= 0.8:
        return "top fifth of this video"
    if x >= 0.5:
        return "upper half"
    if x >= 0.2:
        return "lower half"
    return "bottom fifth"


def strategist(c: Candidate, gap: Mapping[str, float] | None = None) -> AgentVote:
    """Goals and reach: relevance to the project's topics, the topic gap, engagement."""
    f = c.features
    rel = _cal(c, "relevance_goals", _cal(c, "relevance_video"))
    topic = f.get("goal_topic")
    need = float((gap or {}).get(topic, 0.0)) if topic else 0.0
    reach = _cal(c, "engagement", _cal(c, "relevance_video"))
    score = 0.5 * rel + 0.25 * reach + 0.25 * min(1.0, max(0.0, 0.5 + need))
    parts = [f"fits the goals: {_pct(rel)}" + (f" ({topic})" if topic else "")]
    if topic and need:
        parts.append(f"week {'needs more' if need > 0 else 'has enough'} {topic} ({need:+.0%})")
    if f.get("engagement") is not None:
        parts.append(f"replayed {f['engagement']:.1f}x the video's average")
    else:
        parts.append(f"on the video's main thread: {_pct(reach)}")
    return _vote("strategist", score, "; ".join(parts))


def editor(c: Candidate) -> AgentVote:
    """The cut: clean pauses at both ends, pace, delivery, a length that suits a Short."""
    f = c.features
    air = 0.5 * min(1.0, f.get("pause_before_s", 0.0) / 0.5) + 0.5 * min(
        1.0, f.get("pause_after_s", 0.0) / 0.5
    )
    pace, voice, length = _cal(c, "pace"), _cal(c, "delivery"), _cal(c, "length_fit")
    score = 0.3 * length + 0.25 * pace + 0.25 * voice + 0.2 * air
    seen = ""
    if "visual" in f:  # the picture, where the video has one that moves or changes
        score = 0.8 * score + 0.2 * _cal(c, "visual")
        seen = f"; picture: {picture.describe(f)} ({_pct(_cal(c, 'visual'))})"
        if f.get("start_on_cut") is not None or f.get("end_on_cut") is not None:
            seen += "; cut on a shot change"
    ends = "clean pauses at both ends" if air >= 0.75 else "tight cut at an edge"
    lively = (
        f"delivery {_pct(voice)} (pitch moves {f['pitch_movement_st']:.1f} st)"
        if "pitch_movement_st" in f
        else "delivery not measured"
    )
    return _vote(
        "editor",
        score,
        f"{f.get('edited_s', f['duration_s']):.0f}s after cuts; {f['words_per_s']:.1f} words/s "
        f"({_pct(pace)}); {lively}; {ends}{seen}",
    )


@dataclass(frozen=True)
class ChannelClips:
    """Clips already on the channel (selected or uploaded from other videos), for the guardian's
    near-duplicate rule: their ids, short labels and embeddings."""

    ids: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))

    def nearest(self, vector: np.ndarray) -> tuple[str, str, float] | None:
        if not len(self.ids) or vector.size == 0 or self.vectors.shape[1] != vector.shape[-1]:
            return None
        sims = self.vectors @ vector.reshape(-1)
        k = int(np.argmax(sims))
        return self.ids[k], self.labels[k], float(sims[k])


def guardian(
    c: Candidate,
    banned_words: tuple[str, ...] = (),
    channel: ChannelClips | None = None,
    duplicate_at: float = 0.95,
) -> AgentVote:
    """Brand and safety: vetoes unsafe language, the project's banned words, and near-duplicates
    of clips already on the channel; otherwise weighs the risk of misquoting the speaker (the
    captions are the ASR's words: low confidence means wrong words under the creator's face)."""
    hits = sorted({m.group(0).lower() for m in UNSAFE.finditer(c.text)})
    lowered = c.text.lower()
    hits += [f"brand rule '{w}'" for w in banned_words if re.search(rf"\b{re.escape(w)}\b", lowered)]
    if hits:
        return AgentVote("guardian", 0.0, "veto", 1.0, f"unsafe language: {', '.join(hits)}")
    near = (
        channel.nearest(from_bytes(c.vector, channel.vectors.shape[1])[0]) if channel and c.vector else None
    )
    if near and near[2] >= duplicate_at:
        return AgentVote(
            "guardian",
            0.0,
            "veto",
            1.0,
            f"near-duplicate of {near[1]} already on the channel (similarity {near[2]:.2f})",
        )
    f = c.features
    if f.get("asr_confidence") is None:
        return _vote("guardian", 0.9, "no unsafe language; no ASR confidence to weigh")
    sure = _cal(c, "clarity")
    novelty = 1.0 if near is None else min(1.0, max(0.0, (duplicate_at - near[2]) / 0.1))
    score = 0.75 * sure + 0.25 * novelty
    reason = (
        f"no unsafe language; caption accuracy risk: ASR confidence {f['asr_confidence']:.2f} ({_pct(sure)})"
    )
    if near is not None:
        reason += f"; closest clip on the channel {near[2]:.2f} similar"
    return _vote("guardian", score, reason, yes_at=0.35)


def audience(c: Candidate) -> AgentVote:
    """The viewer: a hook in the first seconds, clear speech, a clip that stands on its own."""
    f = c.features
    hook, clear, alone = _cal(c, "hook"), _cal(c, "clarity"), _cal(c, "self_contained")
    score = 0.45 * hook + 0.2 * clear + 0.35 * alone
    cues = ", ".join(f.get("hook_cues") or ()) or "no hook cue"
    return _vote(
        "audience",
        score,
        f"hook: {cues} ({_pct(hook)}); stands alone: {_pct(alone)}; fillers {f.get('filler_ratio', 0):.0%}",
    )


def make_strategist(gap: Mapping[str, float]) -> Agent:
    return lambda c: strategist(c, gap)


def make_guardian(banned_words: tuple[str, ...], channel: ChannelClips | None = None) -> Agent:
    return lambda c: guardian(c, banned_words, channel)


def make_horizon_delegate(gap: Mapping[str, float]) -> Agent:
    """Content mix: is the clip in one of the project's topics, and does the week need more of it."""

    def horizon(c: Candidate) -> AgentVote:
        topic = c.features.get("goal_topic")
        if "goal_topic" not in c.features:
            return _vote("horizon", 0.5, "no goal topics to weigh; neutral on the content mix")
        if topic is None:
            return _vote("horizon", 0.3, "off the project's topics (closer to the off-topic examples)")
        need = float(gap.get(topic, 0.0))
        verb = "needs more" if need > 0 else "has enough"
        fit = _cal(c, "relevance_goals")
        return _vote(
            "horizon",
            0.35 + 0.3 * fit + need,
            f"{topic} ({_pct(fit)}): the week {verb} ({need:+.0%} vs target mix)",
        )

    return horizon


DEFAULT_AGENTS: dict[str, Agent] = {
    "strategist": strategist,
    "editor": editor,
    "guardian": guardian,
    "audience": audience,
}


@dataclass(frozen=True, slots=True)
class PantheonConfig:
    weights: dict[str, float] = field(
        default_factory=lambda: {"strategist": 1.0, "editor": 1.0, "guardian": 1.0, "audience": 0.8}
    )
    quorum: float = 0.5  # share of weighted "yes" needed
    max_clips: int = 3
    max_overlap_s: float = 0.0
    diversity: float = 0.3  # maximal marginal relevance: weight of redundancy with earlier picks


def council(
    goals: Goals, gap: dict[str, float], max_clips: int, channel: ChannelClips | None = None
) -> tuple[PantheonConfig, dict[str, Agent]]:
    """The agents and their config for clips under ``goals`` (a project's brand rules, weights
    and quorum), Horizon's ``gap``, and the clips already on the channel."""
    agents = {
        **DEFAULT_AGENTS,
        "strategist": make_strategist(gap),
        "guardian": make_guardian(goals.banned_words, channel),
        "horizon": make_horizon_delegate(gap),
    }
    weights = {**PantheonConfig().weights, **goals.weights}
    return PantheonConfig(weights=weights, quorum=goals.quorum, max_clips=max_clips), agents


def deliberate(
    candidate: Candidate, agents: dict[str, Agent], cfg: PantheonConfig
) -> tuple[tuple[AgentVote, ...], float, float, bool]:
    votes = tuple(agents[name](candidate) for name in sorted(agents))
    total = sum(cfg.weights.get(v.agent, 1.0) for v in votes) or 1.0
    yes = sum(cfg.weights.get(v.agent, 1.0) for v in votes if v.vote == "yes")
    consensus = sum(cfg.weights.get(v.agent, 1.0) * v.score for v in votes) / total
    vetoed = any(v.vote == "veto" for v in votes)
    return votes, round(consensus, 4), yes / total, vetoed


def _redundancy(candidates: Sequence[Candidate]) -> Callable[[Candidate, list[RankedClip]], float]:
    """0..1: how close a candidate is to the clips already picked, relative to how alike the
    video's candidates are anyway (the median pairwise cosine is 0)."""
    vecs = {c.candidate_id: c.vector for c in candidates if c.vector}
    if len(vecs) < 2:
        return lambda c, chosen: 0.0
    dim = len(next(iter(vecs.values()))) // 2
    matrix = from_bytes(b"".join(vecs.values()), dim)
    index = {cid: k for k, cid in enumerate(vecs)}
    sims = matrix @ matrix.T
    floor = float(np.median(sims[np.triu_indices(len(matrix), 1)]))

    def redundancy(c: Candidate, chosen: list[RankedClip]) -> float:
        if c.candidate_id not in index or not chosen:
            return 0.0
        row = sims[index[c.candidate_id]]
        best = max(row[index[p.candidate.candidate_id]] for p in chosen if p.candidate.candidate_id in index)
        return max(0.0, (float(best) - floor) / max(1e-6, 1.0 - floor))

    return redundancy


def _span(c: Candidate) -> tuple[Any, Any]:
    """(first, last) sentence of a candidate; its times when it has no sentence indexes."""
    f = c.features
    if f.get("first_sentence") is not None and f.get("last_sentence") is not None:
        return f["first_sentence"], f["last_sentence"]
    return c.start_time, c.end_time


def _extends(longer: Candidate, shorter: Candidate) -> bool:
    """``longer`` starts where ``shorter`` does and ends later."""
    (a, b), (c, d) = _span(longer), _span(shorter)
    return bool(a == c and b > d)


def _to_the_payoff(
    pool: list[tuple[float, Candidate, tuple[AgentVote, ...]]],
) -> tuple[list[tuple[float, Candidate, tuple[AgentVote, ...]]], list[tuple[str, str]]]:
    """A candidate that stops one sentence before the sentence completing its thought
    (``features["payoff_after"]``: its answer, claim, punchline ...) is never picked: it gives way
    to the candidate from the same start that includes it when that one passed the council too,
    and otherwise goes anyway (a clip that cuts off its own payoff is not a clip a person would
    post; the take with it was too long or lost the vote)."""
    spans = {_span(t[1]) for t in pool}
    kept, rejected = [], []
    for item in pool:
        f = item[1].features
        first, last = _span(item[1])
        why = f.get("payoff_after")
        if not why:
            kept.append(item)
            continue
        longer = isinstance(last, int) and (first, last + 1) in spans
        rejected.append(
            (
                item[1].candidate_id,
                f"stops one sentence before the next, which {why}; "
                + (
                    "the clip to it is kept"
                    if longer
                    else "the clip to it did not pass (too long or outvoted)"
                ),
            )
        )
    return kept, rejected


def select_clips(
    video_key: str,
    candidates: Sequence[Candidate],
    cfg: PantheonConfig = PantheonConfig(),
    agents: dict[str, Agent] | None = None,
) -> Selection:
    """Every agent votes on every candidate; of those with quorum and no veto, pick greedily by
    consensus minus ``cfg.diversity`` x redundancy with the picks so far (maximal marginal
    relevance), never overlapping, up to ``cfg.max_clips``."""
    agents = agents or DEFAULT_AGENTS
    rejected: list[tuple[str, str]] = []
    ballots: list[Ballot] = []
    pool: list[tuple[float, Candidate, tuple[AgentVote, ...]]] = []
    for cand in candidates:
        votes, consensus, yes_share, vetoed = deliberate(cand, agents, cfg)
        ballots.append(Ballot(cand.candidate_id, votes, consensus))
        if vetoed:
            why = next(v.reason for v in votes if v.vote == "veto")
            rejected.append((cand.candidate_id, f"vetoed by guardian: {why}"))
        elif yes_share < cfg.quorum:
            rejected.append((cand.candidate_id, f"no quorum: {yes_share:.0%} yes < {cfg.quorum:.0%}"))
        else:
            pool.append((consensus, cand, votes))
    pool.sort(key=lambda t: (-t[0], t[1].start_time, t[1].end_time))
    pool, short = _to_the_payoff(pool)
    rejected += short
    redundancy = _redundancy(candidates)
    chosen: list[RankedClip] = []
    while pool and len(chosen) < cfg.max_clips:
        free = []
        for item in pool:
            span = (item[1].start_time, item[1].end_time)
            clash = next(
                (
                    c
                    for c in chosen
                    if overlap_s(span, (c.candidate.start_time, c.candidate.end_time)) > cfg.max_overlap_s
                ),
                None,
            )
            if clash is not None:
                rejected.append((item[1].candidate_id, f"overlaps rank {clash.rank}"))
            else:
                free.append(item)
        if not free:
            pool = []
            break
        consensus, cand, votes = max(
            free, key=lambda t: (t[0] - cfg.diversity * redundancy(t[1], chosen), -t[1].start_time)
        )
        # Redundancy alone never makes a shorter take of the same start win: a longer one with
        # at least its consensus goes instead (it says the same and then some).
        longer = [t for t in free if _extends(t[1], cand) and t[0] >= consensus]
        if longer:
            consensus, cand, votes = max(longer, key=lambda t: (t[0], t[1].end_time))
        dissent = tuple(f"{v.agent}: {v.reason}" for v in votes if v.vote != "yes")
        chosen.append(RankedClip(len(chosen) + 1, cand, votes, consensus, dissent))
        pool = [t for t in free if t[1] is not cand]
    rejected += [(t[1].candidate_id, f"below the top {cfg.max_clips}") for t in pool]
    return Selection(
        video_key, tuple(chosen), tuple(rejected), cfg.quorum, tuple(sorted(agents)), tuple(ballots)
    )


def agent_stats(selection: Selection) -> dict[str, dict[str, Any]]:
    """Each agent's score distribution and yes share over the video's candidates, and the share
    of candidates on which the agents disagreed (not all the same vote)."""
    per: dict[str, list[AgentVote]] = {}
    for b in selection.ballots:
        for v in b.votes:
            per.setdefault(v.agent, []).append(v)
    stats: dict[str, dict[str, Any]] = {
        agent: {
            "yes": round(sum(v.vote == "yes" for v in votes) / len(votes), 3),
            "min": min(v.score for v in votes),
            "median": round(statistics.median(v.score for v in votes), 4),
            "max": max(v.score for v in votes),
        }
        for agent, votes in sorted(per.items())
    }
    split = sum(1 for b in selection.ballots if len({v.vote for v in b.votes}) > 1)
    stats["_council"] = {
        "candidates": len(selection.ballots),
        "disagreed": round(split / len(selection.ballots), 3) if selection.ballots else 0.0,
    }
    return stats
