"""The judgement benchmark: what Omniva picks and writes, video by video, and the counts that say
whether its judgement discriminates.

    .venv/bin/python bench/judgement.py                 # the sample and the fixtures
    .venv/bin/python bench/judgement.py FILE ...        # your own recordings
    .venv/bin/python bench/judgement.py --json out.json --markdown docs/judgement-table.md

Per video: sentences and topic segments, candidates, the picks (start and end sentence), their
judged features (percentile within the video), every agent's vote, the dissent, the title and the
description. Then the counts: how often the agents disagree, each agent's yes share, whether
relevance varies across videos, and the title and boundary problems found (fillers at the start
of a title, a title ending on a function word or cut mid-phrase, a pick opening on a dangling
connective or pronoun, a pick spanning the splice of two unrelated recordings).

The same stages as the Dagster assets, called directly: ASR (the configured default model),
spaCy, ffmpeg silences, prosody, the text model, candidates, Pantheon (the default project's
goals, an empty week), Chorus.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cognitive_sensors import chorus  # noqa: E402
from cognitive_sensors.goals import load_goals, mix_gap  # noqa: E402
from cognitive_sensors.pantheon import agent_stats, council, select_clips  # noqa: E402
from omniva import copytext  # noqa: E402
from omniva.candidates import extract_candidates, opener_problem  # noqa: E402
from omniva.records import Analysis  # noqa: E402
from omniva_resources import asr, judgement, media, nlp, textmodel  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "media"
DEFAULT_FILES = [
    REPO / "sample" / "media" / "physicsworks_audio.webm",
    REPO / "sample" / "media" / "example.mp4",
    REPO / "sample" / "media" / "acoustic_corpus.wav",
    FIXTURES / "pyannote_sample.wav",
    FIXTURES / "jfk.flac",
    FIXTURES / "whisper2.flac",
    FIXTURES / "mfa_laughter.flac",
]
SPLICE = ("physicsworks_audio.webm", "pyannote_sample.wav")


def splice(a: Path, b: Path, out: Path) -> float:
    """``a`` then ``b`` as one 16 kHz mono WAV; returns the splice time (``a``'s duration)."""
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(a),
            "-i",
            str(b),
            "-filter_complex",
            "[0:a]aresample=16000,aformat=channel_layouts=mono[x];"
            "[1:a]aresample=16000,aformat=channel_layouts=mono[y];[x][y]concat=n=2:v=0:a=1",
            str(out),
        ],
        check=True,
    )
    return media.probe(a).duration_s


def analyse(path: Path, transcript, model, goals, exemplars) -> tuple[Analysis, list]:
    analysis = judgement.understand(path, path.stem, transcript, goals, model, exemplars)
    ctx = judgement.video_context(analysis, goals, model, exemplars)
    duration = media.probe(path).duration_s
    cands = extract_candidates(
        path.stem,
        analysis.sentences,
        transcript.words,
        analysis.silences,
        analysis.keywords,
        duration,
        context=ctx,
    )
    return analysis, cands


def title_problems(title: str, language: str) -> list[str]:
    shown = title.removesuffix(" #Shorts").strip()
    words = shown.rstrip("!?.…").split()
    problems = []
    if words and words[0].lower().strip(",.") in copytext.FILLERS.get(language, ()):
        problems.append("starts with a filler")
    if words and words[-1].lower().strip(",") in copytext.FUNCTION_WORDS.get(language, frozenset()):
        problems.append(f"ends on '{words[-1]}'")
    hesitations = set(copytext.HESITATIONS.get(language, ()))
    if any(w.lower().strip(",.") in hesitations for w in words) or " you know" in shown.lower():
        problems.append("keeps a filler")
    if shown.endswith(","):
        problems.append("ends on a comma")
    if "…" in shown:
        problems.append("ellipsis in mid-phrase")
    if copytext.leans_on_context(shown, language):
        problems.append("leans on something it does not name")
    if not copytext.names_something(shown, language):
        problems.append("names nothing")
    if len(title) > 100:
        problems.append("over 100 characters")
    return problems


SPLIT_WORD = re.compile(r"[^\W_]\s[-‐'’][^\W_]")  # "cold -hearted", "John 's"


def _pos_problem(phrase: str, text: str) -> str | None:
    """For English, by spaCy's tags of the clip (an independent check of Chorus's word-list
    rule): a phrase that does not end on a noun or name, or starts on a verb, a preposition, a
    pronoun or a conjunction, is not a noun phrase."""
    doc = nlp.load_pipeline()(text)
    at = text.lower().find(phrase.lower())
    span = doc.char_span(at, at + len(phrase), alignment_mode="expand") if at >= 0 else None
    if span is None or not len(span):
        return None
    if span[-1].pos_ not in ("NOUN", "PROPN", "NUM") or span[0].pos_ in (
        "VERB",
        "AUX",
        "ADP",
        "PRON",
        "CCONJ",
        "SCONJ",
        "DET",
        "PART",
    ):
        return f"{phrase!r} is not a noun phrase ({' '.join(t.pos_ for t in span)})"
    return None


