"""Pure text helpers for written copy (titles, descriptions, tags) made from speech.

ASR text is speech written down: hesitations ("um", "äh", "えー"), discourse fillers
("you know,", "o sea", "就是"), false starts ("I- I", "the the") and no punctuation at all in
some transcripts. This module turns such text into something a person would write, per
language, and shortens it without leaving a title hanging on "to", "of the" or a comma.

* ``FILLERS[lang]``: every filler Chorus removes. The *hesitations* among them
  (``HESITATIONS[lang]``: "um", "äh", "えっと") are removed anywhere; the others are real words
  too ("like", "also", "tipo") and are removed only where speech uses them as fillers: set off
  by a comma, or at the start of a sentence for the ones in ``LEADING_FILLERS``.
* ``FUNCTION_WORDS[lang]``: articles, prepositions, conjunctions, auxiliaries and subject
  pronouns: a title never ends on one. ``stopwords(lang)`` adds spaCy's stop-word list for the
  language (its language data only, no model) when spaCy is installed.
* Languages written without spaces (ja, zh): phrases are runs between punctuation and
  particles (ja) or character n-grams of long runs (zh); see ``candidate_phrases``.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

# Hesitations: sounds, not words. Removed wherever they occur.
HESITATIONS: dict[str, tuple[str, ...]] = {
    "en": ("um", "umm", "uh", "uhh", "uhm", "erm", "er", "hmm", "mm", "yknow", "y'know", "y’know"),
    "es": ("eh", "em", "mmm", "ehm"),
    "fr": ("euh", "heu", "hum", "bah"),
    "de": ("äh", "ähm", "öh", "hm", "ähh"),
    "pt": ("éé", "é é", "hum", "ãh", "ahn"),
    "it": ("ehm", "eh", "uhm", "mmh"),
    "ja": ("えー", "ええと", "えっと", "えーと", "あのー", "うーん", "まあ"),
    "zh": ("嗯", "呃", "额", "啊"),
}


# Discourse fillers that are also ordinary words: removed only when set off by a comma
# (or at a sentence's start, see LEADING_FILLERS).
_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("you know", "i mean", "like", "kind of", "sort of", "basically"),
    "es": ("este", "o sea", "pues", "bueno", "digamos"),
    "fr": ("ben", "genre", "en fait", "tu vois", "quoi"),
    "de": ("also", "halt", "sozusagen", "na ja", "weißt du"),
    "pt": ("tipo", "né", "assim", "então", "sabe"),
    "it": ("cioè", "tipo", "allora", "insomma", "diciamo"),
    "ja": ("あの", "その", "なんか"),
    "zh": ("那个", "就是", "这个", "然后"),
}
FILLERS: dict[str, tuple[str, ...]] = {
    lang: HESITATIONS[lang] + _MARKERS.get(lang, ()) for lang in HESITATIONS
}
# Fillers removed at the start of a sentence even without a comma after them.
LEADING_FILLERS: dict[str, tuple[str, ...]] = {
    "en": ("you know", "i mean"),
    "es": ("este", "o sea", "pues"),
    "fr": ("ben", "bah", "en fait"),
    "de": ("also", "na ja"),
    "pt": ("tipo", "então"),
    "it": ("cioè", "allora", "insomma"),
    "ja": ("あの", "なんか"),
    "zh": ("那个", "就是", "然后"),
}
# Words that join a sentence to the one before it; a title does not start on one.
CONNECTIVES: dict[str, tuple[str, ...]] = {
    "en": (
        "and", "but", "so", "or", "then", "also", "now", "well", "okay", "ok", "oh", "yeah",
        "yes", "right", "anyway", "plus", "actually", "because", "though",
    ),
    "es": ("y", "pero", "entonces", "bueno", "pues", "así que", "o", "además", "vale"),
    "fr": ("et", "mais", "donc", "alors", "bon", "puis", "ou", "enfin", "voilà"),
    "de": ("und", "aber", "dann", "na", "ja", "so", "oder", "also", "nun", "tja"),
    "pt": ("e", "mas", "então", "bom", "aí", "ou", "tá", "pois"),
    "it": ("e", "ma", "quindi", "allora", "poi", "beh", "o", "dunque", "ecco"),
    "ja": ("でも", "それで", "だから", "そして", "で", "じゃあ"),
    "zh": ("然后", "所以", "但是", "而且", "那么", "可是", "那"),
}  # fmt: skip
# Subordinators: a clause that starts on one is incomplete without the rest of its sentence.
SUBORDINATORS: dict[str, tuple[str, ...]] = {
    "en": ("if", "when", "because", "although", "though", "while", "since", "unless", "as",
           "whether", "whenever", "after", "before", "until", "once"),
    "es": ("si", "cuando", "porque", "aunque", "mientras", "como"),
    "fr": ("si", "quand", "parce", "lorsque", "bien", "puisque", "comme"),
    "de": ("wenn", "weil", "obwohl", "als", "während", "falls", "ob", "dass"),
    "pt": ("se", "quando", "porque", "embora", "enquanto", "como"),
    "it": ("se", "quando", "perché", "sebbene", "mentre", "come"),
}  # fmt: skip


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A title never ends on one of these (nor starts on the first group of FRAGMENT_STARTS).
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _wordset("""a an the and or but nor so yet for of to in on at by with from into onto about as
        than then that which who whom whose what when where while if because though although
        unless until since is am are was were be been being do does did have has had will would
        shall should can could may might must i we he she they my your his her its our their
        not no very just really also such any some each every over under
        between through after before like whether either neither both i'm i've i'd i'll you're
        we're they're he's she's it's that's there's what's don't doesn't didn't can't won't
        isn't aren't wasn't weren't let's gonna wanna gotta thy thou ye hath doth shalt wilt hast
        dost thine couldst wouldst shouldst canst mayst"""),
    "es": _wordset("""el la los las lo un una unos unas y e o u pero ni que de del a al en con por para sin
        sobre entre como cuando donde si porque aunque mi tu su sus mis tus nuestro nuestra es
        son fue era está están ha han he has se me te le les nos muy más ya"""),
    "fr": _wordset("""le la les l un une des du de d et ou mais donc car ni que qu qui à au aux en dans sur
        sous par pour avec sans chez comme quand si lorsque mon ma mes ton ta tes son sa ses notre
        votre leur leurs ce cet cette ces est sont a ont été je j tu il elle on nous vous ils elles
        ne n se s très plus"""),
    "de": _wordset("""der die das den dem des ein eine einen einem einer eines und oder aber denn sondern
        dass daß weil wenn als ob von vom zu zum zur mit nach bei beim aus an am auf in im ins für
        über unter vor durch um gegen ohne ist sind war waren hat haben wird werden ich du er sie
        es wir ihr mein meine dein sein seine unser sehr nicht kein keine"""),
    "pt": _wordset("""o a os as um uma uns umas e ou mas nem que de do da dos das em no na nos nas por pelo
        pela pelos pelas para com sem sobre entre como quando onde se porque meu minha seu sua
        seus suas é são foi era está estão tem muito mais ao aos à às eu ele ela nós eles elas
        num numa"""),
    "it": _wordset("""il lo la i gli le l un uno una un' e ed o ma né che di del dello della dei degli delle
        a al allo alla ai agli alle da dal dalla in nel nello nella nei con su sul sulla per tra
        fra come quando dove se perché mio mia suo sua è sono era ha hanno molto più io"""),
    # Particles and auxiliary endings: a title never ends on one.
    "ja": _wordset("の に を は が と で へ も や から まで より か ね よ って て し"),
    "zh": _wordset("的 了 和 与 在 是 就 也 都 把 被 对 从 向 给 跟 或 而"),
}
# A sentence that starts on one of these is a fragment of the one before it.
FRAGMENT_STARTS: dict[str, frozenset[str]] = {
    "en": _wordset("which who whom whose to of than that's thereby whereas"),
    "es": _wordset("que cual cuyo de"),
    "fr": _wordset("qui dont que de"),
    "de": _wordset("der die das welcher welche zu"),
    "pt": _wordset("que qual cujo de"),
    "it": _wordset("che cui di"),
}
# Interjections: never a key phrase on their own.
INTERJECTIONS: dict[str, frozenset[str]] = {
    "en": _wordset(
        "oh ah ahh aw yeah yep yup yes okay ok hey hi wow huh mhm alright whoa oops ha haha hah heh"
    ),
    "es": _wordset("sí vale oye ay ah eh ok"),
    "fr": _wordset("oui ouais bon ah oh ok hein"),
    "de": _wordset("ja jo ok okay naja ach oh ah"),
    "pt": _wordset("sim tá ok ah oh ai"),
    "it": _wordset("sì ok ah oh vabbè beh"),
}
# Honorifics: a name's title, never a key phrase alone nor its last word ("Mr", "Mr Dashwood" is).
HONORIFICS: dict[str, frozenset[str]] = {
    "en": _wordset("mr mrs ms miss mister dr sir madam madame st prof rev lord lady"),
    "es": _wordset("sr sra srta señor señora señorita don doña dr dra"),
    "fr": _wordset("m mme mlle monsieur madame mademoiselle dr"),
    "de": _wordset("herr frau fräulein dr prof"),
    "pt": _wordset("sr sra srta senhor senhora dona dr dra"),
    "it": _wordset("sig sig.ra signor signore signora signorina dott dottor dottore"),
}
# Pronouns of every case: never a key phrase, never its first or last word.
PRONOUNS: dict[str, frozenset[str]] = {
    "en": _wordset("""i me my mine myself you your yours yourself yourselves he him his himself she her
        hers herself it its itself we us our ours ourselves they them their theirs themselves this
        that these those thee thou thy thine ye one someone something anyone anything everyone
        everything nobody nothing who whom whose what which"""),
    "es": _wordset("yo me mí tú te ti él ella ello nosotros vosotros ellos ellas lo la le les se esto eso"),
    "fr": _wordset("je me moi tu te toi il elle on nous vous ils elles le la lui leur se soi ça cela ceci"),
    "de": _wordset("ich mich mir du dich dir er ihn ihm sie es wir uns ihr euch ihnen sich das dies"),
    "pt": _wordset("eu me mim tu te ti ele ela nós vós eles elas o a lhe lhes se isto isso aquilo"),
    "it": _wordset("io me mi tu te ti lui lei egli ella noi ci voi vi loro si questo quello ciò"),
}
# The one preposition a noun phrase may hold inside ("tillage of the land", "coup d'état"): any
# other function word inside a phrase makes it a clause piece ("air might bear", "began a ...").
LINKERS: dict[str, frozenset[str]] = {
    "en": _wordset("of"),
    "es": _wordset("de del"),
    "fr": _wordset("de du des d"),
    "de": _wordset("von vom"),
    "pt": _wordset("de do da dos das"),
    "it": _wordset("di del della dei degli delle"),
}
# English verb forms a phrase does not start or end on (the regular ones end in -ed; adverbs in -ly).
_EN_VERBS = _wordset("""began begun came went gone said made took taken got gotten gave given saw seen
    knew known thought told found left felt kept brought stood heard meant met ran paid sat spoke
    spoken lay led grew grown lost fell fallen sent built understood drew drawn broke broken spent
    rose risen drove driven bought wore worn chose chosen forgot forgotten became become held
    wrote written threw thrown caught taught sought fought won sang sung swam began shook
    says goes does makes takes gets gives comes knows thinks tells finds seems feels tries
    leaves calls wants needs looks let put set""") | frozenset(
    form
    for verb in _wordset("""ask weigh want make get give come know think tell find seem try leave say go do
        take see keep bring begin hear happen provide sit stand lose pay meet include continue
        learn lead understand follow create speak allow add spend grow win offer remember consider
        appear buy wait die send expect build stay reach kill remain suggest raise require decide
        demolish convert succeed become""")
    for form in (verb, verb + "s", verb + "es")
)
# Japanese particles that separate phrases (longest first), Chinese function characters.
_JA_PARTICLES = (
    "なのに", "だけど", "けれど", "ですが", "から", "まで", "より", "ので", "のに", "けど",
    "って", "では", "には", "とは", "です", "ます", "でした", "ました",
    "の", "に", "を", "は", "が", "と", "で", "へ", "も", "や", "か", "ね", "よ",
)  # fmt: skip
_ZH_PARTICLES = tuple("的了和与在是就也都把被对从向给跟或而吗呢吧啊着过")
# Languages whose adjectives mostly follow their noun ("énergie cinétique").
_HEAD_FIRST = frozenset({"fr", "es", "pt", "it", "ca", "ro"})
UNSPACED = frozenset({"ja", "zh", "yue", "th", "lo", "km", "my", "bo"})
COORDINATORS: dict[str, tuple[str, ...]] = {
    "en": ("and", "but", "because", "while", "which", "so that"),
    "es": ("y", "pero", "porque", "mientras", "que"),
    "fr": ("et", "mais", "car", "parce que", "qui", "alors que"),
    "de": ("und", "aber", "weil", "denn", "während", "sondern"),
    "pt": ("e", "mas", "porque", "enquanto", "que"),
    "it": ("e", "ma", "perché", "mentre", "che"),
}

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_HIRAGANA = re.compile(r"^[\u3040-\u309f]+$")
WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)|(?<=[。！？])|\n+")
_ANNOTATION = re.compile(
    r"\[[^\]]{0,40}\]|\((?:laugh\w*|music|applause|inaudible|crosstalk|silence|noise)\)|"
    r"\*(?:laugh\w*|sigh\w*|cough\w*)\*",
    re.IGNORECASE,
)
_KEEP_REPEATS = frozenset({"that", "had", "is", "very", "bye", "no", "ha"})


# Pieces of one word that a recogniser writes apart: faster-whisper starts every new word with a
# space, and a piece without one ("-hearted", "'s", "'homme") continues the word before it.
JOINERS = ("-", "\u2010", "'", "\u2019")
_CLITICS = r"(?:s|t|re|ve|ll|d|m)"  # English: "John 's" -> "John's", "we 're" -> "we're"
_ELIDED = r"(?:[^\W\d_]|[^\W\d_]{2}|qu|jusqu|lorsqu|puisqu|quoiqu|quell|dell|dall|nell|sull|all)"


def word_groups(
    pieces: Sequence[str], language: str = "en", segment_starts: Iterable[int] = ()
) -> list[range]:
    """Which of the recogniser's word pieces make one word, as index ranges in order.

    ``pieces`` keep their leading space as faster-whisper gives them (" cold", "-hearted"). In a
    language written with spaces, a piece without a leading space continues the previous piece
    when it starts with a hyphen or an apostrophe, or when it is not the first of its segment
    (``segment_starts``: indexes where a segment begins; a segment's first word sometimes comes
    without its space). In languages written without spaces every piece is a word."""
    lang = base_language(language)
    starts = set(segment_starts)
    groups: list[range] = []
    for i, piece in enumerate(pieces):
        glued = (
            groups
            and lang not in UNSPACED
            and piece[:1].strip() != ""
            and piece.strip() != ""
            and (piece.startswith(JOINERS) or i not in starts)
            and not pieces[groups[-1].stop - 1].rstrip().endswith((".", "!", "?", ",", ";", ":"))
        )
        if glued:
            groups[-1] = range(groups[-1].start, i + 1)
        else:
            groups.append(range(i, i + 1))
    return groups


def join_subwords(text: str, language: str = "en") -> str:
    """Text with the recogniser's split words joined: ``"cold -hearted"`` -> ``"cold-hearted"``,
    ``"John 's"`` -> ``"John's"``, ``"l 'homme"`` -> ``"l'homme"``. A dash with spaces on both
    sides ("word - word") is punctuation and stays."""
    if is_unspaced(text, language):
        return text
    text = re.sub(r"(?<=[^\W_])\s+(?=[-\u2010][^\W_])", "", text)
    text = re.sub(rf"(?<=[^\W_])\s+(?=['\u2019]{_CLITICS}(?![^\W_]))", "", text, flags=re.I)
    text = re.sub(r"(?<=[^\W_])\s+(?=n['\u2019]t(?![^\W_]))", "", text, flags=re.I)
    if base_language(language) in ("fr", "it", "ca", "pt"):
        text = re.sub(rf"(?<![^\W_])({_ELIDED})\s+(['\u2019])(?=[^\W_])", r"\1\2", text, flags=re.I)
    return text


def base_language(language: str) -> str:
    """``"pt-BR"`` -> ``"pt"``; unknown or empty -> ``"en"`` for the word lists."""
    lang = (language or "en").lower().replace("_", "-").split("-")[0]
    return lang or "en"


def is_unspaced(text: str, language: str = "en") -> bool:
    """Text written without spaces between words (Japanese, Chinese, ...)."""
    if base_language(language) in UNSPACED:
        return True
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= 0.5 * len(re.sub(r"\s", "", text))


@cache
def stopwords(language: str) -> frozenset[str]:
    """Fillers, function words and spaCy's stop words for the language (language data only)."""
    lang = base_language(language)
    words: set[str] = set(FUNCTION_WORDS.get(lang, FUNCTION_WORDS["en"]))
    words |= set(FILLERS.get(lang, ())) | INTERJECTIONS.get(lang, frozenset())
    try:
        data = importlib.import_module(f"spacy.lang.{lang}.stop_words")
        words |= {w.lower() for w in data.STOP_WORDS}
    except ImportError:  # spaCy absent, or no data for the language: the lists above
        pass
    return frozenset(words)


