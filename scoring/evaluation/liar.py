"""Evaluation on LIAR (Wang, ACL 2017): speakers as outlets, PolitiFact labels as verdicts.

The whole pipeline is built from the files given: track records from the training labels only
(leave-one-out for training rows, so a row never sees its own label), ``ClaimContext`` objects,
``ClaimModel`` (the same code the service uses), and metrics on the test file for the model, the
track record alone and the majority class.

LEAKAGE: columns 9-13 of LIAR count each speaker's labels *including the row's own*; a model fed
them "knows" the answer. ``load_liar`` keeps them in ``LiarRow.leaky_credit_counts`` only so that
``check_no_count_leakage`` can prove no feature derives from them; ``build_contexts`` refuses to
put them (or any unknown field) into a context.

HONEST FIGURES: every choice (features, parameters) is made by cross-validation inside the
training file (``cross_validate``: k folds, each scored exactly as the test file is, with track
records rebuilt from that fold's training part); the test file is scored once, with nothing
chosen on it. LIAR has no dates, so the folds are shuffled, not time-ordered. The command prints
the cross-validated training figures beside the test figures.

CLI glue: ``configure_parser`` and ``run`` back ``credscore eval liar --train FILE --test FILE``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression

from scoring.claim_model import ClaimModel
from scoring.evaluation.metrics import binary_metrics, multiclass_metrics
from scoring.features import NUMERIC_FEATURE_NAMES, ClaimContext, featurize
from scoring.model_selection import shuffled_folds
from scoring.reliability import (
    DEFAULT_PRIOR_STRENGTH,
    Reliability,
    global_mean,
    posterior,
    shrunk_mean,
)

# Best first, like the service's scale.
LIAR_LABELS: Final = ("true", "mostly-true", "half-true", "barely-true", "false", "pants-fire")
LIAR_HOLDS_UP: Final[Mapping[str, float]] = {"true": 1.0, "mostly-true": 1.0, "half-true": 1.0}
N_COLUMNS: Final = 14

# Fields of LiarRow that may become categorical metadata of a claim.
# The speaker as a category as well as an outlet: a regularised per-speaker effect on each of
# the six labels, which the held-up track record (one number) cannot express.
METADATA_FIELDS: Final = ("state", "job", "context", "speaker")
SAFE_FIELDS: Final = frozenset({"state", "job", "context", "party", "speaker"})
LEAKY_FIELDS: Final = frozenset(
    {
        "leaky_credit_counts",
        "barely_true_count",
        "false_count",
        "half_true_count",
        "mostly_true_count",
        "pants_on_fire_count",
    }
)
COUNT_COLUMNS: Final = ("barely_true", "false", "half_true", "mostly_true", "pants_on_fire")
# A numeric feature whose rank correlation with a count-derived quantity exceeds this is treated
# as derived from the leaky counts. Honest leave-one-out records stay well below (see tests).
LEAKAGE_CORRELATION: Final = 0.97
LEAKAGE_SMOOTHING: Final = (1.0, 2.0, 4.0, 8.0)

# The model's configuration for LIAR, chosen by 3-fold cross-validation inside train.tsv only
# (bench/liar_model_selection.py prints the candidates' figures); valid.tsv played no part.
LIAR_MODEL_PARAMS: Final[Mapping[str, Any]] = {
    "C": 0.1,
    "binary_C": 0.2,
    "text_weight": 1.5,
    "token_weight": 0.5,
    "history_strength": 20.0,
    "word_ngram_range": (1, 2),
    "char_ngram_range": None,
    "min_df": 2,
}

CV_FOLDS: Final = 3
METHODS: Final = ("model", "track_record_only", "majority")

METRIC_KEYS: Final = (
    "six_way_accuracy",
    "six_way_macro_f1",
    "binary_accuracy",
    "roc_auc",
    "brier",
    "ece",
)


class LeakageError(ValueError):
    """A feature would be derived from LIAR's credit-history counts, which contain the label."""


@dataclass(frozen=True, slots=True)
class LiarRow:
    """One LIAR statement. ``leaky_credit_counts`` exists only for the leakage checks."""

    statement_id: str
    label: str
    statement: str
    subjects: tuple[str, ...]
    speaker: str
    job: str
    state: str
    party: str
    context: str
    leaky_credit_counts: tuple[int, int, int, int, int]


def _count(value: str) -> int:
    value = value.strip()
    return int(float(value)) if value else 0


