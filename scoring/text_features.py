"""Features of a claim's wording: specificity, hedging, absolutes, length, and n-gram analyzers.

A specific claim (figures, named places, dates, named people, attribution to a source) can be
checked, and checkable claims by careful sources tend to hold up; hedges ("reportedly") and
absolutes ("never", "not one inch") mark claims that often do not. These are cheap heuristics on
purpose: they run on every scored claim, in well under 0.1 ms.

The n-gram analyzers are plain functions so the fitted scikit-learn vectorizers and the model's
fast scoring path tokenise text identically.

Pure functions: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Figures: digits (with separators, decimals, percent or currency) and number words.
_DIGIT_FIGURE = re.compile(r"[$£€]?\d[\d,.]*(?:\s?(?:%|percent|per cent))?")
_NUMBER_WORDS = _word_set(
    """
    two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty
    sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion
    billions trillion trillions dozen dozens half third quarter percent
    """
)
# Years, ISO dates and d/m/y dates: only searched when the text has a digit.
_NUMERIC_DATE = re.compile(
    r"\b(?:1[89]\d\d|20\d\d)s?\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
)
_DATE_WORDS = _word_set(
    """
    january february march april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday
    yesterday today tonight overnight
    """
)
# "may" is a month only when capitalised and followed by a day number or a year.
_MAY_DATE = re.compile(r"\bMay\s+\d")
_PLACE_NAMES = _word_set(
    """
    alabama alaska arizona arkansas california colorado connecticut delaware florida georgia
    hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts
    michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon
    pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming
    america usa britain england scotland wales ireland france germany italy spain
    russia ukraine china japan india pakistan afghanistan iraq iran syria israel gaza lebanon
    turkey egypt libya yemen saudi jordan mexico canada brazil cuba venezuela korea vietnam
    nigeria somalia sudan ethiopia kenya africa europe asia raqqa aleppo damascus mosul baghdad
    kabul kyiv moscow beijing london paris berlin jerusalem tehran
    """
)
_HEDGES = _word_set(
    """
    reportedly allegedly may might could possibly perhaps probably apparently seemingly
    appears appear seems seem suggests suggest likely unlikely unconfirmed unverified rumored
    rumoured purportedly supposedly approximately roughly around estimated believed claimed
    """
)
_ABSOLUTES = _word_set(
    """
    never always all none every everyone everybody everything nobody nothing nowhere ever
    entire entirely totally completely absolutely only single zero largest biggest worst best
    highest lowest most least first fastest unprecedented
    """
)
# One dict lookup per word: which of (figure, hedge, absolute, date, place) it signals.
_WORD_SIGNALS: dict[str, tuple[int, int, int, int, int]] = {
    word: (
        int(word in _NUMBER_WORDS),
        int(word in _HEDGES),
        int(word in _ABSOLUTES),
        int(word in _DATE_WORDS),
        int(word in _PLACE_NAMES),
    )
    for word in _NUMBER_WORDS | _HEDGES | _ABSOLUTES | _DATE_WORDS | _PLACE_NAMES
}
# Multi-word cues on the lower-cased text, in one pass; the first alternative wins.
_PHRASES = re.compile(
    r"\b(?:"
    r"(?P<hedge>it\s+is\s+(?:believed|thought|said)|sources\s+say|according\s+to\s+sources|"
    r"(?:is|are)\s+said\s+to|up\s+to|as\s+many\s+as|at\s+least)"
    r"|(?P<absolute>no\s+one|not\s+one|not\s+a\s+single|in\s+(?:the\s+)?history|"
    r"of\s+all\s+time|100\s+percent|each\s+and\s+every)"
    r"|(?P<attribution>according\s+to|said|says|told|stated|reported|announced|confirmed|"
    r"testified|wrote|quoted|cited|estimates?|data\s+from|figures\s+from|a\s+report\s+by|"
    r"a\s+study\s+by)"
    r"|(?P<date>(?:last|this|next)\s+(?:night|week|month|year|morning|evening|weekend))"
    r")\b"
)
# Capitalised names on the original text, in one pass: a place after a preposition, a titled
# person, or a run of two or more capitalised words not at the start (a name, roughly).
_NAMES = re.compile(
    # The lookahead lets the engine skip words that cannot start any alternative.
    r"\b(?=[A-Zianofsew])(?:"
    r"(?P<place>(?:in|at|near|outside|from|across|into|(?:north|south|east|west)\s+of)\s+"
    r"(?:the\s+)?[A-Z][a-z]+)"
    r"|(?P<person>(?:Mr|Mrs|Ms|Dr|Gen|Gov|Sen|Rep|Col|Capt|Lt|Sgt|President|Senator|Governor|"
    r"Minister|General|Mayor|Judge|Speaker|Secretary|Commander|Spokesman|Spokeswoman)\.?\s+"
    r"[A-Z][a-z]+)"
    r"|(?P<run>(?<=[a-z,;:]\s)[A-Z][a-z]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-z]+)+)"
    r")"
)
# scikit-learn's default token pattern: the words of the model's n-grams and of the cues above.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """Counts found in one claim's text."""

    figures: int
    places: int
    dates: int
    people: int
    attributions: int
    hedges: int
    absolutes: int
    words: int
    characters: int
    question: bool

    @property
    def specificity(self) -> int:
        """How many kinds of checkable detail the claim carries (0 to 5)."""
        return (
            (self.figures > 0)
            + (self.places > 0)
            + (self.dates > 0)
            + (self.people > 0)
            + (self.attributions > 0)
        )


