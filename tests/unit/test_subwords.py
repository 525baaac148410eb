"""The recogniser's pieces of one word are joined into that word ("cold" + "-hearted"), in the
words, the transcript text and every text made from them, in every language."""

from __future__ import annotations

import re

import pytest

from omniva import copytext as ct

# Pieces as faster-whisper gives them: a new word starts with a space; "-" and "'" are Whisper's
# prepended punctuation, so they travel with the piece after them, without a space.
PIECES = [" She", " was", " cold", "-hearted", " and", " ill", "-disposed", ",", " all", " self", "-love", "."]  # fmt: skip


def _joined(pieces: list[str], language: str = "en", starts: tuple[int, ...] = (0,)) -> list[str]:
    return ["".join(pieces[i] for i in g).strip() for g in ct.word_groups(pieces, language, starts)]


def test_a_piece_starting_with_a_hyphen_or_apostrophe_belongs_to_the_word_before():
    assert _joined(PIECES) == ["She", "was", "cold-hearted", "and", "ill-disposed,", "all", "self-love."]
    assert _joined([" John", "'s", " car"]) == ["John's", "car"]
    assert _joined([" Il", " a", " vu", " l", "'homme"], "fr") == ["Il", "a", "vu", "l'homme"]


def test_a_segment_may_start_without_its_space_and_is_still_a_new_word():
    pieces = [" the", " end", ".", "Then", " more", "-or", "-less", " again"]
    assert _joined(pieces, starts=(0, 3)) == ["the", "end.", "Then", "more-or-less", "again"]


@pytest.mark.parametrize("language", ["ja", "zh", "yue"])
def test_languages_without_spaces_keep_every_piece_a_word(language):
    pieces = ["日本", "語", "-", "です"]
    assert len(ct.word_groups(pieces, language, (0,))) == 4


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("a cold -hearted man", "en", "a cold-hearted man"),
        ("his self -love and bud -barreest", "en", "his self-love and bud-barreest"),
        ("John 's car, we 're here, do n't", "en", "John's car, we're here, don't"),
        ("word - word", "en", "word - word"),  # a dash between spaces is punctuation
        ("he said 'hello' to me", "en", "he said 'hello' to me"),  # a quotation stays apart
        ("il a vu l 'homme d 'accord qu 'il", "fr", "il a vu l'homme d'accord qu'il"),
        ("dell 'anno", "it", "dell'anno"),
        ("ein Kosten -Nutzen -Vergleich", "de", "ein Kosten-Nutzen-Vergleich"),
    ],
)
def test_text_with_split_words_is_joined(text, language, expected):
    assert ct.join_subwords(text, language) == expected


def test_titles_and_descriptions_never_keep_a_split_word():
    cleaned = ct.clean("um, she was so cold -hearted and ill -disposed, self -love.", "en")
    assert cleaned == "She was so cold-hearted and ill-disposed, self-love."
    assert not re.search(r"[^\W_]\s[-'’][^\W_]", cleaned)


def test_an_honorifics_abbreviation_ends_no_sentence():
    from omniva.records import Transcript, Word
    from omniva_resources import nlp

    assert ct.split_sentences("But Mrs. John Dashwood was there. Mr. Smith said so.") == [
        "But Mrs. John Dashwood was there.",
        "Mr. Smith said so.",
    ]
    said = "But Mrs. John Dashwood was not pleased at all. She said so to Mr. Smith at once."
    words = tuple(Word(w, i * 0.4, i * 0.4 + 0.3, 0.9) for i, w in enumerate(said.split()))
    transcript = Transcript("en", "test", said, words, 10.0, "faster-whisper", "faster-whisper")
    sentences, _, _ = nlp.analyze_by_punctuation(transcript)
    assert [s.text for s in sentences] == [
        "But Mrs. John Dashwood was not pleased at all.",
        "She said so to Mr. Smith at once.",
    ]
