"""The labelled-set benchmark's measures (bench/labelled.py): a quote is located by its words in
an imperfect transcript, and the chance rate is what random clips of the same lengths get."""

import importlib.util
import random
from pathlib import Path

from omniva.records import Word

_spec = importlib.util.spec_from_file_location(
    "labelled", Path(__file__).resolve().parents[2] / "bench" / "labelled.py"
)
labelled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(labelled)


def _words(text: str, start: float = 0.0) -> list[Word]:
    return [Word(w, start + 0.5 * i, start + 0.5 * i + 0.4) for i, w in enumerate(text.split())]


def test_a_quote_is_found_despite_the_recogniser_s_small_differences():
    words = _words(
        "we observe today not a victory of party but a celebration of freedom and so my fellow "
        "americans ask not what your country can do for you ask what you can do for your country "
        "my fellow citizens of the world"
    )
    quote = "Ask not what your country can do for you — ask what you can do for your country."
    start, end, ratio = labelled.locate(quote, words)
    said = [w.word for w in words]
    assert start == words[said.index("ask")].start
    assert end == words[len(said) - 1 - said[::-1].index("country")].end  # the second "country"
    assert ratio >= 0.9
    assert labelled.locate("the only thing we have to fear is fear itself", words) is None


def test_chance_matches_random_placement():
    duration, span, lengths = 300.0, (100.0, 110.0), [30.0, 45.0, 20.0]
    rng = random.Random(7)
    trials, hits = 20000, 0
    for _ in range(trials):
        clips = [(s := rng.uniform(0, duration - length), s + length) for length in lengths]
        hits += any(labelled.contains(c, span, slack=0.0) for c in clips)
    assert abs(labelled.chance(span, lengths, duration) - hits / trials) < 0.01
    assert labelled.chance((0.0, 70.0), [60.0], 300.0) == 0.0  # longer than the clip: never
