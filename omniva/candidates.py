"""Clip candidates: complete thoughts inside one topic, with features that discriminate.

Pure functions over the analysis; nothing here touches media, models or Dagster. The caller
passes what the models computed (``VideoContext``: sentence embeddings, topic segments,
exemplar vectors, the prosody track, the engagement heatmap).

A candidate is a run of consecutive whole sentences that

- lies inside one topic segment (``omniva.topics``: a clip never spans two subjects);
- opens on a sentence that does not lean on what came before (no leading "and / but / so /
  which / that / he / she / they / it ..." in the clip's language, fillers skipped), unless it is
  the video's first sentence;
- ends on a sentence end (terminal punctuation, or the video's last sentence);
- fits [min_s, max_s] after autocut.

Every raw feature is kept, and each judged one is also *calibrated within the video*: its
percentile rank among the video's candidates (``features["calibrated"]``), so "good" means good
for this video, whatever the speaker's pace, loudness or the embedding model's cosine range.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omniva import delivery as voice
from omniva import picture as shots
from omniva.records import Candidate, Sentence, Word
from omniva.vectors import centroid, percentile_ranks, to_bytes

# Openers that lean on an earlier sentence, per language (lowercase; CJK by prefix).
DANGLING_OPENERS: dict[str, tuple[str, ...]] = {
    "en": (
        "and",
        "but",
        "so",
        "or",
        "which",
        "that",
        "he",
        "she",
        "they",
        "it",
        "it's",
        "then",
        "also",
        "because",
        "him",
        "them",
        "whereas",
        "hence",
    ),
    "es": (
        "y",
        "pero",
        "entonces",
        "que",
        "cual",
        "él",
        "ella",
        "ellos",
        "ellas",
        "eso",
        "también",
        "porque",
        "o",
        "luego",
    ),
    "fr": (
        "et",
        "mais",
        "donc",
        "qui",
        "que",
        "il",
        "elle",
        "ils",
        "elles",
        "ça",
        "alors",
        "aussi",
        "parce",
        "ou",
        "puis",
    ),
    "de": (
        "und",
        "aber",
        "also",
        "das",
        "er",
        "sie",
        "es",
        "dann",
        "auch",
        "weil",
        "oder",
        "deshalb",
        "dies",
    ),
    "pt": (
        "e",
        "mas",
        "então",
        "que",
        "ele",
        "ela",
        "eles",
        "elas",
        "isso",
        "também",
        "porque",
        "ou",
        "depois",
    ),
    "it": ("e", "ma", "quindi", "che", "lui", "lei", "loro", "questo", "anche", "perché", "o", "poi"),
    "ja": ("それで", "でも", "だから", "そして", "それは", "それが", "しかし", "また", "彼", "彼女"),
    "zh": ("所以", "但是", "然后", "而且", "他", "她", "它", "这个", "那个", "因为", "或者"),
}
LEADING_FILLERS = (
    "uh",
    "um",
    "erm",
    "er",
    "uhm",
    "umm",
    "hmm",
    "mm",
    "eh",
    "euh",
    "äh",
    "ähm",
    "ehm",
    "well",
    "oh",
    "えー",
    "えっと",
    "あの",
    "嗯",
    "那个",
)
TERMINAL = (".", "!", "?", "。", "！", "？", "…", "\u061f")  # last: the Arabic question mark
SPACELESS = ("ja", "zh", "th")  # languages written without spaces between words

# A sentence that completes the one before it: its answer, the claim after its setup, the thing
# it announced, its consequence, its punchline. A clip that stops just before one stops short.
ANNOUNCES: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\b(?:here's|here is|here are|let me (?:tell|show|explain)|i'll (?:tell|show) you|"
        r"i will (?:tell|show) you|guess what|listen to this|watch this|look at this|"
        r"the (?:answer|reason|point|thing|secret|trick|truth|problem|question|lesson) is)\b",
        re.IGNORECASE,
    ),
    "es": re.compile(r"\b(?:te voy a (?:decir|contar)|la (?:respuesta|razón|clave) es|escucha)\b", re.I),
    "fr": re.compile(r"\b(?:je vais vous (?:dire|montrer)|la (?:réponse|raison|clé) est|écoutez)\b", re.I),
    "de": re.compile(
        r"\b(?:ich sage (?:euch|ihnen)|die (?:antwort|lösung) ist|der grund ist|hört zu)\b", re.I
    ),
    "pt": re.compile(r"\b(?:vou (?:te|lhe) (?:dizer|contar)|a (?:resposta|razão) é|escuta)\b", re.I),
    "it": re.compile(r"\b(?:vi dico|ti dico|la (?:risposta|ragione) è|ascolta)\b", re.I),
}
SETUP_OPENERS: dict[str, tuple[str, ...]] = {
    "en": ("if", "when", "whenever", "imagine", "suppose", "what if", "once", "picture"),
    "es": ("si", "cuando", "imagina", "supongamos"),
    "fr": ("si", "quand", "lorsque", "imaginez", "imagine", "supposons"),
    "de": ("wenn", "falls", "stell dir vor", "stellen sie sich vor", "angenommen"),
    "pt": ("se", "quando", "imagina", "imagine", "suponha"),
    "it": ("se", "quando", "immagina", "immaginate", "supponiamo"),
    "ja": ("もし", "例えば"),
    "zh": ("如果", "假如", "想象", "当"),
}
PAYOFF_OPENERS: dict[str, tuple[str, ...]] = {
    "en": ("so", "then", "that's why", "that is why", "which means", "this means", "that means",
           "therefore", "the answer", "it turns out", "turns out", "and that's", "in other words",
           "the result", "that's how", "and so"),
    "es": ("así que", "por eso", "entonces", "la respuesta", "o sea que", "por lo tanto"),
    "fr": ("donc", "c'est pourquoi", "alors", "la réponse", "du coup", "c'est pour ça"),
    "de": ("also", "deshalb", "darum", "dann", "die antwort", "deswegen", "das heißt"),
    "pt": ("então", "por isso", "a resposta", "ou seja", "portanto"),
    "it": ("quindi", "perciò", "allora", "la risposta", "per questo", "cioè"),
    "ja": ("だから", "つまり", "それで", "答えは"),
    "zh": ("所以", "因此", "答案是", "也就是说", "这就是为什么"),
}  # fmt: skip


def _opens_on(text: str, openers: Sequence[str], language: str) -> bool:
    body = text.strip().lower().replace("’", "'")
    if language in SPACELESS:
        return body.startswith(tuple(openers))
    body = re.sub(r"^[\W_]+", "", body)
    return any(re.match(rf"{re.escape(o)}(?![\w'])", body) for o in openers)


def payoff(previous: str, sentence: str, language: str = "en") -> str | None:
    """Why ``sentence`` completes the thought of ``previous`` (the sentence just before it), or
    None: it answers its question, says what it announced, makes the claim after its setup
    ("If ..." -> "Then ..."), draws its consequence ("That's why ...") or is its short punchline."""
    prev, this = previous.strip(), sentence.strip()
    if not prev or not this:
        return None
    asks = prev.rstrip("\"'”’)»").endswith(("?", "？", "\u061f"))
    if asks and not this.rstrip("\"'”’)»").endswith(("?", "？", "\u061f")):
        return "answers its question"
    announces = ANNOUNCES.get(language)
    if prev.rstrip().endswith((":", "：")) or (announces is not None and announces.search(prev)):
        return "says what it announces"
    if _opens_on(this, PAYOFF_OPENERS.get(language, ()), language):
        if _opens_on(prev, SETUP_OPENERS.get(language, ()), language):
            return "makes the claim after its setup"
        return "draws its consequence"
    words = len(this) // 2 if language in SPACELESS else len(this.split())
    if this.rstrip().endswith(("!", "！")) and words <= 8:
        return "is its punchline"
    return None


# Hook cues in the clip's first seconds (English words; numbers and questions in any language).
CONTRAST = re.compile(
    r"\b(but|actually|instead|however|never|nobody|wrong|myth|truth|secret|surprising|"
    r"most people|the real|turns out|mistake|stop)\b",
    re.IGNORECASE,
)
ADDRESS = re.compile(r"\b(you|your|you're|imagine|let's|here's|think about)\b", re.IGNORECASE)
STRONG = re.compile(
    r"\b(best|worst|biggest|every|always|only|first|most|impossible|incredible|amazing|why|how)\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d|\b(one|two|three|four|five|ten|hundred|thousand|million|billion|half)\b", re.I)


@dataclass(frozen=True, slots=True)
class CandidateRules:
    min_s: float = 5.0
    max_s: float = 120.0
    target_s: float = 35.0
    lead_in_s: float = 0.15  # start a little before the first word
    tail_s: float = 0.35  # end a little after the last word
    max_candidates: int = 40
    cut_gap_s: float = 0.75  # autocut removes silences longer than this ...
    cut_margin_s: float = 0.2  # ... keeping this much air on each side
    hook_window_s: float = 3.0  # what a viewer hears before deciding to stay


@dataclass(frozen=True)
class VideoContext:
    """What the models computed about the whole video (all optional but the language)."""

    language: str = "en"
    sentence_vectors: np.ndarray | None = None  # (n_sentences, d), rows normalised
    segments: tuple[tuple[int, int], ...] = ()  # topic segments (first, last), inclusive
    hook_vectors: np.ndarray | None = None  # exemplar hooks (config), rows normalised
    goal_vectors: Mapping[str, np.ndarray] = field(default_factory=dict)  # topic -> its examples
    null_vectors: np.ndarray | None = None  # off-topic examples (the relevance baseline)
    prosody: voice.ProsodyTrack | None = None
    heatmap: tuple[tuple[float, float, float], ...] = ()  # (start, end, value): most replayed
    picture: shots.PictureTrack | None = None  # shot boundaries, faces, motion (a still: ignored)


def overlap_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _tokens(text: str) -> list[str]:
    return [t for t in re.sub(r"[^\w'’\s-]", " ", text.lower()).split() if t]


def opener_problem(text: str, language: str = "en") -> str | None:
    """Why a sentence cannot open a clip (its first word leans on an earlier sentence), or None."""
    openers = DANGLING_OPENERS.get(language, ())
    if not openers:
        return None
    body = text.strip()
    if language in SPACELESS:
        for f in LEADING_FILLERS:
            body = body.removeprefix(f).lstrip("、，, ")
        hit = next((o for o in openers if body.startswith(o)), None)
        return f"opens on “{hit}”, which leans on what came before" if hit else None
    toks = _tokens(body)
    while toks and toks[0] in LEADING_FILLERS:
        toks.pop(0)
    if toks and toks[0].replace("’", "'") in openers:
        return f"opens on “{toks[0]}”, which leans on what came before"
    return None


def ends_complete(text: str) -> bool:
    return text.rstrip().rstrip("\"'”’)»").endswith(TERMINAL)


def extract_candidates(
    video_key: str,
    sentences: Sequence[Sentence],
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    keywords: Sequence[str],
    duration_s: float,
    rules: CandidateRules = CandidateRules(),
    context: VideoContext | None = None,
) -> list[Candidate]:
    """Every complete-thought window inside a topic (see the module doc), scored, best first."""
    ctx = context or VideoContext()
    keyword_set = {k.lower() for k in keywords}
    segments = (ctx.segments or ((0, len(sentences) - 1),)) if sentences else ()
    windows: list[tuple[int, int, float, float, dict[str, Any]]] = []
    for first_i, last_i in segments:
        for i in range(first_i, last_i + 1):
            if i > 0 and opener_problem(sentences[i].text, ctx.language):
                continue
            for j in range(i, last_i + 1):
                last = sentences[j]
                start, end, snapped = _edges(sentences, i, j, duration_s, rules, ctx)
                if end - start > rules.max_s:
                    break
                if end - start < rules.min_s:
                    continue
                if not ends_complete(last.text) and j != len(sentences) - 1:
                    continue
                features = (
                    window_features(sentences, i, j, words, silences, keyword_set, start, end, rules, ctx)
                    | snapped
                )
                # What the viewer gets is the window after autocut: it must still fit the limits.
                if features["edited_s"] < rules.min_s:
                    continue
                windows.append((i, j, start, end, features))
    calibrate([w[4] for w in windows])
    found = []
    for i, j, start, end, features in windows:
        span = sentences[i : j + 1]
        text = " ".join(s.text for s in span)
        vector = (
            to_bytes(centroid(ctx.sentence_vectors[i : j + 1])[None, :])
            if ctx.sentence_vectors is not None and len(ctx.sentence_vectors)
            else b""
        )
        found.append(
            Candidate(
                video_key=video_key,
                start_time=round(start, 3),
                end_time=round(end, 3),
                text=text,
                features=features,
                score=score_window(features),
                semantic_tags=tuple(sorted({k for k in keyword_set if k in text.lower()}))[:8],
                vector=vector,
            )
        )
    found.sort(key=lambda c: (-c.score, c.start_time))
    return found[: rules.max_candidates]


def _edges(
    sentences: Sequence[Sentence], i: int, j: int, duration_s: float, rules: CandidateRules, ctx: VideoContext
) -> tuple[float, float, dict[str, float]]:
    """A window's start and end: a little air around its words, moved onto a shot boundary when
    one lies in the pause beside the edge (within ``picture.SNAP_S``; never into a word), so the
    clip opens and closes on a cut rather than a flash of the shot before or after."""
    first, last = sentences[i], sentences[j]
    start = max(0.0, first.start - rules.lead_in_s)
    end = min(duration_s, last.end + rules.tail_s)
    track = ctx.picture
    if track is None or not track.cuts:
        return start, end, {}
    snapped: dict[str, float] = {}
    before = sentences[i - 1].end if i else 0.0
    cut = shots.snap(track.cuts, max(before, first.start - shots.SNAP_S), first.start - 0.02, start)
    if cut is not None:
        start = snapped["start_on_cut"] = cut
    after = sentences[j + 1].start if j + 1 < len(sentences) else duration_s
    cut = shots.snap(track.cuts, last.end + 0.05, min(after, last.end + shots.SNAP_S), end)
    if cut is not None:
        end = snapped["end_on_cut"] = cut
    return start, end, snapped


def _hook_cues(text: str) -> list[str]:
    cues = []
    if "?" in text or "？" in text:
        cues.append("question")
    if NUMBER.search(text):
        cues.append("number")
    if CONTRAST.search(text):
        cues.append("contrast")
    if ADDRESS.search(text):
        cues.append("direct address")
    if STRONG.search(text):
        cues.append("strong claim")
    return cues


def window_features(
    sentences: Sequence[Sentence],
    i: int,
    j: int,
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    keyword_set: set[str],
    start: float,
    end: float,
    rules: CandidateRules,
    ctx: VideoContext,
) -> dict[str, Any]:
    span = sentences[i : j + 1]
    span_words = words[span[0].first_word : span[-1].last_word + 1]
    length = end - start
    silent = sum(overlap_s((start, end), s) for s in silences)
    cut = sum(
        o - 2 * rules.cut_margin_s
        for o in (overlap_s((start, end), s) for s in silences)
        if o > rules.cut_gap_s
    )
    tokens = [re.sub(r"[^\w']", "", w.word).lower() for w in span_words]
    speech_s = max(0.5, length - silent)
    wps = len(span_words) / speech_s
    fillers = sum(1 for t in tokens if t in LEADING_FILLERS)
    probs = [w.probability for w in span_words if w.probability is not None]
    opening = " ".join(w.word for w in span_words if w.start < span_words[0].start + rules.hook_window_s)
    cues = _hook_cues(opening or span[0].text)
    f: dict[str, Any] = {
        "duration_s": round(length, 3),
        "edited_s": round(length - cut, 3),
        "sentences": len(span),
        "first_sentence": i,
        "last_sentence": j,
        "words": len(span_words),
        "words_per_s": round(wps, 3),
        "silence_ratio": round(min(1.0, silent / length), 3) if length else 1.0,
        "keyword_density": round(sum(1 for t in tokens if t in keyword_set) / max(1, len(tokens)), 3),
        "pause_before_s": round(min(2.0, span[0].start - sentences[i - 1].end), 3) if i else 2.0,
        "pause_after_s": round(min(2.0, sentences[j + 1].start - span[-1].end), 3)
        if j + 1 < len(sentences)
        else 2.0,
        "ends_complete": ends_complete(span[-1].text),
        "hook_cues": cues,
        "filler_ratio": round(fillers / max(1, len(tokens)), 3),
        "asr_confidence": round(float(np.mean(probs)), 3) if probs else None,
        "length_fit": round(max(0.0, 1.0 - abs(length - cut - rules.target_s) / rules.target_s), 3),
        "pace": round(max(0.0, 1.0 - abs(wps - 2.7) / 2.0), 3),
    }
    # The sentence after the window, when it completes the window's last one (and may be in it:
    # it ends a sentence and lies in the same topic), so the selection prefers the clip with it.
    after = sentences[j + 1] if j + 1 < len(sentences) and _same_segment(ctx.segments, i, j + 1) else None
    why = payoff(span[-1].text, after.text, ctx.language) if after is not None else None
    if why:
        f["payoff_after"] = why
    if i < j and payoff(sentences[j - 1].text, span[-1].text, ctx.language):
        f["ends_on_payoff"] = True
    f |= _embedding_features(i, j, ctx)
    f |= _delivery_features(span_words, start, end, ctx)
    if ctx.picture is not None and not ctx.picture.is_still:
        f |= shots.span_picture(ctx.picture, start, end)
    f["engagement"] = _engagement(ctx.heatmap, start, end)
    f["clarity"] = round((1.0 - min(1.0, 5 * f["filler_ratio"])) * (f["asr_confidence"] if probs else 1.0), 3)
    hook_sim = f.get("hook_similarity")
    f["hook"] = round(0.5 * min(1.0, len(cues) / 2) + (0.5 * hook_sim if hook_sim is not None else 0.0), 4)
    return f


def _same_segment(segments: Sequence[tuple[int, int]], i: int, k: int) -> bool:
    return not segments or any(a <= i and k <= b for a, b in segments)


def _embedding_features(i: int, j: int, ctx: VideoContext) -> dict[str, Any]:
    vecs = ctx.sentence_vectors
    if vecs is None or len(vecs) == 0:
        return {}
    window = vecs[i : j + 1]
    c = centroid(window)
    video = centroid(vecs)
    before, after = vecs[max(0, i - 2) : i], vecs[j + 1 : j + 3]
    outside = np.concatenate([before, after]) if len(before) + len(after) else None
    inside = float(np.mean(window @ c))
    out: dict[str, Any] = {
        "coherence": round(
            float(np.mean([window[k] @ window[k + 1] for k in range(len(window) - 1)]))
            if len(window) > 1
            else inside,
            4,
        ),
        # How much the window holds together on its own, against how much it leans on its
        # neighbours: cohesion inside minus similarity to the two sentences either side.
        "self_contained": round(inside - (float(np.mean(outside @ c)) if outside is not None else 0.0), 4),
        "relevance_video": round(float(c @ video), 4),
    }
    if ctx.hook_vectors is not None and len(ctx.hook_vectors):
        out["hook_similarity"] = round(float(np.max(ctx.hook_vectors @ vecs[i])), 4)
    if ctx.goal_vectors:
        # Each topic by its nearest example: a topic is a set of ways to talk, not their average.
        sims = {t: float(np.max(v @ c)) for t, v in ctx.goal_vectors.items()}
        topic = max(sorted(sims), key=lambda t: sims[t])
        base = float(np.max(ctx.null_vectors @ c)) if ctx.null_vectors is not None else 0.0
        out["goal_topic"] = topic if sims[topic] > base else None
        out["relevance_goals"] = round(sims[topic] - base, 4)
    return out


def _delivery_features(words: Sequence[Word], start: float, end: float, ctx: VideoContext) -> dict[str, Any]:
    if ctx.prosody is None:
        return {}
    d = voice.span_delivery(ctx.prosody, start, end)
    d["laughter"] = voice.laughter([w.word for w in words], ctx.prosody, start, end)
    d["delivery"] = voice.delivery_score(d)
    return d


def _engagement(heatmap: Sequence[tuple[float, float, float]], start: float, end: float) -> float | None:
    """The most-replayed curve over the span, against the video's mean (1.0: average)."""
    if not heatmap:
        return None
    mean = sum(v for _, _, v in heatmap) / len(heatmap) or 1e-9
    weighted = sum(v * overlap_s((a, b), (start, end)) for a, b, v in heatmap)
    covered = sum(overlap_s((a, b), (start, end)) for a, b, _ in heatmap)
    return round(weighted / covered / mean, 4) if covered else None


