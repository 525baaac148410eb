"""The Editor, one partition per (video, rank): the edit decision list, the render, and the
copy (title, description, tags)."""

import dataclasses
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import dagster as dg

from cognitive_sensors import chorus
from omniva import captions, contracts, copytext, editing, layout, timeline
from omniva.editing import AutocutRules
from omniva.records import (
    Analysis,
    Candidate,
    ClipCopy,
    EditDecisionList,
    Post,
    RankedClip,
    Selection,
    Transcript,
    Video,
    stable_id,
)
from omniva.settings import encoder_threads
from omniva_assets import stardust_meta as stardust
from omniva_assets.common import Lineage, launched_by_daemon, recorded, run_tag, with_user_errors
from omniva_assets.editor import checks
from omniva_assets.partitions import RECORDED_IN_METADATA, clip_partitions, split_clip_key
from omniva_resources import media, nlp, projects, scraper, shorts
from omniva_resources.resources import (
    ClipRules,
    CopyRules,
    HorizonGoals,
    MediaTools,
    NlpResource,
    OmnivaStore,
    RenderSettings,
)
from omniva_resources.warehouse import file_lock
from omniva_resources.youtube.branding import BrandingStore

# The renders' code version is "<this>-<the render settings' fingerprint>", and the uploads'
# carries the renders' (omniva_assets.definitions applies both when the definitions load).
RENDERS_CODE_VERSION = "4"  # 4: the audiogram for still pictures; 3: caption fonts by script


def _video_ins(*names: str) -> dict[str, dg.AssetIn]:
    """Inputs from the clip's video-level assets: the record IO manager loads the clip's video's
    partition (``omniva_assets.io_manager``); the edge maps no partitions in Dagster's terms."""
    return {name: dg.AssetIn(name, partition_mapping=RECORDED_IN_METADATA) for name in names}


def _loudnorm(spec: media.RenderSpec) -> dict:
    return {"target_lufs": spec.target_lufs, "true_peak_dbtp": spec.true_peak_dbtp}


def _recut(context: dg.AssetExecutionContext, store: OmnivaStore, chosen: RankedClip) -> RankedClip:
    """The selected clip with a person's re-cut applied (#28, the API's POST /v1/clips/{id}/recut):
    the same clip, its span moved on the source's timeline; the clip id stays (video and rank)."""
    recut = store.recut(str(context.partition_key))
    if recut is None:
        return chosen
    span = dataclasses.replace(
        chosen.candidate, start_time=float(recut["start_time"]), end_time=float(recut["end_time"])
    )
    context.log.info(
        f"{context.partition_key}: re-cut by {recut['author']} to {span.start_time:.2f}-{span.end_time:.2f}s"
    )
    return dataclasses.replace(chosen, candidate=span)