def _alternation(phrases: Iterable[str]) -> str:
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


@cache
def _filler_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    hes = HESITATIONS.get(lang, ())
    markers = _MARKERS.get(lang, ())
    leading = LEADING_FILLERS.get(lang, ())
    if lang in UNSPACED:
        patterns = []
        if hes:
            patterns.append(re.compile(rf"(?:{_alternation(hes)})[、，,…ー～~]*"))
        if markers:
            patterns.append(re.compile(rf"(?:{_alternation(markers)})[、，,]+"))
        if leading:
            patterns.append(re.compile(rf"^(?:{_alternation(leading)})[、，,]*"))
        return tuple(patterns)
    edge = r"(?<![^\W_])"  # not preceded by a letter or digit
    end = r"(?![^\W_'’-])"
    patterns = []
    if hes:  # anywhere, with the comma or dots around it
        patterns.append(
            re.compile(rf"(?:,\s*)?{edge}(?:{_alternation(hes)}){end}(?:\s*(?:,|\.\.\.|…))?", re.I)
        )
    if markers:  # ", like," / "you know," / ", you know." at the end
        alt = _alternation(markers)
        patterns.append(re.compile(rf"(?:,\s*)?{edge}(?:{alt}){end}\s*,", re.I))
        patterns.append(re.compile(rf",\s*{edge}(?:{alt}){end}(?=\s*(?:[.!?]|$))", re.I))
    if leading:
        patterns.append(re.compile(rf"^\s*(?:{_alternation(leading)}){end}[,\s]*", re.I))
    return tuple(patterns)


