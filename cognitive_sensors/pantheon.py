"""Pantheon: several agents score every candidate, vote with a reason, and the
weighted consensus picks non-overlapping clips.

Each agent is a pure function of the candidate (deterministic: identical inputs
give identical votes). The guardian can veto; a veto is never outvoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cognitive_sensors.goals import Goals, topic_of
from omniva.candidates import overlap_s
from omniva.records import AgentVote, Ballot, Candidate, RankedClip, Selection

Agent = Callable[[Candidate], AgentVote]

# Words a brand-safe channel would not publish without review; configurable per creator later.
UNSAFE = re.compile(r"\b(fuck\w*|shit\w*|bitch\w*|kill yourself|suicide|nazi\w*|porn\w*)\b", re.IGNORECASE)


def _vote(agent: str, score: float, reason: str, yes_at: float = 0.5) -> AgentVote:
    score = round(max(0.0, min(1.0, score)), 4)
    return AgentVote(
        agent=agent,
        score=score,
        vote="yes" if score >= yes_at else "no",
        confidence=round(abs(score - yes_at) * 2, 4),
        reason=reason,
    )


def strategist(c: Candidate) -> AgentVote:
    """Hook and retention: an opening that pulls, and a pace that holds."""
    f = c.features
    pace = min(1.0, f["words_per_s"] / 2.5)
    score = 0.45 * float(f["hook"]) + 0.35 * pace + 0.20 * min(1.0, f["keyword_density"] * 6)
    hook = "opens with a hook" if f["hook"] else "no hook in the first sentence"
    return _vote("strategist", score + 0.2, f"{hook}; {f['words_per_s']:.1f} words/s")


def editor(c: Candidate) -> AgentVote:
    """Cut quality: whole sentences, little dead air, a length that suits a Short."""
    f = c.features
    score = 0.4 * f["length_fit"] + 0.35 * (1 - f["silence_ratio"]) + 0.25 * float(f["ends_complete"])
    ending = "ends on a full sentence" if f["ends_complete"] else "ends mid-thought"
    return _vote(
        "editor",
        score,
        f"{f['duration_s']:.0f}s, {f['silence_ratio']:.0%} silence, {ending}",
    )


def guardian(c: Candidate, banned_words: tuple[str, ...] = ()) -> AgentVote:
    """Safety and brand rules: vetoes language a brand-safe channel would not publish."""
    hits = sorted({m.group(0).lower() for m in UNSAFE.finditer(c.text)})
    lowered = c.text.lower()
    hits += [f"brand rule '{w}'" for w in banned_words if re.search(rf"\b{re.escape(w)}\b", lowered)]
    if hits:
        return AgentVote("guardian", 0.0, "veto", 1.0, f"unsafe language: {', '.join(hits)}")
    if c.features["words"] < 8:
        return _vote("guardian", 0.4, "too few words to judge context; abstains low")
    return _vote("guardian", 0.9, "no unsafe language found")


def audience(c: Candidate) -> AgentVote:
    """Fit with the viewer: topical words they came for, not filler."""
    f = c.features
    score = 0.5 + 0.5 * min(1.0, f["keyword_density"] * 8) - 0.3 * f["silence_ratio"]
    tags = ", ".join(c.semantic_tags[:4]) or "no topical keywords"
    return _vote("audience", score, f"topics: {tags}")


def make_guardian(banned_words: tuple[str, ...]) -> Agent:
    return lambda c: guardian(c, banned_words)


def make_horizon_delegate(gap: dict[str, float], topic_of: Callable[[Candidate], str | None]) -> Agent:
    """Content mix: favours topics the channel has had too little of lately (Horizon's gap)."""

    def horizon(c: Candidate) -> AgentVote:
        topic = topic_of(c)
        if topic is None or topic not in gap:
            return _vote("horizon", 0.5, "no goal topic; neutral on the content mix")
        need = gap[topic]
        verb = "needs more" if need > 0 else "has enough"
        return _vote("horizon", 0.55 + need, f"{topic}: the week {verb} ({need:+.0%} vs target mix)")

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


def council(goals: Goals, gap: dict[str, float], max_clips: int) -> tuple[PantheonConfig, dict[str, Agent]]:
    """The agents and their config for clips under ``goals`` (a project's brand rules,
    weights and quorum), with Horizon's delegate pulling towards the topics in ``gap``."""
    agents = {
        **DEFAULT_AGENTS,
        "guardian": make_guardian(goals.banned_words),
        "horizon": make_horizon_delegate(gap, lambda c: topic_of(c.text.split(), goals)),
    }
    weights = {**PantheonConfig().weights, **goals.weights}
    return PantheonConfig(weights=weights, quorum=goals.quorum, max_clips=max_clips), agents


def deliberate(candidate: Candidate, agents: dict[str, Agent], cfg: PantheonConfig):
    votes = tuple(agents[name](candidate) for name in sorted(agents))
    total = sum(cfg.weights.get(v.agent, 1.0) for v in votes) or 1.0
    yes = sum(cfg.weights.get(v.agent, 1.0) for v in votes if v.vote == "yes")
    consensus = sum(cfg.weights.get(v.agent, 1.0) * v.score for v in votes) / total
    vetoed = any(v.vote == "veto" for v in votes)
    return votes, round(consensus, 4), yes / total, vetoed


def select_clips(
    video_key: str,
    candidates: Sequence[Candidate],
    cfg: PantheonConfig = PantheonConfig(),
    agents: dict[str, Agent] | None = None,
) -> Selection:
    """Rank candidates by consensus; keep those with quorum, no veto and no overlap."""
    agents = agents or DEFAULT_AGENTS
    judged = []
    rejected: list[tuple[str, str]] = []
    ballots: list[Ballot] = []
    for cand in candidates:
        votes, consensus, yes_share, vetoed = deliberate(cand, agents, cfg)
        ballots.append(Ballot(cand.candidate_id, votes, consensus))
        if vetoed:
            why = next(v.reason for v in votes if v.vote == "veto")
            rejected.append((cand.candidate_id, f"vetoed by guardian: {why}"))
        elif yes_share < cfg.quorum:
            rejected.append((cand.candidate_id, f"no quorum: {yes_share:.0%} yes < {cfg.quorum:.0%}"))
        else:
            judged.append((consensus, cand, votes))
    judged.sort(key=lambda t: (-t[0], t[1].start_time, t[1].end_time))
    chosen: list[RankedClip] = []
    for consensus, cand, votes in judged:
        span = (cand.start_time, cand.end_time)
        clash = next(
            (
                c
                for c in chosen
                if overlap_s(span, (c.candidate.start_time, c.candidate.end_time)) > cfg.max_overlap_s
            ),
            None,
        )
        if clash is not None:
            rejected.append((cand.candidate_id, f"overlaps rank {clash.rank}"))
            continue
        if len(chosen) >= cfg.max_clips:
            rejected.append((cand.candidate_id, f"below the top {cfg.max_clips}"))
            continue
        dissent = tuple(f"{v.agent}: {v.reason}" for v in votes if v.vote != "yes")
        chosen.append(RankedClip(len(chosen) + 1, cand, votes, consensus, dissent))
    return Selection(
        video_key, tuple(chosen), tuple(rejected), cfg.quorum, tuple(sorted(agents)), tuple(ballots)
    )