#: The features each candidate is judged on, calibrated within its video (percentile ranks),
#: and their weights in the candidate's own score (Pantheon's agents weigh them their own way).
JUDGED = {
    "hook": 0.20,
    "self_contained": 0.15,
    "coherence": 0.10,
    "relevance_video": 0.10,
    "relevance_goals": 0.10,
    "delivery": 0.10,
    "pace": 0.07,
    "clarity": 0.05,
    "length_fit": 0.08,
    "engagement": 0.05,
    "visual": 0.08,  # the picture: a face in shot, motion, no flash of another shot at an edge
}


def calibrate(features: Sequence[dict[str, Any]]) -> None:
    """Add ``calibrated``: each judged feature's percentile rank among the video's candidates
    (absent where the feature is; e.g. no heatmap, no engagement)."""
    for f in features:
        f["calibrated"] = {}
    for name in JUDGED:
        have = [f for f in features if f.get(name) is not None]
        for f, rank in zip(have, percentile_ranks([float(f[name]) for f in have]), strict=True):
            f["calibrated"][name] = rank


def score_window(features: Mapping[str, Any]) -> float:
    """The weighted mean of the calibrated features the candidate has (0..1)."""
    cal = features.get("calibrated") or {}
    weights = {k: w for k, w in JUDGED.items() if k in cal}
    if not weights:
        return 0.0
    return round(float(sum(w * cal[k] for k, w in weights.items())) / sum(weights.values()), 4)