def remove_fillers(text: str, language: str = "en") -> str:
    """Drop hesitations anywhere and filler phrases where they are used as fillers."""
    lang = base_language(language)
    for _ in range(3):  # "um, you know, like, ..." peels one layer a pass
        before = text
        for pattern in _filler_patterns(lang):
            text = pattern.sub(" ", text)
        text = _tidy(text)
        if text == before:
            break
    return text


def remove_false_starts(text: str) -> str:
    """``"I- I think"`` -> ``"I think"``; ``"the the"`` -> ``"the"``; ``"we- we're"`` -> ``"we're"``."""
    # a cut-off word (hyphen or dash, then a space) that the next word repeats or replaces
    text = re.sub(r"(?<![^\W_])([^\W_]{1,15})\s*[-–—]+\s+(?=[^\W_])", "", text)
    # the same word (or two words) said twice or more, outside a few legitimate repeats
    for size in (2, 1):
        words = r"[^\W_]+(?:['’][^\W_]+)?" + (r"\s+[^\W_]+(?:['’][^\W_]+)?" * (size - 1))

        def once(m: re.Match[str]) -> str:
            first = m.group(1)
            return m.group(0) if first.lower() in _KEEP_REPEATS else first

        text = re.sub(rf"(?<![^\W_])({words})(?:[\s,]+\1)+(?![^\W_])", once, text, flags=re.I)
    return text


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?…、。，！？])", r"\1", text)
    text = re.sub(r"([,;:、，])(?:\s*[,;:、，])+", r"\1", text)  # ", ," -> ","
    text = re.sub(r"[,;:、，]\s*([.!?。！？])", r"\1", text)  # ",." -> "."
    text = re.sub(r"^[\s,;:.…\-–—、，。]+", "", text)
    return text.strip()


