"""Renders side by side share the cores: in `omniva run` (its worker processes) and under the
daemon (the clip runs going on at once)."""

from omniva.settings import encoder_threads, render_parallelism


def test_renders_at_once_get_their_share_of_the_cores():
    assert encoder_threads(1, cores=16) == 0  # alone: ffmpeg's default, every core
    assert encoder_threads(2, cores=16) == 8
    assert encoder_threads(3, cores=16) == 5
    assert encoder_threads(4, cores=2) == 1  # never zero threads for a render that shares


def test_omniva_run_configured_number_of_renders():
    assert render_parallelism("1")[1] == 0
    parallel, threads = render_parallelism("2")
    assert parallel == 2 and threads == encoder_threads(2)
