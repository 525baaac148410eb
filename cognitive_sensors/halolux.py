"""HaloLux: a readable account of why a clip exists, from the evidence the pipeline stored.

Pure functions over a plain bundle (what ``omniva_resources.insights.load_bundle`` reads from the
warehouse): the moment and its words, every agent's vote and reason, the dissent, what
autocut removed, the title, and the schedule slot with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omniva.records import Candidate, Selection


def _fmt_s(x: float | str | None) -> str:
    return f"{float(x):.1f}s" if x is not None else "?"


def explain_markdown(b: dict[str, Any]) -> str:
    clip, cand = b["clip"], b.get("candidate") or {}
    lines = [
        f"## Clip {clip['rank']} of `{clip['video_key']}`",
        "",
        f"**The moment:** {_fmt_s(clip['start_time'])}–{_fmt_s(clip['end_time'])} of "
        f"“{b['source'].get('title') or clip['video_key']}” by **{b['source'].get('creator', '?')}** "
        f"({b['source'].get('source_url', '?')}).",
        "",
        f"> {cand.get('text', '').strip()}",
        "",
        f"**Why this one:** Pantheon consensus {clip.get('confidence') or 0:.2f} "
        f"(candidate score {cand.get('score', 0):.2f}); it ranked {clip['rank']} of "
        f"{b.get('candidate_count', '?')} candidates.",
    ]
    features = cand.get("features") or {}
    if features:
        cal = features.get("calibrated") or {}
        judged = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in sorted(cal.items()))
        lines.append(
            f"Features: {features.get('duration_s', '?')} s, {features.get('words_per_s', '?')} words/s, "
            f"{float(features.get('silence_ratio', 0)):.0%} silence, hook cues: "
            f"{', '.join(features.get('hook_cues') or ()) or 'none'}, ends on a full sentence: "
            f"{'yes' if features.get('ends_complete') else 'no'}."
            + (f" Within its video (percentile): {judged}." if judged else "")
        )
    lines += ["", "| agent | vote | score | reason |", "|---|---|---|---|"]
    lines += [
        f"| {v['agent']} | {v['vote']} | {v['score']:.2f} | {v['reason']} |" for v in b.get("votes", [])
    ]
    dissent = [v for v in b.get("votes", []) if v["vote"] != "yes"]
    lines += ["", "**Dissent:** " + ("; ".join(f"{v['agent']} — {v['reason']}" for v in dissent) or "none")]
    rejected = b.get("rejected_sample", [])
    if rejected:
        lines.append(
            "**Alternatives set aside:** "
            + "; ".join(
                f"{r['start_time']:.1f}–{r['end_time']:.1f}s ({r['rejected_because']})" for r in rejected
            )
        )
    cuts = b.get("cuts", [])
    lines += [
        "",
        "**What autocut removed:** "
        + (
            "; ".join(f"{c['start']:.2f}–{c['end']:.2f}s ({c.get('reason', 'cut')})" for c in cuts)
            or "nothing"
        ),
    ]
    render = b.get("render") or {}
    if render:
        lines.append(
            f"**Render:** {render.get('duration_seconds', 0):.1f} s, {render.get('resolution')}, "
            f"{render.get('encoder')}, {render.get('integrated_lufs', 0):.1f} LUFS, sha256 `{render.get('checksum', '')[:16]}…`"
        )
    copy = b.get("copy") or {}
    if copy:
        lines += ["", f"**Title:** {copy.get('title')}", f"**Tags:** {', '.join(copy.get('keywords') or [])}"]
    slot = b.get("schedule") or {}
    if slot:
        lines.append(
            f"**Scheduled:** {slot.get('final_scheduled_time')} on `{slot.get('channel')}` — {slot.get('reason')}"
        )
    upload = b.get("upload") or {}
    if upload:
        lines.append(
            f"**Upload:** YouTube id `{upload.get('yt_video_id')}`, {upload.get('privacy_status')}, "
            f"status {upload.get('status')}"
        )
    # Markdown joins consecutive lines into one paragraph: keep each statement apart.
    out: list[str] = []
    for line in lines:
        if line.startswith("**") and out and out[-1] != "":
            out.append("")
        out.append(line)
    return "\n".join(out)


JUDGED_COLUMNS = ("hook", "self_contained", "coherence", "relevance_goals", "delivery", "pace", "clarity")


def features_markdown(candidates: Sequence[Candidate]) -> str:
    """The best candidates' judged features (percentile within the video) as a table."""
    if not candidates:
        return "no candidates"
    head = "| span | score | " + " | ".join(c.replace("_", " ") for c in JUDGED_COLUMNS) + " |"
    rows = [head, "|" + "---|" * (len(JUDGED_COLUMNS) + 2)]
    for c in candidates:
        cal = c.features.get("calibrated") or {}
        cells = " | ".join(f"{cal[k]:.2f}" if k in cal else "–" for k in JUDGED_COLUMNS)
        rows.append(f"| {c.start_time:.1f}–{c.end_time:.1f}s | {c.score:.2f} | {cells} |")
    return "\n".join(rows)


def selection_markdown(selection: Selection, candidates: int, stats: dict[str, Any] | None = None) -> str:
    """Pantheon's choice for one video: each clip with every agent's vote and reason, who
    dissented and why, and how each agent voted over all the candidates."""
    lines = [
        f"**{len(selection.clips)} clip(s)** chosen from {candidates} candidates "
        f"by {', '.join(selection.agents)} (quorum {selection.quorum:.0%})."
    ]
    if stats:
        council = stats.get("_council", {})
        lines.append(f"\nThe agents disagreed on {council.get('disagreed', 0):.0%} of the candidates.\n")
        lines += ["| agent | yes share | min | median | max |", "|---|---|---|---|---|"]
        lines += [
            f"| {a} | {s['yes']:.0%} | {s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f} |"
            for a, s in stats.items()
            if not a.startswith("_")
        ]
    for c in selection.clips:
        lines.append(
            f"\n**Rank {c.rank}** {c.candidate.start_time:.1f}–{c.candidate.end_time:.1f}s, "
            f"consensus {c.consensus:.2f}: “{c.candidate.text[:120]}”"
        )
        lines += [f"- {v.agent}: **{v.vote}** ({v.score:.2f}) {v.reason}" for v in c.votes]
        lines.append("- dissent: " + ("; ".join(c.dissent) if c.dissent else "none"))
    return "\n".join(lines)


def explain_text(b: dict[str, Any]) -> str:
    """The same account for a terminal: Markdown markers dropped, tables as aligned rows."""
    out = []
    for line in explain_markdown(b).splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out.append(f"  {cells[0]:<11} {cells[1]:<5} {cells[2]:<6} {cells[3]}")
            continue
        out.append(
            line.replace("**", "").replace("`", "").lstrip("#").strip()
            if line.startswith("#")
            else line.replace("**", "").replace("`", "")
        )
    return "\n".join(out)