def clean(text: str, language: str = "en", entities: Iterable[str] = ()) -> str:
    """Speech as writing: no annotations, fillers or false starts; the first letter capitalised,
    English "i" as "I", named entities with their own capitals."""
    lang = base_language(language)
    text = _ANNOTATION.sub(" ", strip_markup(join_subwords(text, lang)))
    text = _tidy(text)
    if not is_unspaced(text, lang):
        text = remove_false_starts(text)
    text = remove_fillers(text, lang)
    if lang == "en":
        text = re.sub(r"(?<![^\W_])i(?=(?:['’](?:m|ve|d|ll))?(?![^\W_'’]))", "I", text)
    for entity in sorted({e.strip() for e in entities if e.strip()}, key=len, reverse=True):
        if entity != entity.lower():
            text = re.sub(rf"(?<![^\W_]){re.escape(entity)}(?![^\W_])", entity, text, flags=re.I)
    return capitalise(_tidy(text))


def strip_markup(text: str) -> str:
    """No HTML-like tags and no ``<`` ``>`` (YouTube refuses both in titles and descriptions)."""
    text = re.sub(r"</?[A-Za-z][^<>]{0,40}>", "", text)
    return text.replace("<", " ").replace(">", " ")


def capitalise(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :] if ch.islower() else text
        if ch.isdigit():
            return text
    return text


