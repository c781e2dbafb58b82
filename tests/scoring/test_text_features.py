from sklearn.feature_extraction.text import CountVectorizer

from scoring.text_features import char_ngrams, text_features, tokenize, word_ngrams

TEXTS = [
    "According to the Syrian Observatory, 42 civilians were killed in Raqqa on 21 August 2017.",
    "Says Barack Obama's health-care law will cost $1.2 trillion -- and it's the WORST ever!",
    "  Reportedly,   troops may have advanced a few miles.  ",
    "I I a b c",
    "",
]


def test_specific_claim_has_figures_place_date_and_attribution() -> None:
    features = text_features(TEXTS[0])
    assert features.figures >= 2  # 42, 21 (and 2017)
    assert features.places >= 1  # in Raqqa
    assert features.dates >= 2  # August, 2017
    assert features.attributions == 1  # according to
    assert features.people == 1  # "Syrian Observatory": a named source counts as a name
    assert features.specificity == 5
    assert features.hedges == 0


def test_vague_claim_scores_zero_specificity() -> None:
    features = text_features("Things are getting bad out there.")
    assert features.specificity == 0
    assert features.figures == features.dates == features.people == 0
    assert features.words == 6


def test_hedging_words_and_phrases() -> None:
    features = text_features("Troops reportedly advanced and allegedly killed, sources say.")
    assert features.hedges == 3
    assert text_features("Troops advanced and killed.").hedges == 0


def test_absolutes() -> None:
    assert text_features("No military in history has ever been so careful.").absolutes >= 2
    assert text_features("We will not give up one inch: not one inch.").absolutes >= 1
    assert text_features("They never cut all taxes.").absolutes == 2
    assert text_features("They cut some taxes.").absolutes == 0


def test_capitalised_may_is_a_date_not_a_hedge() -> None:
    dated = text_features("The strike on May 5 killed 3 people.")
    assert dated.hedges == 0
    assert dated.dates >= 1
    assert text_features("Troops may advance.").hedges == 1


def test_named_people() -> None:
    assert text_features("President Obama signed it, said Gov. Rick Perry.").people >= 2
    assert text_features("the bill was signed.").people == 0


def test_question_and_length() -> None:
    features = text_features("Did the decline of coal start with gas?")
    assert features.question
    assert features.words == 8
    assert not text_features("Coal declined.").question


def test_word_ngrams_match_scikit_learn_default_analyzer() -> None:
    analyzer = CountVectorizer(ngram_range=(1, 2)).build_analyzer()
    for text in TEXTS:
        assert word_ngrams(text, (1, 2)) == analyzer(text)
    assert tokenize(TEXTS[1]) == CountVectorizer().build_analyzer()(TEXTS[1])


def test_char_ngrams_match_scikit_learn_char_wb() -> None:
    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for text in TEXTS:
        assert char_ngrams(text, (2, 5)) == analyzer(text)