@dg.asset(
    partitions_def=clip_partitions,
    ins=_video_ins("videos", "transcripts", "analyses", "clip_selections"),
    group_name="clips",
    kinds={"python"},
    code_version="4",  # 4: fillers in the clip's language
    output_required=False,
)
@with_user_errors
def clips(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    render: RenderSettings,
    media_tools: MediaTools,
    videos: Video,
    transcripts: Transcript,
    analyses: Analysis,
    clip_selections: Selection,
) -> Iterator[dg.Output]:
    """The edit decision list of the clip Pantheon ranked here: kept and removed spans, with
    reasons (silences, filler words, filled pauses), exported as an OpenTimelineIO timeline.

    A rank Pantheon did not fill produces no output (downstream steps are skipped).
    """
    video_key, rank = split_clip_key(context.partition_key)
    chosen = next((c for c in clip_selections.clips if c.rank == rank), None)
    if chosen is None:
        context.log.info(
            f"{video_key}: Pantheon selected {len(clip_selections.clips)} clip(s); "
            f"rank {rank} does not exist, nothing to do"
        )
        return
    chosen = _recut(context, store, chosen)
    cand = chosen.candidate
    fps = float(videos.facts.get("fps") or render.fps)
    rules = AutocutRules(
        max_gap_s=clip_rules.silence_gap_s,
        frame_rate=fps,
        fillers=editing.fillers_for(analyses.language),
        language=analyses.language,
    )
    audio = media.decode_audio(
        Path(videos.file_path), 16000, cand.start_time, cand.end_time, media_tools.tools()
    )
    otio_path = store.layout.media / "edits" / video_key / f"rank-{rank}.otio"
    edl = editing.decision_list(
        chosen, videos.file_path, transcripts.words, analyses.silences, rules, audio, 16000, str(otio_path)
    )
    timeline.write_edl(edl, videos.duration_s)
    n_fill = sum(1 for r in edl.removed if "fill" in r[2])
    n_sil = sum(1 for r in edl.removed if "silence" in r[2])
    lineage = Lineage.of_video(
        videos,
        "clips",
        chosen.clip_id,
        inputs={"video": videos.sha256},
        params=edl.rules,
        decision=f"rank {rank}, consensus {chosen.consensus:.2f}; kept {len(edl.keep)} span(s), "
        f"cut {n_sil} silence(s) and {n_fill} filler(s): {edl.output_duration_s:.1f}s of "
        f"{cand.duration_s:.1f}s",
        contract=lambda trace, parents: contracts.edit_job(
            edl, edl.operations(_loudnorm(render.spec())), trace, parents
        ),
    )
    tables = {
        "clips": [chosen.row(str(context.partition_key))],
        "edit_jobs": [edl.edit_job_row(edl.operations(_loudnorm(render.spec())), stardust.now_iso())],
    }
    metadata = {
        "clip_id": chosen.clip_id,
        "source_span": f"{cand.start_time:.2f}–{cand.end_time:.2f}s",
        "output_duration_s": round(edl.output_duration_s, 2),
        "cuts": len(edl.removed),
        "fillers_cut": n_fill,
        "timeline": dg.MetadataValue.path(str(otio_path)),
        "edl": dg.MetadataValue.json({"keep": edl.keep, "removed": edl.removed}),
    }
    yield recorded(edl, lineage, tables, metadata)