def strip_leading_connectives(text: str, language: str = "en") -> str:
    """``"And so, my fellow Americans"`` -> ``"My fellow Americans"``."""
    lang = base_language(language)
    leads = CONNECTIVES.get(lang, ())
    if not leads:
        return text
    if lang in UNSPACED:
        pattern = re.compile(rf"^(?:{_alternation(leads)})[、，,]*")
    else:
        pattern = re.compile(rf"^(?:{_alternation(leads)})(?![^\W_'’-])[\s,]*", re.I)
    for _ in range(4):
        stripped = pattern.sub("", text, count=1).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return capitalise(text)


def is_abbreviation(text: str, language: str = "en") -> bool:
    """Text that ends on an honorific's abbreviation ("... said Mr."): its full stop ends no
    sentence."""
    found = words(text)
    return (
        text.rstrip().endswith(".")
        and bool(found)
        and found[-1].lower() in HONORIFICS.get(base_language(language), frozenset())
        and text.rstrip()[-len(found[-1]) - 1 :].startswith(found[-1])
    )


def split_sentences(text: str, language: str = "en") -> list[str]:
    """Sentences of a transcript. Text without sentence punctuation (some ASR output) is also
    split at hesitations ("... who cares um this is me ...") when a piece runs long."""
    lang = base_language(language)
    pieces: list[str] = []
    for p in _SENTENCE_END.split(text.strip()):
        if not p or not p.strip():
            continue
        if pieces and is_abbreviation(pieces[-1], lang):  # "Mrs. John Dashwood" is one name
            pieces[-1] = f"{pieces[-1]} {p.strip()}"
        else:
            pieces.append(p.strip())
    out: list[str] = []
    hes = HESITATIONS.get(lang, ())
    for piece in pieces:
        if hes and not is_unspaced(piece, lang) and len(piece.split()) > 20:
            parts = re.split(rf"(?<![^\W_])(?:{_alternation(hes)})(?![^\W_'’])[,.]?", piece, flags=re.I)
            out.extend(p.strip(" ,") for p in parts if p.strip(" ,"))
        else:
            out.append(piece)
    return out