def load_liar(path: str | Path) -> list[LiarRow]:
    """Read a file in LIAR's format: 14 tab-separated columns, no header."""
    rows: list[LiarRow] = []
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != N_COLUMNS:
                raise ValueError(
                    f"{path}:{number}: expected {N_COLUMNS} columns, got {len(fields)}"
                )
            label = fields[1].strip().lower()
            if label not in LIAR_LABELS:
                raise ValueError(f"{path}:{number}: unknown label {fields[1]!r}")
            rows.append(
                LiarRow(
                    statement_id=fields[0].strip(),
                    label=label,
                    statement=fields[2].strip(),
                    subjects=tuple(s.strip().lower() for s in fields[3].split(",") if s.strip()),
                    speaker=fields[4].strip().lower(),
                    job=fields[5].strip(),
                    state=fields[6].strip(),
                    party=fields[7].strip().lower(),
                    context=fields[13].strip(),
                    leaky_credit_counts=(
                        _count(fields[8]),
                        _count(fields[9]),
                        _count(fields[10]),
                        _count(fields[11]),
                        _count(fields[12]),
                    ),
                )
            )
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def _credit(label: str) -> float:
    return LIAR_HOLDS_UP.get(label, 0.0)


class TrackRecords:
    """Held-up counts from training labels: per party (the outlet kind), speaker, speaker-topic.

    Only (speaker, party, subjects, label) of the training rows are read. For a training row,
    ``leave_one_out`` removes that row's own verdict from every count it sees.
    """

    def __init__(
        self,
        training: Sequence[LiarRow],
        *,
        kind_prior_strength: float = DEFAULT_PRIOR_STRENGTH,
        outlet_prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    ) -> None:
        self.kind_prior_strength = kind_prior_strength
        self.outlet_prior_strength = outlet_prior_strength
        self.kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.outlet: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.topic: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for row in training:
            credit = _credit(row.label)
            for counts in (
                self.kind[row.party],
                self.outlet[row.speaker],
                *(self.topic[(row.speaker, subject)] for subject in row.subjects),
            ):
                counts[0] += credit
                counts[1] += 1.0 - credit
        self.global_mean = global_mean([(s, f) for s, f in self.kind.values()])

    def _counts(
        self, table: Mapping[Any, list[float]], key: Any, own: float | None
    ) -> tuple[float, float]:
        successes, failures = table.get(key, (0.0, 0.0))
        if own is not None:
            successes -= own
            failures -= 1.0 - own
        return max(0.0, successes), max(0.0, failures)

    def records(
        self, row: LiarRow, *, leave_one_out: bool
    ) -> tuple[Reliability, dict[str, Reliability]]:
        """The speaker's record and its per-subject records, as known without this row."""
        own = _credit(row.label) if leave_one_out else None
        kind_s, kind_f = self._counts(self.kind, row.party, own)
        kind_mean = shrunk_mean(kind_s, kind_f, self.global_mean, self.kind_prior_strength)
        s, f = self._counts(self.outlet, row.speaker, own)
        outlet = posterior(s, f, kind_mean, self.outlet_prior_strength)
        topics: dict[str, Reliability] = {}
        for subject in row.subjects:
            ts, tf = self._counts(self.topic, (row.speaker, subject), own)
            if ts + tf > 0:
                topics[subject] = posterior(ts, tf, outlet.mean, self.outlet_prior_strength)
        return outlet, topics


def _check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(fields)
    leaky = [name for name in chosen if name in LEAKY_FIELDS or "count" in name]
    if leaky:
        raise LeakageError(
            f"refusing metadata field(s) {leaky}: LIAR's credit-history counts include the "
            "statement's own label"
        )
    unknown = [name for name in chosen if name not in SAFE_FIELDS]
    if unknown:
        raise ValueError(f"unknown metadata field(s) {unknown}; allowed: {sorted(SAFE_FIELDS)}")
    return chosen


def build_contexts(
    rows: Sequence[LiarRow],
    records: TrackRecords,
    *,
    leave_one_out: bool,
    metadata_fields: Iterable[str] = METADATA_FIELDS,
) -> list[ClaimContext]:
    """Claim contexts for LIAR rows: speaker as outlet, party as outlet kind, subjects as topics."""
    fields = _check_fields(metadata_fields)
    contexts: list[ClaimContext] = []
    for row in rows:
        outlet, topics = records.records(row, leave_one_out=leave_one_out)
        contexts.append(
            ClaimContext(
                text=row.statement,
                outlet=row.speaker,
                outlet_kind=row.party or None,
                topics=row.subjects,
                outlet_record=outlet,
                topic_records=topics,
                metadata={name: str(getattr(row, name)) for name in fields},
            )
        )
    return contexts