def not_noun_phrases(phrases, language: str, text: str) -> list[str]:
    """English key phrases that spaCy's tags of the clip do not read as noun phrases."""
    if copytext.base_language(language) != "en":
        return []
    return [why for phrase in phrases if (why := _pos_problem(phrase, text))]


def phrase_problems(phrases, hashtags: list[str], language: str) -> list[str]:
    """Key phrases and hashtags that are not phrases: on a function word, a lone honorific or
    pronoun (``copytext``'s word lists), and hashtags not made from a key phrase."""
    lang = copytext.base_language(language)
    function = copytext.FUNCTION_WORDS.get(lang, frozenset())
    lone = copytext.HONORIFICS.get(lang, frozenset()) | copytext.PRONOUNS.get(lang, frozenset())
    problems = []
    for phrase in phrases:
        words = [w.lower() for w in copytext.words(phrase)]
        if copytext.is_unspaced(phrase, lang) or not words:
            continue
        if words[-1] in function or words[0] in function:
            problems.append(f"{phrase!r} starts or ends on a function word")
        if len(words) == 1 and words[0] in lone:
            problems.append(f"{phrase!r} is a lone honorific or pronoun")
    made = {chorus.hashtags([p])[0] for p in phrases if chorus.hashtags([p])}
    problems += [
        f"{tag} is not from a key phrase" for tag in hashtags if tag != "#Shorts" and tag not in made
    ]
    return problems