def words(text: str) -> list[str]:
    return WORD.findall(text)


def last_word(text: str) -> str:
    found = words(text)
    return found[-1].lower() if found else ""


def first_word(text: str) -> str:
    found = words(text)
    return found[0].lower() if found else ""


def ends_badly(text: str, language: str = "en") -> bool:
    """Ends on a comma-like mark, or on a function word / article / preposition / conjunction."""
    lang = base_language(language)
    text = text.rstrip()
    if not text or text[-1] in ",;:-–—、，":
        return True
    function = FUNCTION_WORDS.get(lang, FUNCTION_WORDS["en"])
    if is_unspaced(text, lang):
        core = text.rstrip("…!?！？。")
        return any(core.endswith(p) for p in function) and not core.endswith(("ている", "ていた"))
    return last_word(text.rstrip("…!?.")) in function


def trim_end(text: str, language: str = "en") -> str:
    """Drop trailing punctuation that hangs ("," ";" "-") and trailing function words."""
    lang = base_language(language)
    function = FUNCTION_WORDS.get(lang, FUNCTION_WORDS["en"])
    unspaced = is_unspaced(text, lang)
    original = text
    for _ in range(12):
        text = text.rstrip(" ,;:-–—、，")
        if unspaced:
            hit = next((p for p in sorted(function, key=len, reverse=True) if text.endswith(p)), "")
            if not hit or len(text) <= len(hit) + 1:
                break
            text = text[: -len(hit)]
        else:
            found = list(WORD.finditer(text))
            if len(found) < 2 or found[-1].group(0).lower() not in function:
                break
            text = text[: found[-1].start()]
    text = text.rstrip(" ,;:-–—、，")
    return text or original


# Words that point outside the sentence: a title that leans on one does not stand alone
# ("When you've got the main things on the front of it"). "it" always points; the demonstratives
# only as pronouns ("this is", "of that"), not before a noun ("this voice", "that way").
POINTERS: dict[str, frozenset[str]] = {
    "en": _wordset("it"),
    "es": _wordset("eso esto ello"),
    "fr": _wordset("ça cela ceci"),
    "de": _wordset("dies"),
    "pt": _wordset("isso isto aquilo"),
    "it": _wordset("ciò"),
}
DEMONSTRATIVES: dict[str, frozenset[str]] = {
    "en": _wordset("this that these those"),
    "es": _wordset("este esta estos estas ese esa"),
    "fr": _wordset("celui celle ceux"),
    "de": _wordset("das diese dieser dieses"),
    "pt": _wordset("este esta esse essa"),
    "it": _wordset("questo questa quello quella"),
}


def leans_on_context(text: str, language: str = "en") -> bool:
    """Whether ``text`` refers to something it does not name: "it" (or the language's "that
    thing" words) before any noun-like word it could stand for ("You just let it hit") or at a
    clause's end ("... on the front of it"), or a demonstrative used as a pronoun (the title's
    first word before a function word: "This is me"; or at a clause's end: "... of that").
    Unspaced text: never judged (no word boundaries to read)."""
    lang = base_language(language)
    if is_unspaced(text, lang):
        return False
    pointers = POINTERS.get(lang, frozenset())
    demonstratives = DEMONSTRATIVES.get(lang, frozenset())
    stop = stopwords(lang)
    found = list(WORD.finditer(text))
    named = False  # a noun-like word before the pointer, which it can stand for
    for k, m in enumerate(found):
        word = re.split(r"['’]", m.group(0).lower())[0]
        after = text[m.end() :].lstrip()
        at_end = not after or after[0] in ",;:.!?…"
        if word in pointers and (at_end or not named):
            return True
        if word in demonstratives:
            following = found[k + 1].group(0).lower() if k + 1 < len(found) else ""
            if at_end or (k == 0 and following in stop):
                return True
        if word not in stop and not word.endswith("ing") and phrase_ok(m.group(0), lang):
            named = True
    return False


def names_something(text: str, language: str = "en", entities: Iterable[str] = ()) -> bool:
    """Whether ``text`` names something: a named entity, or a noun-phrase-like run of words
    (``phrase_ok``); "Ha ha", "Three, two, one" name nothing. Unspaced text: any run of two or
    more characters outside the particles."""
    lang = base_language(language)
    low = text.lower()
    if any(e.strip() and e.lower() in low for e in entities):
        return True
    if is_unspaced(text, lang):
        return bool(candidate_phrases(text, lang, limit=1))
    tokens = words(text)
    stop = stopwords(lang)
    return any(t.lower() not in stop and phrase_ok(t, lang) and not t.isdigit() for t in tokens)


def display_width(text: str) -> int:
    """Characters as shown: a CJK character takes the room of two Latin ones."""
    return len(text) + len(_CJK.findall(text))