def tokenize(text: str) -> list[str]:
    """Lower-cased words of two or more characters (scikit-learn's default tokens)."""
    return _TOKEN.findall(text.lower())


def text_features(text: str, tokens: list[str] | None = None) -> TextFeatures:
    """Specificity, hedging, absolutes and length of ``text`` (``tokens``: its ``tokenize``)."""
    lowered = text.lower()
    words = _TOKEN.findall(lowered) if tokens is None else tokens
    signals = _WORD_SIGNALS
    hits = [signals[word] for word in words if word in signals]
    if hits:
        figures, hedges, absolutes, dates, places = map(sum, zip(*hits, strict=True))
    else:
        figures = hedges = absolutes = dates = places = 0
    digit_figures = len(_DIGIT_FIGURE.findall(text))
    if digit_figures:
        figures += digit_figures
        dates += len(_NUMERIC_DATE.findall(text))
    if "May" in text:
        # Counted as a hedge above; a capitalised "May 5" is a date instead.
        may_dates = len(_MAY_DATE.findall(text))
        hedges = max(0, hedges - may_dates)
        dates += may_dates
    attributions = people = 0
    for match in _PHRASES.finditer(lowered):
        kind = match.lastgroup
        if kind == "attribution":
            attributions += 1
        elif kind == "hedge":
            hedges += 1
        elif kind == "absolute":
            absolutes += 1
        else:
            dates += 1
    for match in _NAMES.finditer(text):
        if match.lastgroup == "place":
            places += 1
        else:
            people += 1
    return TextFeatures(
        figures=figures,
        places=places,
        dates=dates,
        people=people,
        attributions=attributions,
        hedges=hedges,
        absolutes=absolutes,
        words=len(words),
        characters=len(text),
        question=text.rstrip().endswith("?"),
    )


def log_count(count: float) -> float:
    """log(1 + count): diminishing returns for repeated cues."""
    return math.log1p(max(0.0, count))


def word_ngrams(text: str, ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    """Lower-cased word n-grams, tokenised like scikit-learn's default ``token_pattern``."""
    return ngrams_of_tokens(_TOKEN.findall(text.lower()), ngram_range)


def ngrams_of_tokens(tokens: list[str], ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    """Word n-grams of already tokenised text (``word_ngrams`` without the tokenising)."""
    low, high = ngram_range
    if low == 1 and high == 1:
        return tokens
    grams: list[str] = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))
    return grams


def char_ngrams(text: str, ngram_range: tuple[int, int] = (2, 5)) -> list[str]:
    """Character n-grams inside word boundaries (scikit-learn's ``char_wb``), lower-cased."""
    low, high = ngram_range
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if n > length:
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams
