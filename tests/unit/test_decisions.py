"""Lattice's clip priority and GPU lane, Zenith's ordering, refusals and quota: decisions that use
their inputs."""

from cognitive_sensors import lattice, zenith


def test_a_strong_clip_outranks_a_weak_one_and_the_reason_names_every_term():
    strong, why = lattice.clip_priority(0.9, 6.0, 0.0)
    weak, _ = lattice.clip_priority(0.3, 6.0, 0.0)
    assert 0.0 <= weak < strong <= 1.0
    assert why.startswith(f"priority {strong:.2f}: consensus 0.90")
    assert "posted 6 h ago" in why and "Horizon gap +0%" in why


def test_newer_posts_and_topics_horizon_is_short_of_come_first():
    assert lattice.clip_priority(0.6, 2.0, 0.0)[0] > lattice.clip_priority(0.6, 200.0, 0.0)[0]
    assert lattice.clip_priority(0.6, 24.0, 0.3)[0] > lattice.clip_priority(0.6, 24.0, -0.3)[0]
    # Freshness halves every three days; an unknown age is neutral.
    assert lattice.freshness(0) == 1.0 and abs(lattice.freshness(72) - 0.5) < 1e-9
    assert lattice.freshness(None) == 0.5
    assert "post age unknown" in lattice.clip_priority(0.6, None, 0.0)[1]


def test_engagement_takes_its_share_when_given_and_inputs_out_of_range_are_clamped():
    plain, _ = lattice.clip_priority(0.6, 24.0, 0.1)
    watched, why = lattice.clip_priority(0.6, 24.0, 0.1, engagement=1.0)
    ignored, _ = lattice.clip_priority(0.6, 24.0, 0.1, engagement=0.0)
    assert ignored < plain < watched and "engagement 1.00" in why
    assert lattice.clip_priority(1.7, -5.0, 3.0)[0] == 1.0
    assert lattice.clip_priority(-1.0, 10_000.0, -3.0)[0] == 0.0


def test_gpu_lane_only_for_a_gpu_encoder_render_or_gpu_transcription():
    assert lattice.gpu_lane("clip", encoder="h264_nvenc")
    assert not lattice.gpu_lane("clip", encoder="libx264")
    assert lattice.gpu_lane("video", asr_device="cuda") and lattice.gpu_lane("video", asr_device="cuda:1")
    assert not lattice.gpu_lane("video", asr_device="cpu")
    assert not lattice.gpu_lane("upload", encoder="h264_nvenc", asr_device="cuda")
    assert lattice.route("clip", 0.5, gpu=lattice.gpu_lane("clip", "h264_nvenc"))["omniva/lane"] == "gpu"
    # An upload never waits in the GPU lane, whatever a caller passes.
    assert lattice.route("upload", 0.5, gpu=True)["omniva/lane"] == "cpu"


def test_the_stronger_clip_is_requested_first_and_its_run_tagged_higher():
    priorities = {
        "1|v": lattice.clip_priority(0.3, 12.0, 0.0),
        "2|v": lattice.clip_priority(0.9, 12.0, 0.0),
    }
    decisions = zenith.decide_partitions(["1|v", "2|v"], priorities=priorities)
    assert [d.partition_key for d in decisions] == ["2|v", "1|v"]
    assert decisions[0].reason.startswith("new; priority 0.") and "consensus 0.90" in decisions[0].reason
    tags = {k: lattice.route("clip", zenith.priority_value(p)) for k, p in priorities.items()}
    assert int(tags["2|v"]["dagster/priority"]) > int(tags["1|v"]["dagster/priority"])


def test_equal_and_unlisted_priorities_keep_the_launchers_order():
    decisions = zenith.decide_partitions(["a", "b", "c", "d"], priorities={"c": 0.9, "a": 0.5, "d": 0.1})
    assert [d.partition_key for d in decisions] == ["c", "a", "b", "d"]
    assert decisions[1].reason == "new; priority 0.50"
    # Without priorities the order and the reason are what they always were.
    assert [(d.partition_key, d.reason) for d in zenith.decide_partitions(["b", "a"])] == [
        ("b", "new"),
        ("a", "new"),
    ]


def test_a_clip_pantheon_did_not_select_is_refused_with_the_ranks_it_did_select():
    selected = {"v": {2, 1}, "w": set()}
    decisions = zenith.decide_partitions(["1|v", "4|v", "1|w", "1|x", "posts|day"], selected=selected)
    assert [(d.partition_key, d.action, d.reason) for d in decisions] == [
        ("1|v", "request", "new"),
        ("4|v", "refuse", "not selected by Pantheon for v: it selected ranks 1, 2"),
        ("1|w", "refuse", "not selected by Pantheon for w: it selected no clips"),
        ("1|x", "defer", "Pantheon has not voted on x yet"),
        ("posts|day", "request", "new"),
    ]
    assert zenith.requested_keys(decisions) == ["1|v", "posts|day"]


def test_a_refusal_outranks_done_but_quarantine_outranks_a_refusal():
    decisions = zenith.decide_partitions(["3|v", "4|v"], {"3|v"}, {"4|v"}, selected={"v": [1]})
    assert [(d.action, d.reason) for d in decisions] == [
        ("refuse", "not selected by Pantheon for v: it selected ranks 1"),
        ("skip", zenith.QUARANTINED),
    ]


def test_requests_go_highest_priority_first_and_a_crisis_defers_everything():
    decisions = zenith.decide_partitions(
        ["a", "b", "c", "done"], {"done"}, priorities={"a": 0.2, "b": 0.9, "c": 0.5, "done": 1.0}
    )
    assert [(d.partition_key, d.action) for d in decisions] == [
        ("done", "skip"),
        ("b", "request"),
        ("c", "request"),
        ("a", "request"),
    ]
    crisis = zenith.decide_partitions(["a", "b"], crisis="upload_job: 3 of 4 runs failed")
    assert {(d.action, d.reason) for d in crisis} == {("defer", "upload_job: 3 of 4 runs failed")}