def shorten(text: str, language: str = "en", limit: int = 70, floor: int = 28) -> tuple[str, str]:
    """Shorten to about ``limit`` characters shown, at a clause boundary when one falls between
    ``floor`` and ``limit``, else at a word boundary (character boundary for ja/zh). Never ends on
    a function word or a comma. Returns (text, how): how is ``""`` (whole), ``"clause"``,
    ``"phrase"`` (before a function word that starts the next phrase) or ``"word"``; a cut text gets no ellipsis here (the caller adds one, leaving room for it)."""
    lang = base_language(language)
    text = text.strip()
    if display_width(text) <= limit:
        return text, ""
    unspaced = is_unspaced(text, lang)
    # clause boundaries: after , ; : — (and 、，for ja/zh), and before a coordinating or
    # subordinating conjunction ("... his car | and finished ...")
    best = ""
    joins = COORDINATORS.get(lang, ())
    pattern = r"[,;:—–]\s+|\s[—–]\s"
    if joins:
        pattern += r"|\s(?=(?:" + "|".join(map(re.escape, joins)) + r")\s)"
    for m in re.finditer(r"[,;:—–、，]\s*" if unspaced else pattern, text, flags=re.IGNORECASE):
        head = text[: m.start()].rstrip()
        if floor <= display_width(head) <= limit and not ends_badly(head, lang):
            best = head
    if best:
        return best, "clause"
    if unspaced:
        cut = text
        while display_width(cut) > limit - 1:
            cut = cut[:-1]
        return trim_end(cut, lang), "word"
    # A phrase boundary: the last word within the limit that the next phrase starts after (the
    # next word is a function word: "... mechanical energy | that I am ...").
    function = FUNCTION_WORDS.get(lang, FUNCTION_WORDS["en"])
    tokens = list(WORD.finditer(text))
    phrase_at = 0
    for here, following in zip(tokens, tokens[1:], strict=False):
        head = text[: here.end()]
        if display_width(head) > limit - 1:
            break
        if (
            following.group(0).lower() in function
            and display_width(head) >= floor
            and not ends_badly(head, lang)
        ):
            phrase_at = here.end()
    if phrase_at:
        return text[:phrase_at], "phrase"
    cut_at = 0
    for m in tokens:
        if display_width(text[: m.end()]) > limit - 1:  # leave room for the ellipsis
            break
        cut_at = m.end()
    if cut_at == 0:  # one enormous word
        return text[: limit - 1], "word"
    return trim_end(text[:cut_at], lang), "word"


def _phrase_ok(tokens: list[str], stop: frozenset[str], fillers: frozenset[str]) -> bool:
    low = [t.lower() for t in tokens]
    edges = {low[0], low[-1], re.split(r"['’]", low[0])[0], re.split(r"['’]", low[-1])[0]}
    if edges & stop or any(t in fillers for t in low):
        return False
    if len(set(low)) < len(low):  # "words words"
        return False
    return all(len(t) > 1 or t.isdigit() for t in (low[0], low[-1])) and not low[0].isdigit()


def phrase_ok(phrase: str, language: str = "en", tagged: bool = False) -> bool:
    """A key phrase a person would tag: a noun phrase or a name, not a clause piece.

    Not on a stop word, pronoun or honorific at either end (a title goes with a name: "Mr
    Dashwood", never "Mr"); inside it, no function word but a linking preposition ("tillage of
    the land": "of" and the article after it); in English no verb form (-ed, "began", "said")
    at either end, no "-ing" word before others ("converting gravitational"), no number inside
    and no adverb (-ly) at its end, unless ``tagged`` (a parser found it a noun phrase:
    "confused account"). Without a parser these English rules are word-list heuristics: a verb
    that is not on the list can still lead a phrase ("fellow Americans ask"). Languages without spaces: not a lone particle or a run of kana
    only."""
    lang = base_language(language)
    phrase = phrase.strip()
    if not phrase:
        return False
    if is_unspaced(phrase, lang):
        function = FUNCTION_WORDS.get(lang, frozenset())
        return len(phrase) >= 2 and phrase not in function and not _HIRAGANA.match(phrase)
    tokens = words(phrase)
    if not tokens or len(tokens) > 4:
        return False
    stop = stopwords(lang)
    fillers = frozenset(f.lower() for f in FILLERS.get(lang, ()))
    if not _phrase_ok(tokens, stop, fillers):
        return False
    low = [t.lower().replace("’", "'") for t in tokens]
    honorific = HONORIFICS.get(lang, frozenset())
    pronoun = PRONOUNS.get(lang, frozenset())
    if low[-1] in honorific or low[0] in pronoun or low[-1] in pronoun:
        return False
    linker = LINKERS.get(lang, frozenset())
    inside = low[1:-1]
    for i, w in enumerate(inside):
        if w in linker or w in honorific:
            continue
        # an article right after a linker: "tillage of the land"
        if w in stop and i > 0 and inside[i - 1] in linker and w not in pronoun:
            continue
        if w in stop or w in pronoun:
            return False
    if lang == "en" and not tagged:

        def verbish(w: str) -> bool:
            return w in _EN_VERBS or (len(w) > 4 and w.endswith("ed"))

        if verbish(low[0]) or verbish(low[-1]):
            return False
        if len(low) > 1 and len(low[0]) > 5 and low[0].endswith("ing"):  # "converting gravitational"
            return False
        if any(w.isdigit() for w in low[1:-1]) or (
            len(low) > 1 and low[-1].isdigit()
        ):  # "weighs 15 kilograms"
            return False
        if len(low[-1]) > 4 and low[-1].endswith("ly"):
            return False
    return True