def _count_derived(rows: Sequence[LiarRow]) -> dict[str, np.ndarray]:
    """Quantities computed from the leaky counts; the only reader of ``leaky_credit_counts``."""
    counts = np.array([row.leaky_credit_counts for row in rows], dtype=float)
    total = counts.sum(axis=1)
    safe_total = np.where(total > 0, total, 1.0)
    derived = {f"{name} count": counts[:, i] for i, name in enumerate(COUNT_COLUMNS)}
    derived.update(
        {f"{name} share": counts[:, i] / safe_total for i, name in enumerate(COUNT_COLUMNS)}
    )
    # LIAR has no "true" column: half-true and mostly-true are the held-up part it records.
    held = counts[:, 2] + counts[:, 3]
    derived["held-up share"] = held / safe_total
    # The same rate smoothed toward one half, as a track record built from the counts would be.
    for strength in LEAKAGE_SMOOTHING:
        derived[f"held-up rate smoothed by {strength:g}"] = (held + strength / 2) / (
            total + strength
        )
    return derived


def _standard_ranks(values: np.ndarray) -> np.ndarray:
    ranks = rankdata(values)
    centred: np.ndarray = (ranks - ranks.mean()) / ranks.std()
    return centred


def check_no_count_leakage(
    contexts: Sequence[ClaimContext],
    rows: Sequence[LiarRow],
    *,
    threshold: float = LEAKAGE_CORRELATION,
    extra: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Raise ``LeakageError`` if any numeric feature tracks a count-derived quantity.

    Every numeric feature column of the contexts, and every ``extra`` column (such as the
    model's out-of-fold history columns), is compared (Spearman rank correlation) with each
    count, each count's share of the speaker's total and the held-up share.
    """
    if len(contexts) != len(rows):
        raise ValueError("contexts and rows differ in length")
    features = np.array([featurize(context).numeric for context in contexts], dtype=float)
    columns = {name: features[:, j] for j, name in enumerate(NUMERIC_FEATURE_NAMES)}
    for name, values in (extra or {}).items():
        if len(values) != len(rows):
            raise ValueError(f"extra column {name!r} differs in length from the rows")
        columns[name] = np.asarray(values, dtype=float)
    # Spearman's rho is Pearson's correlation of (average) ranks: rank every column once.
    derived = {
        source: _standard_ranks(values)
        for source, values in _count_derived(rows).items()
        if np.ptp(values) > 0
    }
    for name, column in columns.items():
        if np.ptp(column) == 0:
            continue
        ranks = _standard_ranks(column)
        for source, values in derived.items():
            rho = float(np.mean(ranks * values))
            if abs(rho) > threshold:
                raise LeakageError(
                    f"feature {name!r} has rank correlation {rho:.3f} with the {source} from "
                    "LIAR's credit-history columns, which include the statement's own label"
                )


def _holds_up(rows: Sequence[LiarRow]) -> np.ndarray:
    return np.array([_credit(row.label) for row in rows])


def _encode(rows: Sequence[LiarRow]) -> np.ndarray:
    index = {label: i for i, label in enumerate(LIAR_LABELS)}
    return np.array([index[row.label] for row in rows], dtype=np.intp)


def _summary(y: np.ndarray, proba: np.ndarray, held: np.ndarray, p: np.ndarray) -> dict[str, float]:
    six = multiclass_metrics(y, proba, n_classes=len(LIAR_LABELS))
    binary = binary_metrics(held, p)
    return {
        "six_way_accuracy": six["accuracy"],
        "six_way_macro_f1": six["macro_f1"],
        "binary_accuracy": binary["binary_accuracy"],
        "roc_auc": binary["roc_auc"],
        "brier": binary["brier"],
        "ece": binary["ece"],
    }


def evaluate(
    train: Sequence[LiarRow],
    test: Sequence[LiarRow],
    *,
    model_params: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Fit on ``train``, score ``test``: the model, the track record alone, the majority class."""
    say = progress or (lambda _message: None)
    records = TrackRecords(train)
    say(f"building contexts: {len(train)} training rows (leave-one-out), {len(test)} test rows")
    train_contexts = build_contexts(train, records, leave_one_out=True)
    test_contexts = build_contexts(test, records, leave_one_out=False)
    y_train, y_test = _encode(train), _encode(test)
    held_train, held_test = _holds_up(train), _holds_up(test)

    params = dict(LIAR_MODEL_PARAMS)
    params.update(model_params or {})
    model = ClaimModel(labels=LIAR_LABELS, holds_up=LIAR_HOLDS_UP, **params)
    extra: dict[str, np.ndarray] = {}
    if model.history:
        # The model's own label-history columns of the training rows, exactly as fit builds them.
        names, history = model.training_history(train_contexts, [row.label for row in train])
        extra = dict(zip(names, history.T, strict=True))
    check_no_count_leakage(train_contexts, train, extra=extra)
    say(f"fitting the claim model ({params})")
    model.fit(train_contexts, [row.label for row in train])
    say("scoring the test rows")
    results = {
        "model": _summary(
            y_test,
            model.predict_proba(test_contexts),
            held_test,
            model.predict_holds_up(test_contexts),
        )
    }

    # Track record alone: P(holds up) is the speaker's posterior mean; the six-way class comes
    # from a multinomial logistic regression on that posterior (mean, evidence) alone.
    def record_features(contexts: Sequence[ClaimContext]) -> np.ndarray:
        return np.array(
            [
                [c.outlet_record.mean, np.log1p(c.outlet_record.evidence)]
                for c in contexts
                if c.outlet_record is not None
            ]
        )

    six_way = LogisticRegression(max_iter=1000).fit(record_features(train_contexts), y_train)
    record_proba = np.zeros((len(test), len(LIAR_LABELS)))
    record_proba[:, six_way.classes_] = six_way.predict_proba(record_features(test_contexts))
    results["track_record_only"] = _summary(
        y_test, record_proba, held_test, record_features(test_contexts)[:, 0]
    )

    frequencies = np.bincount(y_train, minlength=len(LIAR_LABELS)) / len(y_train)
    results["majority"] = _summary(
        y_test,
        np.tile(frequencies, (len(test), 1)),
        held_test,
        np.full(len(test), held_train.mean()),
    )
    return results


def cross_validate(
    train: Sequence[LiarRow],
    *,
    folds: int = CV_FOLDS,
    model_params: Mapping[str, Any] | None = None,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """``evaluate`` on each of ``folds`` shuffled folds of the training rows, scored as a test
    file would be (track records from the fold's training part only); the mean of each metric
    over the folds, per method."""
    say = progress or (lambda _message: None)
    per_fold: list[dict[str, dict[str, float]]] = []
    for number, (fit, held) in enumerate(shuffled_folds(len(train), folds, random_state), 1):
        say(f"cross-validation fold {number} of {folds}")
        per_fold.append(
            evaluate(
                [train[i] for i in fit],
                [train[i] for i in held],
                model_params=model_params,
                progress=progress,
            )
        )
    return {
        method: {
            key: float(np.mean([result[method][key] for result in per_fold])) for key in METRIC_KEYS
        }
        for method in METHODS
    }


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``credscore eval liar``."""
    parser.add_argument("--train", required=True, type=Path, help="LIAR-format training file")
    parser.add_argument("--test", required=True, type=Path, help="LIAR-format file to score")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--cv-folds",
        type=int,
        default=CV_FOLDS,
        help=f"folds of the training file's cross-validation (default {CV_FOLDS}; 0: skip it)",
    )
    parser.add_argument(
        "--no-sign-constraints",
        action="store_true",
        help="fit P(holds up) without the directions a desk expects (to see what they cost)",
    )


def format_table(
    results: Mapping[str, Mapping[str, float]],
    train_cv: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """One row per metric; per method, the training file's cross-validated figure (``train
    CV``) beside the test file's."""
    width = max(len(key) for key in METRIC_KEYS)
    columns: list[tuple[str, Mapping[str, float]]] = []
    for method in METHODS:
        if train_cv is not None:
            columns.append((f"{method} CV", train_cv[method]))
        columns.append((f"{method} test" if train_cv is not None else method, results[method]))
    size = max(17, *(len(name) for name, _ in columns))
    lines = [f"{'metric':<{width}}  " + "  ".join(f"{name:>{size}}" for name, _ in columns)]
    for key in METRIC_KEYS:
        lines.append(
            f"{key:<{width}}  " + "  ".join(f"{values[key]:>{size}.4f}" for _, values in columns)
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print a table, or with ``--json`` one JSON object; progress to stderr."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    try:
        progress(f"loading {args.train} and {args.test}")
        train = load_liar(args.train)
        test = load_liar(args.test)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.cv_folds == 1 or args.cv_folds < 0 or args.cv_folds > len(train):
        print(f"error: --cv-folds must be 0 or between 2 and {len(train)}", file=sys.stderr)
        return 2
    params = dict(LIAR_MODEL_PARAMS)
    if args.no_sign_constraints:
        params["sign_constraints"] = False
    train_cv = None
    if args.cv_folds:
        train_cv = cross_validate(
            train, folds=args.cv_folds, model_params=params, progress=progress
        )
    progress("the test file, scored once")
    results: dict[str, Any] = dict(evaluate(train, test, model_params=params, progress=progress))
    seconds = time.perf_counter() - started
    if args.json:
        if train_cv is not None:
            results["train_cv"] = {**train_cv, "folds": args.cv_folds}
        results["params"] = params  # json writes the n-gram ranges (tuples) as arrays
        results["seconds"] = round(seconds, 3)
        print(json.dumps(results))
    else:
        print(format_table(results, train_cv))
        print(f"seconds: {seconds:.1f}")
    return 0
