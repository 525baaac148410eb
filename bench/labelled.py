"""Picks against highlights people chose: recall@3 on a labelled set, beside the chance rate.

    .venv/bin/python bench/labelled.py                       # bench/labelled/labels.yaml
    .venv/bin/python bench/labelled.py --json out.json --markdown table.md
    .venv/bin/python bench/labelled.py --labels my.yaml      # your own set, same format

Each recording in ``labels.yaml`` names its file (under ``bench/labelled/media``), its licence
and source, and its *labels*: the lines people chose, independently of Omniva (the most quoted
lines of a public address, as a cited source documents them), verbatim. A label is located in
the recording by its words: the window of the transcript's words that matches the quote best
(``locate``; reported, with its match ratio, so a reader can check it).

For every recording the same stages as the Dagster assets run (ASR, spaCy, silences, prosody,
the picture, the text model, candidates limited to 15-60 s, Pantheon with the default project's
goals); then:

- **recall@3**: a label is found when one of the three picks contains its whole span;
- **chance**: the probability that three clips of the picks' own lengths, placed uniformly at
  random in the recording, contain it (per label, ``1 - prod(1 - p_i)``);
- **rank**: the best rank, by consensus, of a candidate containing the label (how far down the
  council put it), and the number of candidates.

Recordings are split into ``tune`` (looked at while changing the judgement) and ``held_out``
(not looked at); both are reported, the held-out part on its own. Nothing in Omniva reads this
file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import pickle
import re
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cognitive_sensors.goals import load_goals, mix_gap  # noqa: E402
from cognitive_sensors.pantheon import council, deliberate, select_clips  # noqa: E402
from omniva.candidates import CandidateRules, extract_candidates  # noqa: E402
from omniva.records import Word  # noqa: E402
from omniva_resources import asr, judgement, media, textmodel  # noqa: E402

HERE = Path(__file__).resolve().parent / "labelled"
RULES = CandidateRules(min_s=15.0, max_s=60.0, target_s=35.0)


def _norm(token: str) -> str:
    return re.sub(r"[^\w]", "", token.lower().replace("’", "'"))


def tokens(text: str) -> list[str]:
    return [t for t in (_norm(w) for w in re.split(r"[\s\-–—]+", text)) if t]


def locate(quote: str, words: list[Word]) -> tuple[float, float, float] | None:
    """(start, end, match ratio) of the transcript window that matches ``quote`` best, or None
    when no window matches at least 60% of it."""
    q = tokens(quote)
    norm = [_norm(w.word) for w in words]
    if not q or not norm:
        return None
    best = (0.0, 0, 0)
    for i in range(len(norm)):
        if norm[i] not in q[:4] and best[0]:
            continue
        for length in (len(q) - 2, len(q), len(q) + 2):
            window = norm[i : i + max(1, length)]
            ratio = difflib.SequenceMatcher(None, q, window, autojunk=False).ratio()
            if ratio > best[0]:
                best = (ratio, i, i + len(window) - 1)
    ratio, i, j = best
    if ratio < 0.6:
        return None
    # trim the window to its first and last matching word
    while i < j and norm[i] not in q:
        i += 1
    while j > i and norm[j] not in q:
        j -= 1
    return words[i].start, words[j].end, round(ratio, 3)


def chance(span: tuple[float, float], lengths: list[float], duration: float) -> float:
    """Probability that clips of ``lengths`` placed uniformly at random contain ``span``."""
    a, b = span
    miss = 1.0
    for length in lengths:
        room = duration - length
        if room <= 0:
            p = 1.0 if length >= b - a else 0.0
        else:
            lo, hi = max(0.0, b - length), min(a, room)
            p = max(0.0, hi - lo) / room
        miss *= 1.0 - p
    return 1.0 - miss


def contains(clip: tuple[float, float], span: tuple[float, float], slack: float = 0.25) -> bool:
    return clip[0] <= span[0] + slack and clip[1] >= span[1] - slack


def evaluate(entry: dict, media_dir: Path, model, goals, exemplars, cache: dict) -> dict:
    path = media_dir / entry["file"]
    started = time.perf_counter()
    key = entry["file"]
    if key not in cache:
        settings = asr.AsrSettings(language=entry.get("language"))
        cache[key] = asr.transcribe(path, settings, media.DEFAULT_TOOLS)
    transcript = cache[key]
    analysis = judgement.understand(path, path.stem, transcript, goals, model, exemplars)
    ctx = judgement.video_context(analysis, goals, model, exemplars)
    duration = media.probe(path).duration_s or transcript.duration_s
    cands = extract_candidates(
        path.stem,
        analysis.sentences,
        transcript.words,
        analysis.silences,
        analysis.keywords,
        duration,
        RULES,
        ctx,
    )
    cfg, agents = council(goals, mix_gap(goals, {}), 3)
    sel = select_clips(path.stem, cands, cfg, agents)
    picks = [(c.candidate.start_time, c.candidate.end_time) for c in sel.clips]
    by_consensus = sorted(cands, key=lambda c: -deliberate(c, agents, cfg)[1])
    labels = []
    for label in entry["labels"]:
        found = locate(label["quote"], list(transcript.words))
        row: dict = {"quote": label["quote"], "located": found}
        if found is not None:
            span = (found[0], found[1])
            row["hit"] = any(contains(p, span) for p in picks)
            row["chance"] = round(
                chance(span, [b - a for a, b in picks] or [RULES.target_s] * 3, duration), 4
            )
            ranks = [k + 1 for k, c in enumerate(by_consensus) if contains((c.start_time, c.end_time), span)]
            row["rank"] = ranks[0] if ranks else None
        labels.append(row)
    return {
        "file": entry["file"],
        "split": entry.get("split", "tune"),
        "language": transcript.language,
        "duration_s": round(duration, 1),
        "candidates": len(cands),
        "picks": [[round(a, 1), round(b, 1)] for a, b in picks],
        "pick_texts": [c.candidate.text[:160] for c in sel.clips],
        "labels": labels,
        "picture": analysis.picture.record() if analysis.picture else analysis.picture_note,
        "seconds": round(time.perf_counter() - started, 1),
    }


def summary(rows: list[dict], split: str | None = None) -> dict:
    chosen = [r for r in rows if split is None or r["split"] == split]
    labels = [lab for r in chosen for lab in r["labels"] if lab.get("located")]
    hits = sum(1 for lab in labels if lab["hit"])
    chance_mean = sum(lab["chance"] for lab in labels) / len(labels) if labels else 0.0
    ranks = [lab["rank"] for lab in labels if lab.get("rank")]
    return {
        "recordings": len(chosen),
        "labels": len(labels),
        "unlocated": sum(1 for r in chosen for lab in r["labels"] if not lab.get("located")),
        "recall_at_3": round(hits / len(labels), 3) if labels else None,
        "chance_at_3": round(chance_mean, 3),
        "ratio": round(hits / len(labels) / chance_mean, 2) if labels and chance_mean else None,
        "median_rank": sorted(ranks)[len(ranks) // 2] if ranks else None,
    }


def markdown(report: dict) -> str:
    out = [
        "| recording | split | lang | length | candidates | label | located (s) | rank | in a pick | chance |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["recordings"]:
        for lab in r["labels"]:
            loc = lab.get("located")
            where = f"{loc[0]:.1f}-{loc[1]:.1f} ({loc[2]:.2f})" if loc else "not found"
            out.append(
                f"| {r['file']} | {r['split']} | {r['language']} | {r['duration_s']:.0f}s | {r['candidates']} "
                f"| “{lab['quote'][:60]}” | {where} | {lab.get('rank', '-')} "
                f"| {'yes' if lab.get('hit') else 'no' if loc else '-'} | {lab.get('chance', 0):.2f} |"
            )
    out += [
        "",
        "| part | recordings | labels | recall@3 | chance@3 | ratio | median rank |",
        "|---|---|---|---|---|---|---|",
    ]
    for part, s in report["summary"].items():
        out.append(
            f"| {part} | {s['recordings']} | {s['labels']} | {s['recall_at_3']} | {s['chance_at_3']} "
            f"| {s['ratio']} | {s['median_rank']} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, default=HERE / "labels.yaml")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--transcripts-cache", type=Path, help="reuse transcripts between runs (pickle)")
    ap.add_argument("--only", nargs="*", help="only these files")
    args = ap.parse_args(argv)
    spec = yaml.safe_load(args.labels.read_text())
    media_dir = (args.labels.parent / spec.get("media", "media")).resolve()
    cache_file = args.transcripts_cache
    cache = pickle.loads(cache_file.read_bytes()) if cache_file and cache_file.is_file() else {}
    goals, exemplars, model = load_goals(), judgement.load_exemplars(), textmodel.load_text_model()
    rows = []
    for entry in spec["recordings"]:
        if args.only and entry["file"] not in args.only:
            continue
        rows.append(evaluate(entry, media_dir, model, goals, exemplars, cache))
        print(f"{entry['file']}: {rows[-1]['seconds']}s", file=sys.stderr)
        if cache_file:
            cache_file.write_bytes(pickle.dumps(cache))
    report = {
        "text_model": model.label,
        "rules": {"min_s": RULES.min_s, "max_s": RULES.max_s},
        "recordings": rows,
        "summary": {
            "all": summary(rows),
            "tune": summary(rows, "tune"),
            "held_out": summary(rows, "held_out"),
        },
    }
    text = markdown(report)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