def candidate_phrases(text: str, language: str = "en", limit: int = 60) -> list[str]:
    """Candidate key phrases, as they appear in ``text``: 1-3 word n-grams within a clause,
    with no stop word or filler at either end, most frequent (then earliest, longer) first.

    Languages without spaces: Japanese is cut into runs at punctuation and particles, keeping
    runs with a kanji or katakana; Chinese runs are cut at punctuation and function characters,
    and runs longer than 4 characters give their 2-4 character n-grams. Best effort: without a
    segmenter some candidates straddle two words; ranking by embedding demotes most of them."""
    lang = base_language(language)
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    first: dict[str, int] = {}
    fillers = frozenset(f.lower() for f in FILLERS.get(lang, ()))

    def add(phrase: str, pos: int) -> None:
        key = phrase.lower()
        counts[key] += 1
        surface.setdefault(key, phrase)
        first.setdefault(key, pos)

    if is_unspaced(text, lang):
        body = text
        for filler in sorted(fillers, key=len, reverse=True):
            body = body.replace(filler, "、")
        particles = _JA_PARTICLES if lang == "ja" else _ZH_PARTICLES
        splitter = re.compile(rf"[\s\W_]+|{'|'.join(map(re.escape, particles))}")
        pos = 0
        for run in splitter.split(body):
            pos += 1
            run = run.strip()
            if len(run) < 2 or (lang == "ja" and _HIRAGANA.match(run)):
                continue
            if len(run) <= 4 or lang == "ja" and len(run) <= 8:
                add(run, pos)
            if len(run) > 4:
                for n in (4, 3, 2):
                    for i in range(len(run) - n + 1):
                        gram = run[i : i + n]
                        if not (lang == "ja" and _HIRAGANA.match(gram)):
                            add(gram, pos * 100 + i)
    else:
        pos = 0
        stop = stopwords(lang)
        # A word that is only ever a modifier in the clip ("kinetic energy", "fellow Americans";
        # in French "énergie cinétique") does not end a phrase: its noun always stands beside it.
        head_side = -1 if lang in _HEAD_FIRST else 1
        alone: set[str] = set()
        for clause in re.split(r"[.,;:!?()\"“”«»—–…\[\]]+", text):
            tokens = words(clause)
            for i, tok in enumerate(tokens):
                k = i + head_side
                pair = " ".join(tokens[min(i, k) : max(i, k) + 1])
                if not 0 <= k < len(tokens) or tokens[k].lower() in stop or not phrase_ok(pair, lang):
                    alone.add(tok.lower())
            for i in range(len(tokens)):
                for n in (1, 2, 3):
                    gram = tokens[i : i + n]
                    if len(gram) == n and phrase_ok(" ".join(gram), lang):
                        add(" ".join(gram), pos + i)
            pos += len(tokens)
        head = -1 if head_side == 1 else 0  # the phrase's noun: its last word (first in French)
        dropped = [k for k in counts if k.split()[head] not in alone]
        if len(dropped) < len(counts):
            for key in dropped:
                del counts[key]
        if not counts:  # every word a stop word ("five five"): the content-bearing words left
            never = (
                FUNCTION_WORDS.get(lang, frozenset())
                | PRONOUNS.get(lang, frozenset())
                | HONORIFICS.get(lang, frozenset())
                | INTERJECTIONS.get(lang, frozenset())
            )
            for tok in words(text):
                if tok.lower() not in fillers | never and len(tok) > 1:
                    add(tok, len(counts))
    ranked = sorted(counts, key=lambda k: (-counts[k] * (1 + 0.3 * len(k.split())), first[k]))
    return [surface[k] for k in ranked[:limit]]


def hashtag(phrase: str) -> str:
    """``"pendulum energy"`` -> ``"#PendulumEnergy"``; CJK characters kept; ``""`` when nothing
    usable is left."""
    parts = re.findall(r"[^\W_]+", re.sub(r"['’]", "", phrase))
    body = "".join(p if _CJK.search(p) else p[:1].upper() + p[1:] for p in parts)
    body = re.sub(r"[^\w]", "", body)
    if not body or body.isdigit() or len(body) > 40:
        return ""
    return "#" + body
