"""The claim model's design matrix, built in one place for fitting, the scikit-learn path and the
compiled scorer.

Columns, in order: the standardised numeric features, the label-history columns (with
``history``), indicator tokens (outlet kind, topics, metadata), TF-IDF word n-grams and,
optionally, TF-IDF character n-grams. ``ClaimDesign.fit`` learns the layout (scaler,
vocabularies, history table, each column's explanation group); ``transform`` builds rows of many
claims through the fitted scikit-learn transformers; ``row`` builds one claim's non-zero columns
in plain Python from the same fitted layout (at one claim scikit-learn's per-call cost is most
of the work). Tests check the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import StandardScaler

from scoring.claim_model._history import (
    History,
    history_groups,
    history_keys,
    out_of_fold_history,
)
from scoring.features import (
    CHARACTERS,
    EXPLAINED_FROM_UNKNOWN,
    NUMERIC_FEATURE_NAMES,
    NUMERIC_FEATURES,
    WORDING,
    ClaimContext,
    FeatureRow,
    featurize,
    token_group,
)
from scoring.text_features import char_ngrams, ngrams_of_tokens, word_ngrams


def _identity_tokens(tokens: Sequence[str]) -> list[str]:
    return list(tokens)


class ClaimDesign:
    """The fitted column layout of the design matrix (see the module docstring)."""

    def __init__(
        self,
        *,
        n_classes: int,
        topic_prior_strength: float,
        numeric_weight: float,
        token_weight: float,
        text_weight: float,
        word_ngram_range: tuple[int, int] | None,
        char_ngram_range: tuple[int, int] | None,
        min_df: float,
        max_features: int | None,
        history: bool,
        history_strength: float,
        history_folds: int,
        random_state: int,
    ) -> None:
        self.n_classes = n_classes
        self.topic_prior_strength = topic_prior_strength
        self.numeric_weight = numeric_weight
        self.token_weight = token_weight
        self.text_weight = text_weight
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.use_history = history
        self.history_strength = history_strength
        self.history_folds = history_folds
        self.random_state = random_state

    # -- claims to rows ------------------------------------------------------------------

    def featurize(
        self, contexts: Sequence[ClaimContext]
    ) -> tuple[list[FeatureRow], list[list[str]]]:
        """Each claim's feature row and its label-history keys."""
        rows = [featurize(c, topic_prior_strength=self.topic_prior_strength) for c in contexts]
        keys = [history_keys(c, row) for c, row in zip(contexts, rows, strict=True)]
        return rows, keys

    def history_column_names(self, groups: Sequence[str], labels: Sequence[str]) -> tuple[str, ...]:
        """Names of the history columns of ``groups``, in design order."""
        return tuple(
            f"history {group} {part}"
            for group in groups
            for part in (*(f"log share {label}" for label in labels), "log evidence")
        )

    def training_history(
        self, keys: Sequence[Sequence[str]], encoded: np.ndarray
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """The history groups of a training set and its out-of-fold history columns."""
        groups = history_groups(keys)
        columns = out_of_fold_history(
            keys,
            encoded,
            groups,
            n_classes=self.n_classes,
            strength=self.history_strength,
            n_folds=self.history_folds,
            random_state=self.random_state,
        )
        return groups, columns

    # -- fitting -------------------------------------------------------------------------

    def fit_transform(
        self, rows: Sequence[FeatureRow], keys: Sequence[Sequence[str]], encoded: np.ndarray
    ) -> sp.csr_matrix:
        """Learn the layout from training claims and return their design matrix (history
        columns out of fold)."""
        n_numeric = len(NUMERIC_FEATURE_NAMES)
        numeric = np.array([row.numeric for row in rows], dtype=float)
        groups: list[str] = [group for _, group in NUMERIC_FEATURES]
        self.history: History | None = None
        self.history_groups: tuple[str, ...] = ()
        if self.use_history:
            self.history_groups, out_of_fold = self.training_history(keys, encoded)
            numeric = np.hstack([numeric, out_of_fold])
            self.history = History(
                keys,
                encoded,
                n_classes=self.n_classes,
                groups=self.history_groups,
                strength=self.history_strength,
            )
            for group in self.history_groups:
                groups.extend([group] * (self.n_classes + 1))
        self.n_dense = numeric.shape[1]
        self.scaler = StandardScaler().fit(numeric)
        # History columns are centred but not rescaled: a column that barely varies out of fold
        # (one topic for every claim) would otherwise be blown up into a large, spurious effect.
        self.scaler.scale_[n_numeric:] = 1.0

        self.token_vectorizer: CountVectorizer | None = CountVectorizer(
            analyzer=_identity_tokens, binary=True, min_df=self.min_df, dtype=np.float64
        )
        try:
            self.token_vectorizer.fit([row.tokens for row in rows])
            tokens = self.token_vectorizer.get_feature_names_out()
            groups.extend(token_group(str(token)) for token in tokens)
        except ValueError:  # no token frequent enough
            self.token_vectorizer = None

        self.word_vectorizer = self._text_vectorizer(
            rows, word_ngrams, self.word_ngram_range, WORDING, groups
        )
        self.char_vectorizer = self._text_vectorizer(
            rows, char_ngrams, self.char_ngram_range, CHARACTERS, groups
        )
        matrix = self._matrix(rows, numeric)
        self.n_features = matrix.shape[1]
        assert self.n_features == len(groups)
        assert len(groups) >= n_numeric
        self.group_names = tuple(dict.fromkeys(groups))
        group_id = {name: i for i, name in enumerate(self.group_names)}
        self.column_group = np.array([group_id[name] for name in groups], dtype=np.intp)
        self.baseline = np.asarray(matrix.mean(axis=0)).ravel()
        # Reasons from these groups are measured from "unknown", where their raw columns are 0.
        unknown = [
            j for j, (_, group) in enumerate(NUMERIC_FEATURES) if group in EXPLAINED_FROM_UNKNOWN
        ]
        self.baseline[unknown] = (
            -self.scaler.mean_[unknown] / self.scaler.scale_[unknown] * self.numeric_weight
        )
        self._index_columns()
        return matrix

    def _text_vectorizer(
        self,
        rows: Sequence[FeatureRow],
        analyzer: Callable[..., list[str]],
        ngram_range: tuple[int, int] | None,
        group: str,
        groups: list[str],
    ) -> TfidfVectorizer | None:
        if ngram_range is None:
            return None
        vectorizer = TfidfVectorizer(
            analyzer=partial(analyzer, ngram_range=tuple(ngram_range)),
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float64,
        )
        try:
            vectorizer.fit([row.text for row in rows])
        except ValueError:  # empty vocabulary
            return None
        groups.extend([group] * len(vectorizer.vocabulary_))
        return vectorizer

    def _index_columns(self) -> None:
        """The fitted vocabularies as design-matrix columns, for ``row``."""
        offset = self.n_dense
        self.token_index: dict[str, int] = {}
        if self.token_vectorizer is not None:
            vocabulary = self.token_vectorizer.vocabulary_
            self.token_index = {token: offset + int(i) for token, i in vocabulary.items()}
            offset += len(vocabulary)
        self.word_index, self.word_idf, offset = _tfidf_columns(self.word_vectorizer, offset)
        self.char_index, self.char_idf, offset = _tfidf_columns(self.char_vectorizer, offset)
        self.index_to_word = {i: gram for gram, i in self.word_index.items()}

    # -- many claims: through the fitted scikit-learn transformers --------------------------

    def transform(self, contexts: Sequence[ClaimContext]) -> tuple[list[FeatureRow], sp.csr_matrix]:
        """Feature rows and design matrix of new claims (history from all training claims)."""
        rows, keys = self.featurize(contexts)
        numeric = np.array([row.numeric for row in rows], dtype=float)
        if self.history is not None:
            numeric = np.hstack([numeric, self.history.transform(keys)])
        return rows, self._matrix(rows, numeric)

    def _matrix(self, rows: Sequence[FeatureRow], dense: np.ndarray) -> sp.csr_matrix:
        numeric = self.scaler.transform(dense)
        blocks: list[sp.spmatrix] = [sp.csr_matrix(numeric * self.numeric_weight)]
        if self.token_vectorizer is not None:
            blocks.append(
                self.token_vectorizer.transform([row.tokens for row in rows]) * self.token_weight
            )
        texts = [row.text for row in rows]
        if self.word_vectorizer is not None:
            blocks.append(self.word_vectorizer.transform(texts) * self.text_weight)
        if self.char_vectorizer is not None:
            blocks.append(self.char_vectorizer.transform(texts) * self.text_weight)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    # -- one claim: the same columns in plain Python ---------------------------------------

    def scaled_numeric(self, value: float, column: int) -> float:
        """A raw numeric feature value as its standardised, weighted design column."""
        mean = float(self.scaler.mean_[column])
        scale = float(self.scaler.scale_[column])
        return (value - mean) / scale * self.numeric_weight

    def row(self, context: ClaimContext) -> tuple[FeatureRow, list[int], list[float]]:
        """One new claim's non-zero design columns and values, equal to ``transform``'s row."""
        row = featurize(context, topic_prior_strength=self.topic_prior_strength)
        dense = np.asarray(row.numeric)
        if self.history is not None:
            history = self.history.transform([history_keys(context, row)])[0]
            dense = np.concatenate([dense, history])
        numeric = (dense - self.scaler.mean_) / self.scaler.scale_
        numeric *= self.numeric_weight
        indices: list[int] = list(range(dense.shape[0]))
        values: list[float] = numeric.tolist()
        seen: set[int] = set()
        for token in row.tokens:
            column = self.token_index.get(token)
            if column is not None and column not in seen:
                seen.add(column)
                indices.append(column)
                values.append(self.token_weight)
        if self.word_index and self.word_ngram_range is not None:
            grams = ngrams_of_tokens(row.words, self.word_ngram_range)
            self._tfidf(grams, self.word_index, self.word_idf, indices, values)
        if self.char_index and self.char_ngram_range is not None:
            grams = char_ngrams(row.text, self.char_ngram_range)
            self._tfidf(grams, self.char_index, self.char_idf, indices, values)
        return row, indices, values

    def _tfidf(
        self,
        grams: list[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        indices: list[int],
        values: list[float],
    ) -> None:
        """Sublinear TF-IDF, L2-normalised, as TfidfVectorizer(sublinear_tf=True) computes it."""
        counts: dict[int, int] = {}
        for gram in grams:
            column = vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return
        columns = list(counts)
        weights = [(1.0 + math.log(counts[c])) * idf[c] for c in columns]
        norm = math.sqrt(sum(w * w for w in weights))
        indices.extend(columns)
        values.extend(w / norm * self.text_weight for w in weights)


def _tfidf_columns(
    vectorizer: TfidfVectorizer | None, offset: int
) -> tuple[dict[str, int], np.ndarray, int]:
    """A fitted TF-IDF vocabulary as design columns from ``offset``, its idf by column, and the
    next free column."""
    if vectorizer is None:
        return {}, np.zeros(0), offset
    index = {gram: offset + int(i) for gram, i in vectorizer.vocabulary_.items()}
    idf = np.zeros(offset + len(index))
    idf[offset:] = vectorizer.idf_
    return index, idf, offset + len(index)