@dataclass(frozen=True, slots=True)
class VideoScores:
    """A whole video's scores (the ``analysis`` row): how much of it is speech, how likely it is
    to travel (engagement where the platform gave it, else pace and speech), and how relevant it
    is to the project's goals (embedding similarity against the off-topic baseline)."""

    speech_ratio: float
    virality: float
    relevance: float
    basis: str


def video_scores(
    duration_s: float,
    silences: Sequence[tuple[float, float]],
    words: int,
    goal_similarity: float | None = None,
    views: int | None = None,
    likes: int | None = None,
) -> VideoScores:
    """Speech ratio (1 - silent share). Virality: with view and like counts, log views (a
    million is 1.0) and the like rate (4% is 1.0); without, the pace of speech and the speech
    ratio. Relevance: the goal similarity margin (the sentences' mean cosine above the off-topic
    baseline) mapped to 0..1 (``0.5 + 15 * margin``, clipped); 0.5 with no goals."""
    silent = sum(overlap_s((0, duration_s), s) for s in silences)
    speech_ratio = round(max(0.0, 1 - silent / duration_s), 3) if duration_s else 0.0
    if views:
        reach = min(1.0, math.log10(max(1, views)) / 6)
        rate = min(1.0, (likes or 0) / views / 0.04)
        virality, basis = 0.6 * reach + 0.4 * rate, "views and likes"
    else:
        wps = words / max(1.0, duration_s * speech_ratio)
        virality, basis = 0.6 * min(1.0, wps / 2.5) + 0.4 * speech_ratio, "pace and speech ratio"
    relevance = 0.5 if goal_similarity is None else min(1.0, max(0.0, 0.5 + 15 * goal_similarity))
    return VideoScores(speech_ratio, round(virality, 3), round(relevance, 3), basis)
