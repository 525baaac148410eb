"""Chorus: a Short's title, description and tags, written the way a person would write them.

* Key phrases (``keyphrases``): KeyBERT-style. Candidates are noun phrases and names: the ones a
  parser found (``ClipText.noun_phrases``), else the clip's entities and the 1-3 word n-grams
  ``copytext.phrase_ok`` accepts (nothing but a linking "of" inside, no stop word, pronoun or
  honorific at either end). They are embedded and ranked by cosine to the whole clip, then
  diversified with maximal marginal relevance, so "potential energy" and "kinetic energy" do
  not both crowd out "pendulum".
* Title (``make_title``): the clip's most title-like sentence: central to the clip by embedding,
  4-14 words, not a fragment ("which ...", "to ..."), a question preferred. It is cleaned of
  fillers and false starts and of a leading "And so," and used whole or cut at a clause, never
  in mid-phrase; it never ends on a function word or a comma, is not a subordinate clause cut
  from its main one, names something and, if it can, leans on no "it" it does not name. When no
  sentence will do, the clip's top key phrase is the title.
* Description (``make_description``): a one- or two-sentence extractive summary, the source
  credit, 3-5 hashtags from the key phrases and #Shorts.
* Tags (``make_tags``): key phrases and named entities; never the creator's handle, never
  "shorts".

YouTube rejects titles over 100 characters, descriptions over 5000 bytes, the characters
``<`` and ``>`` in either, and tag lists over 500 characters in all (a tag with a space counts
its quotes). ``embed`` is any ``embed(texts) -> (n, d)`` array of L2-normalised rows
(multilingual-e5-small's passage embedding in production and tests).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omniva import copytext as ct

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
TAGS_MAX = 15
#: Omniva's limit on one tag (a person's copy edit is held to it too: the API's copy check).
TAG_MAX_CHARS = 30
TONES = ("plain", "energetic", "calm")
SHORTS = " #Shorts"
TITLE_SHOWN = 70  # a title aims at most this many characters shown ...
TITLE_WHOLE = 90  # ... but a whole sentence up to this is better than one cut mid-phrase
TITLE_FLOOR = 28  # ... and a clause cut keeps at least this many
SUMMARY_MAX = 300  # characters of summary in a description

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class ClipText:
    """What Chorus reads about one clip."""

    sentences: tuple[str, ...]  # the clip's sentences in order (ASR text, with fillers)
    language: str = "en"  # ISO 639-1 of the speech
    entities: tuple[str, ...] = ()  # named entities found in the clip
    video_title: str = ""  # the source video's title (context only, never copied whole)
    # Noun phrases and names a parser found in the clip (``omniva_resources.nlp.noun_phrases``);
    # empty: Chorus finds its candidates by the tokenizer-aware rule (``copytext.phrase_ok``).
    noun_phrases: tuple[str, ...] = ()

    @classmethod
    def from_text(
        cls,
        text: str,
        language: str = "en",
        entities: Sequence[str] = (),
        video_title: str = "",
        noun_phrases: Sequence[str] = (),
    ) -> ClipText:
        """A clip from its transcript text, split into sentences (``copytext.split_sentences``)."""
        sentences = tuple(ct.split_sentences(text, language))
        return cls(sentences, language, tuple(entities), video_title, tuple(noun_phrases))


class _Memo:
    """One embedding per distinct text within a compose call."""

    def __init__(self, embed: Embed) -> None:
        self.embed = embed
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            vectors = np.asarray(self.embed(missing), dtype=np.float32)
            self.cache.update(zip(missing, vectors, strict=True))
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)


def _memo(embed: Embed) -> _Memo:
    return embed if isinstance(embed, _Memo) else _Memo(embed)


def _strip_markup(text: str) -> str:
    return re.sub(r"\s+", " ", ct.strip_markup(text)).strip()


def _document(sentences: Sequence[str], language: str) -> str:
    return ct.clean(" ".join(sentences), language)


def keyphrases(
    text: str,
    embed: Embed,
    language: str = "en",
    top_n: int = 6,
    noun_phrases: Sequence[str] = (),
    entities: Sequence[str] = (),
) -> tuple[str, ...]:
    """The clip's key phrases as they appear in it (KeyBERT with maximal marginal relevance).

    Candidates: the ``noun_phrases`` a parser found (names and noun chunks), else the clip's
    named ``entities`` found in it and ``copytext.candidate_phrases`` (1-3 word noun-phrase-like n-grams by ``copytext.phrase_ok``:
    no stop word, pronoun or honorific at either end, no function word inside but "of"; for
    ja/zh runs between punctuation and particles or character n-grams, best effort). Every
    candidate passes ``phrase_ok``. Each is scored by cosine to the embedding of the whole
    (cleaned) text; MMR then picks ``top_n``, each next one trading relevance (0.6) against
    likeness to those picked (0.4).
    """
    memo = _memo(embed)
    document = ct.clean(text, language)
    parsed = [
        cleaned
        for p in noun_phrases
        if (cleaned := ct.join_subwords(p.strip(), language)) and ct.phrase_ok(cleaned, language, tagged=True)
    ]
    if not parsed:  # the rule's n-grams, with the clip's named entities (a parser found those)
        low = document.lower()
        names = [
            e for e in entities if e.strip() and e.lower() in low and ct.phrase_ok(e, language, tagged=True)
        ]
        parsed_rule = names + ct.candidate_phrases(document, language)
        candidates = list(dict.fromkeys(parsed_rule))
    else:
        candidates = list(dict.fromkeys(parsed))
    if not candidates:
        return ()
    doc = memo([document])[0]
    vectors = memo(candidates)
    relevance = vectors @ doc
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(top_n, len(candidates)):
        likeness = (vectors @ vectors[chosen].T).max(axis=1)
        mmr = 0.6 * relevance - 0.4 * likeness
        mmr[chosen] = -np.inf
        chosen.append(int(np.argmax(mmr)))
    picked: list[str] = []
    for i in chosen:  # a phrase inside one already picked adds nothing
        low = candidates[i].lower()
        if not any(low in p.lower() or p.lower() in low for p in picked):
            picked.append(candidates[i])
    return tuple(picked)


@dataclass(frozen=True, slots=True)
class _Option:
    text: str  # shown text, shortened, no ellipsis yet
    cut: str  # "", "clause", "phrase", "word"
    words: int
    content: int  # words that are not stop words
    penalty: float


def _title_option(sentence: str, clip: ClipText, phrases: Sequence[str]) -> _Option | None:
    lang = ct.base_language(clip.language)
    cleaned = ct.clean(sentence, lang, clip.entities)
    text = ct.strip_leading_connectives(cleaned, lang).rstrip(" .。")
    if not text:
        return None
    unspaced = ct.is_unspaced(text, lang)
    stop = ct.stopwords(lang)
    tokens = ct.words(text)
    n = max(1, len(text) // 2) if unspaced else len(tokens)
    content = n if unspaced else sum(1 for t in tokens if t.lower() not in stop)
    # Whole up to TITLE_WHOLE, else a clause up to that; longer than TITLE_SHOWN costs a little.
    shown, cut = ct.shorten(text, lang, TITLE_WHOLE, TITLE_FLOOR)
    if cut in ("word", "phrase"):
        shown, cut = ct.shorten(text, lang, TITLE_SHOWN, TITLE_FLOOR)
    # A clause that leans on what it does not name ("..., even heavier than this") gives way to
    # an earlier clause of the same sentence that does not ("You lift up a very heavy object").
    while cut == "clause" and ct.leans_on_context(shown, lang):
        shorter, how = ct.shorten(text, lang, ct.display_width(shown) - 1, TITLE_FLOOR)
        if how != "clause":
            break
        shown = shorter
    penalty = 0.002 * max(0, ct.display_width(shown) - TITLE_SHOWN)
    if n < 4:
        penalty += 0.03 * (4 - n)
    elif n > 14:
        penalty += min(0.06, 0.004 * (n - 14))
    if not unspaced and content < 2:  # "Three, two, one, zero", "Please be very quiet"
        penalty += 0.03
    if cut:  # a clause or phrase cut keeps whole phrases; a word cut is a last resort
        penalty += {"clause": 0.02, "phrase": 0.05}.get(cut, 0.2)
    if not unspaced and tokens and tokens[0].lower() in ct.FRAGMENT_STARTS.get(lang, frozenset()):
        penalty += 0.1
    raw_words = max(1, len(ct.words(sentence)))
    penalty += 0.1 * max(0, raw_words - len(ct.words(cleaned))) / raw_words  # filler-laden
    if text.endswith(("?", "？")):
        penalty -= 0.03
    low = shown.lower()
    penalty -= 0.01 * sum(1 for p in phrases[:3] if p.lower() in low)
    return _Option(shown, cut, n, content, penalty)


def _eligible(option: _Option, clip: ClipText) -> bool:
    """A title that stands alone: not the video's own title, long enough, cut (if at all) only at
    a clause and not to a lone subordinate clause ("When you've got ... ," without its main
    clause) and naming something. Whether it leans on what it does not name ("... the front of
    it") is ``_leans``: such a title comes after the clip's key phrase of several words."""
    lang = ct.base_language(clip.language)
    if clip.video_title and option.text.lower() == _strip_markup(clip.video_title).lower().rstrip("."):
        return False
    if not (option.words >= 4 or (option.content >= 1 and (option.words >= 3 or option.content >= 2))):
        return False
    if ct.is_unspaced(option.text, lang):
        return True
    if option.cut in ("word", "phrase"):  # an ellipsis in mid-phrase
        return False
    if not option.text.endswith(("?", "!")) and ct.ends_badly(option.text, lang):  # "... we trust in"
        return False
    if option.cut and ct.first_word(option.text) in ct.SUBORDINATORS.get(lang, ()):
        return False
    return ct.names_something(option.text, lang, (*clip.entities, *clip.noun_phrases))


def _leans(option: _Option, clip: ClipText) -> bool:
    return ct.leans_on_context(option.text, ct.base_language(clip.language))


def _ellipsis(text: str, cut: str, language: str) -> str:
    if not cut:
        return text
    first = ct.first_word(text)
    if cut in ("word", "phrase") or first in ct.SUBORDINATORS.get(ct.base_language(language), ()):
        return text.rstrip(" .,;:") + "…"
    return text


def _phrase_title(phrases: Sequence[str], language: str) -> str:
    """The clip's top key phrase (joining two reads as a list, not a title); among the top three
    the first of several words, which names more than a single word does."""
    if not phrases:
        return ""
    longer = [p for p in phrases[:3] if len(ct.words(p)) > 1 or ct.is_unspaced(p, language)]
    return ct.capitalise(longer[0] if longer else phrases[0])


def apply_tone(title: str, tone: str, language: str = "en") -> str:
    """The creator's voice on a finished title: ``energetic`` ends on '!' (not after a '?' or
    the cut-ellipsis), ``calm`` drops shouting (capitals, '!'). Within the limit."""
    if tone not in TONES:
        raise ValueError(f"unknown Chorus tone {tone!r}; use one of {', '.join(TONES)}")
    base = title.removesuffix(SHORTS).strip()
    if tone == "energetic":
        if not base.endswith(("?", "…", "!", "？", "！")):
            base = base.rstrip(" .。") + ("！" if ct.is_unspaced(base, language) else "!")
    elif tone == "calm":
        base = re.sub(r"[!！]+", "", base).strip()
        if base.isupper() and len(ct.words(base)) > 1:
            base = ct.capitalise(base.lower())
        base = re.sub(
            r"\b([^\W\d_])([^\W\d_]{4,})\b",
            lambda m: m.group(0) if not m.group(0).isupper() else m.group(1) + m.group(2).lower(),
            base,
        )
    return _fit_title(base, language) + SHORTS


def _fit_title(text: str, language: str) -> str:
    """Clean of markup, within the hard limit, and not ending mid-phrase."""
    text = _strip_markup(text).removesuffix("#Shorts").strip()
    room = TITLE_MAX - len(SHORTS)
    if len(text) <= room:
        return text
    shown, cut = ct.shorten(text, language, room - 1, TITLE_FLOOR)
    while len(shown) > room - 1:  # display width and len differ for CJK
        shown = shown[:-1]
    return _ellipsis(shown, cut or "word", language)


def _finish_title(text: str, cut: str, language: str, tone: str) -> str:
    lang = ct.base_language(language)
    text = _strip_markup(text)
    if ct.ends_badly(text.rstrip("…"), lang):
        trimmed = ct.trim_end(text.rstrip("…"), lang)
        if trimmed != text.rstrip("…"):
            text, cut = trimmed, cut or "word"
    text = _ellipsis(text.rstrip("。") if not cut else text, cut, lang)
    if not cut:
        text = text.rstrip(" .")
    return apply_tone(ct.capitalise(text), tone, lang)


def _same_title(a: str, b: str) -> bool:
    return _squashed(a) == _squashed(b)


def _squashed(text: str) -> str:
    """Lower case, runs of spaces as one, no leading or trailing space."""
    return re.sub(r"\s+", " ", text.strip().lower())


def make_title(
    clip: ClipText, phrases: Sequence[str], embed: Embed, tone: str = "plain", avoid: Sequence[str] = ()
) -> str:
    """The clip's most title-like sentence, cleaned and shortened, then " #Shorts" (see module).

    ``avoid``: titles already on the channel; the next best sentence, then the key phrases,
    then the text are tried before a title is told apart by its part number."""
    if tone not in TONES:
        raise ValueError(f"unknown Chorus tone {tone!r}; use one of {', '.join(TONES)}")
    memo = _memo(embed)
    lang = ct.base_language(clip.language)
    sentences = [s for raw in clip.sentences for s in ct.split_sentences(raw, lang)]
    options = [o for s in sentences if (o := _title_option(s, clip, phrases)) and _eligible(o, clip)]
    proposals: list[str] = []
    if options:
        doc = memo([_document(clip.sentences, lang)])[0]
        relevance = memo([o.text for o in options]) @ doc
        if clip.video_title:
            context = memo([_strip_markup(clip.video_title)])[0]
            relevance = relevance + 0.1 * (memo([o.text for o in options]) @ context)
        scores = relevance - np.array([o.penalty for o in options])
        ranked = [options[int(k)] for k in np.argsort(-scores, kind="stable")]
        ranked = [o for o in ranked if o.cut != "word" or not phrases]
    else:
        ranked = []
    # A sentence that stands alone; else the clip's key phrase of several words (a name, a noun
    # phrase); else a sentence that leans on an "it" it does not name; else a one-word phrase.
    built = _phrase_title(phrases, lang)
    phrase_title = (
        _finish_title(*ct.shorten(built, lang, TITLE_SHOWN, TITLE_FLOOR), lang, tone) if built else ""
    )
    several = bool(built) and (len(ct.words(built)) > 1 or ct.is_unspaced(built, lang))
    proposals += [_finish_title(o.text, o.cut, lang, tone) for o in ranked if not _leans(o, clip)]
    if several:
        proposals.append(phrase_title)
    proposals += [_finish_title(o.text, o.cut, lang, tone) for o in ranked if _leans(o, clip)]
    if phrase_title and not several:
        proposals.append(phrase_title)
    # No key phrase either: the text itself, whole or to a clause when it can be, cut mid-phrase
    # only when it is one enormous clause.
    fallback = ct.clean(" ".join(clip.sentences), lang, clip.entities)
    fallback = ct.strip_leading_connectives(fallback, lang).rstrip(" .。") or "Clip"
    shown, cut = ct.shorten(fallback, lang, TITLE_MAX - len(SHORTS) - 1, TITLE_FLOOR)
    if cut in ("word", "phrase"):
        shown, cut = ct.shorten(fallback, lang, TITLE_SHOWN, TITLE_FLOOR)
    proposals.append(_finish_title(shown, cut, lang, tone))
    for title in proposals:
        if not any(_same_title(title, used) for used in avoid):
            return title
    first = proposals[0]
    for n in range(2, 100):
        numbered = _numbered(first, n)
        if not any(_same_title(numbered, used) for used in avoid):
            return numbered
    return first


def _numbered(title: str, n: int) -> str:
    """``title`` told apart by a part number, before its #Shorts tag."""
    head, tag = (title[: -len(" #Shorts")], " #Shorts") if title.endswith(" #Shorts") else (title, "")
    return f"{head} ({n}){tag}"


def make_credit(
    creator: str, source_url: str, source_creator: str | None = None, license: str | None = None
) -> str:
    """Who made the original, where it is, and the licence or usage note the platform gave."""
    who = (
        creator
        if not source_creator or source_creator == creator
        else f"{_strip_markup(source_creator)} ({creator})"
    )
    credit = f"Clip from {who}: {source_url}"
    if license:
        credit += f"\nLicence: {_strip_markup(license)}"
    return credit


def hashtags(phrases: Sequence[str], most: int = 5) -> tuple[str, ...]:
    """Up to ``most`` hashtags (``#PendulumEnergy``; CJK kept) from the phrases, #Shorts apart."""
    tags: list[str] = []
    for phrase in phrases:
        tag = ct.hashtag(phrase)
        if len(tag) > 25:  # a hashtag people read at a glance
            continue
        if tag and tag.lower() not in {t.lower() for t in tags} and tag.lower() != "#shorts":
            tags.append(tag)
        if len(tags) == most:
            break
    return tuple(tags)


def _summary(clip: ClipText, embed: Embed) -> str:
    """One or two of the clip's most central sentences, cleaned, in the clip's order."""
    memo = _memo(embed)
    lang = ct.base_language(clip.language)
    sentences = [s for raw in clip.sentences for s in ct.split_sentences(raw, lang)]
    cleaned = [ct.strip_leading_connectives(ct.clean(s, lang, clip.entities), lang) for s in sentences]
    stop = ct.stopwords(lang)
    usable = [
        i
        for i, c in enumerate(cleaned)
        if c and (ct.is_unspaced(c, lang) or sum(w.lower() not in stop for w in ct.words(c)) >= 1)
    ]
    if not usable:
        return ""
    doc = memo([_document(clip.sentences, lang)])[0]
    relevance = memo([cleaned[i] for i in usable]) @ doc
    order = [usable[int(j)] for j in np.argsort(-relevance)]
    picked = [order[0]]
    if len(order) > 1 and len(cleaned[order[0]]) + len(cleaned[order[1]]) < SUMMARY_MAX:
        picked.append(order[1])
    parts = []
    for i in sorted(picked):
        text = cleaned[i]
        if len(text) > SUMMARY_MAX:
            text, _ = ct.shorten(text, lang, SUMMARY_MAX - 1, SUMMARY_MAX // 2)
            text += "…"
        elif not text.endswith((".", "!", "?", "…", "。", "！", "？")):
            text += "。" if ct.is_unspaced(text, lang) else "."
        parts.append(text)
    return ("" if ct.is_unspaced(parts[0], lang) else " ").join(parts)


def _assemble_description(summary: str, credit: str, phrases: Sequence[str]) -> str:
    tags = " ".join((*hashtags(phrases), "#Shorts"))
    summary = _strip_markup(summary)
    credit = credit.replace("<", "").replace(">", "")
    room = DESCRIPTION_MAX_BYTES - len(f"\n\n{credit}\n\n{tags}".encode())
    if len(summary.encode()) > room:
        summary = summary.encode()[: max(0, room - 3)].decode(errors="ignore").rstrip() + "…"
    description = "\n\n".join(p for p in (summary, credit, tags) if p)
    encoded = description.encode()
    if len(encoded) > DESCRIPTION_MAX_BYTES:  # an enormous credit
        description = encoded[: DESCRIPTION_MAX_BYTES - 3].decode(errors="ignore") + "…"
    return description


def make_description(clip: ClipText, phrases: Sequence[str], embed: Embed, credit: str) -> str:
    """Summary, blank line, the credit, blank line, 3-5 hashtags and #Shorts (<= 5000 bytes)."""
    return _assemble_description(_summary(clip, embed), credit, phrases)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def make_tags(phrases: Sequence[str], entities: Sequence[str], creator: str) -> tuple[str, ...]:
    """Key phrases then entities, deduplicated; never the creator or "shorts"; at most 15 tags
    of up to 30 characters and 500 in all, a tag with a space counting its quotes, commas
    between tags."""
    handle = _norm(creator)
    banned = {"shorts", "short", "youtubeshorts", "shortsvideo", handle}
    tags: list[str] = []
    seen: set[str] = set()
    total = 0
    cased = {_norm(e): e for e in entities}  # a phrase that names an entity keeps its capitals
    candidates = [cased.get(_norm(p), p.lower()) for p in phrases] + list(entities)
    for raw in candidates:
        tag = re.sub(r"\s+", " ", re.sub(r"[<>,#\"]", " ", raw)).strip()
        key = _norm(tag)
        if not key or key in seen or key in banned or len(tag) > TAG_MAX_CHARS:
            continue
        if handle and len(handle) >= 3 and handle in key:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
        if total + cost > TAGS_MAX_CHARS or len(tags) >= TAGS_MAX:
            continue
        tags.append(tag)
        seen.add(key)
        total += cost
    return tuple(tags)


def load_hook(spec: str | None) -> Callable[..., Any] | None:
    """An optional ``module:function`` (e.g. a language model wrapper) that proposes copy.

    It is called as ``hook(text=..., keywords=..., creator=..., tone=...)`` and returns a dict
    with any of ``title``, ``description``, ``tags``; Chorus cleans its proposals like its own
    copy and still enforces YouTube's limits.
    """
    if not spec:
        return None
    module, _, name = spec.partition(":")
    hook: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return hook


def compose(
    clip: ClipText,
    creator: str,
    source_url: str,
    embed: Embed,
    tone: str = "plain",
    hook: Callable[..., Any] | None = None,
    source_creator: str | None = None,
    license: str | None = None,
    avoid: Sequence[str] = (),
) -> tuple[str, str, tuple[str, ...], str, tuple[str, ...]]:
    """(title, description, tags, who wrote it, key phrases): Chorus's own copy, or the hook's
    proposals passed through the same cleaning and limits. The source credit (creator, URL,
    licence) is always Chorus's own, never the hook's."""
    if tone not in TONES:
        raise ValueError(f"unknown Chorus tone {tone!r}; use one of {', '.join(TONES)}")
    memo = _memo(embed)
    lang = ct.base_language(clip.language)
    text = " ".join(clip.sentences)
    phrases = keyphrases(text, memo, lang, noun_phrases=clip.noun_phrases, entities=clip.entities)
    credit = make_credit(creator, source_url, source_creator, license)
    title = make_title(clip, phrases, memo, tone, avoid)
    description = make_description(clip, phrases, memo, credit)
    tags = make_tags(phrases, clip.entities, creator)
    author = "chorus (deterministic)"
    if hook is not None:
        proposal = hook(text=text, keywords=list(phrases), creator=creator, tone=tone) or {}
        if proposal.get("title"):
            proposed = ct.clean(str(proposal["title"]).removesuffix("#Shorts"), lang, clip.entities)
            proposed = ct.strip_leading_connectives(proposed, lang)
            if proposed:
                shown, cut = ct.shorten(proposed, lang, TITLE_SHOWN, TITLE_FLOOR)
                hooked = _finish_title(shown, cut, lang, tone)
                title = title if any(_same_title(hooked, used) for used in avoid) else hooked
        if proposal.get("description"):
            kept = [  # Chorus's copy never carries internal reasons, the hook's neither
                s
                for s in ct.split_sentences(str(proposal["description"]), lang)
                if not re.match(r"(?i)\s*(picked|chosen|selected) by\b", s)
            ]
            summary = ct.clean(" ".join(kept), lang, clip.entities)
            description = _assemble_description(summary, credit, phrases)
        if proposal.get("tags"):
            tags = make_tags([str(t) for t in proposal["tags"]], clip.entities, creator)
        author = "chorus hook"
    return title, description, tags, author, phrases