def run(files: list[Path], cache: Path | None) -> dict:
    goals = load_goals()
    exemplars = judgement.load_exemplars()
    model = textmodel.load_text_model()
    transcripts = pickle.loads(cache.read_bytes()) if cache and cache.is_file() else {}
    tmp = Path(tempfile.mkdtemp(prefix="omniva-judgement-"))
    spliced = tmp / "splice.wav"
    by_name = {f.name: f for f in [*files, *DEFAULT_FILES]}
    splice_at = None
    if all(n in by_name for n in SPLICE):
        splice_at = splice(by_name[SPLICE[0]], by_name[SPLICE[1]], spliced)
        files = [*files, spliced]
    report: dict = {"text_model": model.label, "videos": []}
    cfg, agents = council(goals, mix_gap(goals, {}), 3)
    for path in files:
        started = time.perf_counter()
        key = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name
        if key not in transcripts:
            transcripts[key] = asr.transcribe(path, asr.AsrSettings(), media.DEFAULT_TOOLS)
        transcript = transcripts[key]
        analysis, cands = analyse(path, transcript, model, goals, exemplars)
        split_words = len(SPLIT_WORD.findall(transcript.text)) + sum(
            len(SPLIT_WORD.findall(s.text)) for s in analysis.sentences
        )
        sel = select_clips(path.stem, cands, cfg, agents)
        stats = agent_stats(sel)
        picks = []
        for clip in sel.clips:
            c = clip.candidate
            first, last = c.features["first_sentence"], c.features["last_sentence"]
            text = chorus.ClipText(
                tuple(s.text for s in analysis.sentences[first : last + 1]), analysis.language
            )
            title, description, tags, author, phrases = chorus.compose(
                text, "sample", "https://example.org/v", model, goals.tone
            )
            picks.append(
                {
                    "rank": clip.rank,
                    "span": [c.start_time, c.end_time],
                    "first_sentence": analysis.sentences[first].text,
                    "last_sentence": analysis.sentences[last].text,
                    "calibrated": c.features.get("calibrated"),
                    "hook_cues": c.features.get("hook_cues"),
                    "votes": {v.agent: [v.vote, v.score, v.reason] for v in clip.votes},
                    "dissent": list(clip.dissent),
                    "consensus": clip.consensus,
                    "title": title,
                    "title_problems": title_problems(title, analysis.language),
                    "description": description,
                    "tags": list(tags),
                    "key_phrases": list(phrases),
                    "hashtags": description.rstrip().split("\n")[-1].split(),
                    "phrase_problems": phrase_problems(
                        phrases, description.rstrip().split("\n")[-1].split(), analysis.language
                    ),
                    "not_noun_phrases": not_noun_phrases(
                        phrases,
                        analysis.language,
                        copytext.clean(" ".join(text.sentences), analysis.language),
                    ),
                    "split_words": len(SPLIT_WORD.findall(" ".join((title, description, *tags)))),
                    "stops_before_payoff": c.features.get("payoff_after"),
                    "ends_on_payoff": bool(c.features.get("ends_on_payoff")),
                    "opens_dangling": bool(
                        first and opener_problem(analysis.sentences[first].text, analysis.language)
                    ),
                    "spans_splice": bool(
                        path == spliced and splice_at and c.start_time < splice_at < c.end_time
                    ),
                }
            )
        report["videos"].append(
            {
                "video": key,
                "language": analysis.language,
                "sentences": len(analysis.sentences),
                "segments": [list(s) for s in analysis.segments],
                "candidates": len(cands),
                "relevance": analysis.relevance_score,
                "agents": stats,
                "split_words": split_words,
                # candidates that stop one sentence before the sentence completing their thought
                "candidates_before_payoff": sum(1 for c in cands if c.features.get("payoff_after")),
                "picks": picks,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    if cache:
        cache.write_bytes(pickle.dumps(transcripts))
    report["counts"] = counts(report)
    return report


def counts(report: dict) -> dict:
    videos = report["videos"]
    n_cands = sum(v["agents"]["_council"]["candidates"] for v in videos)
    disagreed = sum(
        v["agents"]["_council"]["disagreed"] * v["agents"]["_council"]["candidates"] for v in videos
    )
    agents = sorted({a for v in videos for a in v["agents"] if not a.startswith("_")})
    yes = {
        a: round(
            sum(
                v["agents"][a]["yes"] * v["agents"]["_council"]["candidates"]
                for v in videos
                if a in v["agents"]
            )
            / max(1, n_cands),
            3,
        )
        for a in agents
    }
    picks = [p for v in videos for p in v["picks"]]
    return {
        "videos": len(videos),
        "candidates": n_cands,
        "picks": len(picks),
        "disagreement_share": round(disagreed / max(1, n_cands), 3),
        "agent_yes_share": yes,
        "constant_agents": [a for a, s in yes.items() if s in (0.0, 1.0)],
        "relevance_values": sorted({v["relevance"] for v in videos}),
        "titles_with_problems": sum(1 for p in picks if p["title_problems"]),
        "titles_with_mid_phrase_ellipsis": sum(1 for p in picks if "…" in p["title"]),
        "key_phrases_or_hashtags_with_problems": sum(len(p["phrase_problems"]) for p in picks),
        "key_phrases": sum(len(p["key_phrases"]) for p in picks),
        "english_key_phrases_not_noun_phrases_by_spacy": sum(len(p["not_noun_phrases"]) for p in picks),
        "split_words_in_transcripts": sum(v["split_words"] for v in videos),
        "split_words_in_copy": sum(p["split_words"] for p in picks),
        "picks_stopping_before_their_payoff": sum(1 for p in picks if p["stops_before_payoff"]),
        "picks_ending_on_a_payoff": sum(1 for p in picks if p["ends_on_payoff"]),
        "picks_opening_dangling": sum(1 for p in picks if p["opens_dangling"]),
        "picks_spanning_splice": sum(1 for p in picks if p["spans_splice"]),
    }


def markdown(report: dict) -> str:
    out = [f"Text model: {report['text_model']}", ""]
    for v in report["videos"]:
        council_ = v["agents"]["_council"]
        out += [
            f"### {v['video']} ({v['language']})",
            "",
            f"{v['sentences']} sentences in {len(v['segments'])} topic segment(s); {v['candidates']} candidates; "
            f"relevance {v['relevance']:.2f}; agents disagreed on {council_['disagreed']:.0%}.",
            "",
            "| agent | yes | min | median | max |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {a} | {s['yes']:.0%} | {s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f} |"
            for a, s in v["agents"].items()
            if not a.startswith("_")
        ]
        for p in v["picks"]:
            cal = ", ".join(f"{k} {x:.2f}" for k, x in sorted((p["calibrated"] or {}).items()))
            out += [
                "",
                f"**Pick {p['rank']}** {p['span'][0]:.1f}–{p['span'][1]:.1f} s, consensus {p['consensus']:.2f}",
                f"- starts: “{p['first_sentence'][:100]}”",
                f"- ends: “{p['last_sentence'][-100:]}”",
                f"- features (percentile in video): {cal}",
                "- votes: " + "; ".join(f"{a} {x[0]} {x[1]:.2f} ({x[2]})" for a, x in p["votes"].items()),
                f"- dissent: {'; '.join(p['dissent']) or 'none'}",
                f"- title: **{p['title']}**"
                + (f" (problems: {', '.join(p['title_problems'])})" if p["title_problems"] else ""),
                "- key phrases: "
                + ", ".join(p["key_phrases"])
                + (f" (problems: {'; '.join(p['phrase_problems'])})" if p["phrase_problems"] else "")
                + (
                    f" (by spaCy's tags: {'; '.join(p['not_noun_phrases'])})" if p["not_noun_phrases"] else ""
                ),
                "- description: " + p["description"].replace("\n", " / "),
            ]
        out.append("")
    c = report["counts"]
    out += ["### Counts", "", "| measure | value |", "|---|---|"]
    out += [f"| {k.replace('_', ' ')} | {v} |" for k, v in c.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--json", type=Path, help="write the full report as JSON")
    ap.add_argument("--markdown", type=Path, help="write the per-video tables as Markdown")
    ap.add_argument("--transcripts-cache", type=Path, help="reuse transcripts between runs (pickle)")
    args = ap.parse_args(argv)
    files = [f.resolve() for f in args.files] or DEFAULT_FILES
    report = run(files, args.transcripts_cache)
    text = markdown(report)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