@dg.asset(
    partitions_def=clip_partitions,
    ins=_video_ins("videos"),
    group_name="clips",
    kinds={"ffmpeg"},
    code_version=RENDERS_CODE_VERSION,
    pool="render",
    op_tags={"omniva/resource": "gpu-or-cpu"},
    check_specs=[checks.SHORTS_SPEC],
)
@with_user_errors
def renders(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    render: RenderSettings,
    media_tools: MediaTools,
    clips: EditDecisionList,
    videos: Video,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The Short (``shorts.render_short``): faces followed in a 9:16 crop (else the
    blurred-background layout), word-timed captions (burned in unless the ``render``
    resource's ``burn_captions`` is off, plus an SRT sidecar), two-pass loudness to -14 LUFS
    with true peak <= -1.5 dBTP, H.264 High + AAC 48 kHz, faststart, at most 60 MB."""
    spec, tools = render.spec(), ffmpeg_for_run(context, media_tools)
    out = store.layout.media / "renders" / clips.video_key / f"rank-{clips.rank}.mp4"
    short, logo = _short(store, videos, clips, render, spec, tools, out)
    style = short.style
    r = short.render
    reframe = {k: v for k, v in r.reframe.items() if k != "keyframes"}
    lineage = Lineage.of_video(
        videos,
        "edit_jobs",
        stable_id("edit", clips.clip_id),
        inputs={"video": videos.sha256},
        outputs={out.name: r.sha256},
        tools=shorts.render_tools(r.encoder, tools),
        params={
            **asdict(spec),
            "keep": clips.keep,
            "crossfade_s": clips.crossfade_s,
            "reframe": reframe,
            "captions": asdict(style) | {"burned": r.captions_burned},
            # the project's logo over the picture (#29), exactly the file the render read
            "watermark": {"logo": logo.name, "sha256": media.sha256_file(logo)} if logo else None,
        },
        decision=f"layout {r.layout}: {short.reason}; {r.integrated_lufs:.1f} LUFS, {r.true_peak_dbtp:.1f} dBTP"
        + (f"; {'; '.join(r.loudness_corrections)}" if r.loudness_corrections else ""),
    )
    captions_op = {"op": "captions", "burned": r.captions_burned, "srt": r.srt_path, "style": asdict(style)}
    ops = clips.operations(_loudnorm(spec), r.layout, [captions_op])
    lineage = dataclasses.replace(
        lineage, contract=lambda trace, parents: contracts.edit_job(clips, ops, trace, parents, render=r)
    )
    job = clips.edit_job_row(
        ops,
        stardust.now_iso(),
        status="DONE",
        ffmpeg_commands=r.ffmpeg_commands,
        gpu_required=r.encoder != "libx264",
    )
    metadata = {
        "file": dg.MetadataValue.path(r.path),
        "sha256": r.sha256,
        "bytes": r.size_bytes,
        "duration_s": r.duration_s,
        "integrated_lufs": r.integrated_lufs,
        "true_peak_dbtp": r.true_peak_dbtp,
        "encoder": r.encoder,
        "layout": r.layout,
        "layout_reason": short.reason,
        "reframe": dg.MetadataValue.json(reframe),
        "captions": dg.MetadataValue.path(r.srt_path) if r.srt_path else "none",
        "thumbnail": dg.MetadataValue.path(r.thumbnail_path),
    }
    tables = {"renders": [r.row(stardust.now_iso())], "edit_jobs": [job]}
    yield recorded(r, lineage, tables, metadata, dg.DataVersion(r.sha256))
    yield checks.shorts_spec(short, spec, clip_rules)


def ffmpeg_for_run(context: dg.AssetExecutionContext, media_tools: MediaTools) -> media.FFmpegTools:
    """The ffmpeg tools, with the encoder threads the launcher gave this run when it renders
    several clips side by side (run tag ``omniva/ffmpeg_threads``). A run the daemon launched
    has no such tag: clip runs there render side by side within the queue's limits, and the
    encoder gets its share of the cores among the clip runs going on when it starts."""
    tools = media_tools.tools()
    threads = run_tag(context, "omniva/ffmpeg_threads")
    if threads.isdigit():
        return dataclasses.replace(tools, threads=int(threads))
    if launched_by_daemon(context):
        running = context.instance.get_run_ids(
            dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED], tags={"omniva/stage": "clip"})
        )
        if len(running) > 1:
            return dataclasses.replace(tools, threads=encoder_threads(len(running)))
    return tools


def _short(
    store: OmnivaStore,
    videos: Video,
    clips: EditDecisionList,
    render: RenderSettings,
    spec: media.RenderSpec,
    tools: media.FFmpegTools,
    out: Path,
) -> tuple[shorts.ShortRender, Path | None]:
    """``shorts.render_short`` with the creator's caption style and forced layout, the post's
    title and source creator for an audiogram, and the project's logo watermark (returned too)."""
    post = _post_of(store, videos.video_key)
    own = projects.creator_settings(store.layout).get(videos.creator, {})
    logo = _watermark(store, videos.creator, own)
    short = shorts.render_short(
        clips,
        Path(videos.file_path),
        out,
        spec,
        captions.style_for(videos.creator, store.layout.home),
        render.burn_captions,
        tools,
        title=post.title if post else "",
        creator_name=(scraper.provenance(post).get("source_creator") if post else None) or videos.creator,
        creator_layout=layout.creator_layout(videos.creator, store.layout.home),
        # the creator's project may force one too, and lay its channel's logo over (#29)
        project_layout=own.get("render_layout") or "auto",
        watermark=logo,
    )
    return short, logo


def _watermark(store: OmnivaStore, creator: str, own: dict) -> Path | None:
    """The logo of the creator's project's channel when the project asks for a watermark."""
    owner = projects.project_of(creator, store.layout) if own.get("watermark") else None
    found = BrandingStore(store.layout.home).image(owner.channel, "logo") if owner else None
    return found[0] if found else None


def _post_of(store: OmnivaStore, video_key: str) -> Post | None:
    """The post the video came from (its title heads an audiogram), None when none was listed."""
    try:
        return store.find_post(video_key)
    except dg.Failure:
        return None


def source_rights(store: OmnivaStore, video_key: str) -> dict:
    """The source's rights and provenance (its creator, platform id, URL, licence) from the
    post the video came from; they travel into the upload's description credit."""
    try:
        return scraper.provenance(store.find_post(video_key))
    except dg.Failure:
        return {}


@dg.asset(
    partitions_def=clip_partitions,
    ins=_video_ins("videos", "analyses", "clip_selections"),
    group_name="clips",
    kinds={"python"},
    code_version="5",  # 5: key phrases by part of speech, titles that stand alone (#30)
    check_specs=[checks.TITLE_NOT_USED_ON_CHANNEL],
)
@with_user_errors
def clip_copy(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    horizon: HorizonGoals,
    copy_rules: CopyRules,
    nlp_model: NlpResource,
    clips: EditDecisionList,
    videos: Video,
    analyses: Analysis,
    clip_selections: Selection,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Chorus: a title from the clip's content (its key phrases and most title-like sentence,
    cleaned of fillers), a summary with the source credit and hashtags, and tags, in the clip's
    language and within YouTube's limits."""
    chosen = next(c for c in clip_selections.clips if c.rank == clips.rank)
    goals = horizon.goals_for(videos.creator, store.layout)  # the project's tone, if it has its own
    rights = source_rights(store, videos.video_key)
    text = clip_text(chosen.candidate, analyses, rights.get("title") or "", nlp_model.pipeline)
    # One title at a time: clips rendered side by side must not pick the same title.
    with file_lock(store.layout.home / ".chorus-titles.lock"):
        used = [r["title"] for r in store.warehouse.query_file("titles_of_other_clips", [clips.clip_id])]
        title, description, tag_list, author, phrases = chorus.compose(
            text,
            videos.creator,
            videos.source_url,
            nlp_model.embedder(),
            goals.tone,
            chorus.load_hook(copy_rules.hook or None),
            source_creator=rights.get("source_creator"),
            license=rights.get("license"),
            avoid=used,
        )
        copy = ClipCopy(clips.clip_id, title, description, tag_list, language=text.language)
        store.record("clip_copy", str(context.partition_key), [copy.row()])
    check = checks.title_not_used_on_channel(store, copy)
    lineage = Lineage.of_video(
        videos,
        "upload_jobs",
        stable_id("copy", clips.clip_id),
        params={"provenance": rights, "key_phrases": list(phrases), "language": text.language},
        decision=f"{author}, tone {goals.tone}, language {text.language}: title from the clip's key "
        f"phrases ({', '.join(phrases[:3])}) and its most title-like sentence; {len(copy.tags)} tags",
    )
    metadata = {
        "title": copy.title,
        "tags": ", ".join(copy.tags),
        "author": author,
        "key_phrases": ", ".join(phrases),
    }
    yield recorded(copy, lineage, None, metadata)  # its row was written under the lock
    yield check


def clip_text(candidate: Candidate, analysis: Analysis, video_title: str, pipeline: str) -> chorus.ClipText:
    """The clip's sentences (by the candidate's sentence indexes, else its text), language,
    named entities and the noun phrases spaCy's ``pipeline`` finds in them (none for a language
    it does not parse: Chorus's own rule then), as Chorus reads them."""
    first, last = candidate.features.get("first_sentence"), candidate.features.get("last_sentence")
    if first is not None and last is not None and last < len(analysis.sentences):
        sentences = tuple(s.text for s in analysis.sentences[first : last + 1])
    else:
        sentences = tuple(copytext.split_sentences(candidate.text, analysis.language))
    lowered = candidate.text.lower()
    entities = tuple(dict.fromkeys(e for e, _ in analysis.entities if e.lower() in lowered))
    phrases = nlp.noun_phrases(" ".join(sentences), analysis.language, pipeline)
    return chorus.ClipText(sentences, analysis.language, entities, video_title, phrases)
