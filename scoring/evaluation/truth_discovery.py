"""Evaluation of the reconciler on public truth-discovery data sets with gold truth.

Two data sets (see ../shared/data/README.md):

* population: Wikipedia city-population edits (Pasternack & Roth 2010). Every (city, property) is
  one event; editors are sources learned across all events. Scored on the gold items that have
  claims: exact match, share with relative error over 1%, mean absolute error per property.
* book: book authors listed by online bookstores (Yin et al. 2007). Each store's author string is
  normalised to a set of surnames, and that set is one categorical answer. The same normalisation
  feeds majority voting and a re-implementation of TruthFinder, so the comparison is in-process
  and fair.

The estimator never sees the truth files: they are read only to score its output.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import math
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring.reconcile import ClaimTable, TruthDiscovery

RELATIVE_ERROR_THRESHOLD = 0.01
MISSING_AUTHOR_MARKERS = frozenset({"not available", "none", "n a", "na", "unknown", "various"})


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- population ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PopulationData:
    """Numeric claims keyed by (object, property), and gold values where known."""

    table: ClaimTable
    truth: dict[tuple[str, str], float]
    skipped_rows: int

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        return self.table.events  # type: ignore[return-value]


def _parse_number(text: str) -> float | None:
    cleaned = text.strip().replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_time(text: str | None) -> float | None:
    """A TimeStamp as seconds: a number, or an ISO 8601 date-time; None when absent."""
    if not text or text.strip().lower() in {"", "null", "none", "nan"}:
        return None
    number = _parse_number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def load_population_claims(paths: Sequence[Path | str]) -> tuple[ClaimTable, int]:
    """Read claims CSVs (ObjectID, PropertyID, PropertyValue, SourceID, TimeStamp).

    Rows whose value is not a number are skipped and counted: a claim that cannot be read is not
    evidence either way. Each PropertyID is a property (its tolerance is learned apart). Where
    rows carry a TimeStamp, a source's latest value for an item is its report and its earlier
    ones are superseded, as in the service.
    """
    events: dict[tuple[str, str], int] = {}
    properties: dict[str, int] = {}
    event_property: list[int] = []
    sources: dict[str, int] = {}
    event_codes: list[int] = []
    source_codes: list[int] = []
    values: list[float] = []
    times: list[float | None] = []
    skipped = 0
    for path in paths:
        with Path(path).open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.DictReader(handle)
            required = {"ObjectID", "PropertyID", "PropertyValue", "SourceID"}
            if reader.fieldnames is None or not required <= set(reader.fieldnames):
                raise ValueError(f"{path}: expected columns {sorted(required)}")
            for row in reader:
                value = _parse_number(row["PropertyValue"] or "")
                if value is None:
                    skipped += 1
                    continue
                key = (row["ObjectID"], row["PropertyID"])
                if key not in events:
                    events[key] = len(events)
                    event_property.append(properties.setdefault(row["PropertyID"], len(properties)))
                event_codes.append(events[key])
                source_codes.append(sources.setdefault(row["SourceID"], len(sources)))
                values.append(value)
                times.append(_parse_time(row.get("TimeStamp")))
    n = len(values)
    known = [t for t in times if t is not None]
    time = None
    if known:
        # Undated rows count as older than every dated one.
        floor = min(known) - 1.0
        time = np.asarray([floor if t is None else t for t in times], dtype=np.float64)
    array = np.asarray(values, dtype=np.float64)
    table = ClaimTable(
        event=np.asarray(event_codes, dtype=np.int64),
        source=np.asarray(source_codes, dtype=np.int64),
        low=array,
        high=array.copy(),
        copy_group=np.full(n, -1, dtype=np.int64),
        party=np.zeros(n, dtype=bool),
        events=tuple(events),
        sources=tuple(sources),
        copy_groups=(),
        categorical_events=np.zeros(len(events), dtype=bool),
        event_property=np.asarray(event_property, dtype=np.int64),
        properties=tuple(properties),
        time=time,
    )
    return table, skipped


def load_population_truth(path: Path | str) -> dict[tuple[str, str], float]:
    """Read a truth CSV (ObjectID, PropertyID, PropertyValue)."""
    truth: dict[tuple[str, str], float] = {}
    with Path(path).open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        required = {"ObjectID", "PropertyID", "PropertyValue"}
        if reader.fieldnames is None or not required <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected columns {sorted(required)}")
        for row in reader:
            value = _parse_number(row["PropertyValue"] or "")
            if value is not None:
                truth[(row["ObjectID"], row["PropertyID"])] = value
    return truth


def score_numeric(
    estimates: Mapping[tuple[str, str], float], truth: Mapping[tuple[str, str], float]
) -> dict[str, Any]:
    """Exact match, share with relative error over 1% and MAE per property, over gold items with
    an estimate."""
    keys = [key for key in truth if key in estimates]
    if not keys:
        return {"items": 0, "exact": 0.0, "err_gt_1pct": 0.0, "mae": {}}
    chosen = np.array([estimates[key] for key in keys])
    gold = np.array([truth[key] for key in keys])
    error = np.abs(chosen - gold)
    relative = np.divide(error, np.abs(gold), out=np.where(error > 0, np.inf, 0.0), where=gold != 0)
    by_property: dict[str, list[float]] = defaultdict(list)
    for key, err in zip(keys, error.tolist(), strict=True):
        by_property[key[1]].append(err)
    return {
        "items": len(keys),
        "exact": float(np.mean(chosen == gold)),
        "err_gt_1pct": float(np.mean(relative > RELATIVE_ERROR_THRESHOLD)),
        "mae": {prop: float(np.mean(errs)) for prop, errs in sorted(by_property.items())},
    }


def evaluate_population(
    claim_paths: Sequence[Path | str],
    truth_path: Path | str,
    estimator: TruthDiscovery | None = None,
) -> dict[str, Any]:
    """Fit across every (object, property) and score the gold items that have claims."""
    started = time.perf_counter()
    _progress(f"loading claims from {len(claim_paths)} file(s)")
    table, skipped = load_population_claims(claim_paths)
    truth = load_population_truth(truth_path)
    _progress(
        f"fitting on {table.n_claims} claims, {len(table.events)} items, "
        f"{len(table.sources)} sources"
    )
    model = (estimator or TruthDiscovery()).fit(table)
    estimates = {
        key: float(value)
        for key, value, present in zip(
            table.events, model.estimates_, model.has_claims_, strict=True
        )
        if present
    }
    result = score_numeric(estimates, truth)  # type: ignore[arg-type]
    result["seconds"] = time.perf_counter() - started
    result["claims"] = table.n_claims
    result["skipped_rows"] = skipped
    return result


# -- book ----------------------------------------------------------------------------------------

# A parenthesised note ("(Author)", "(Editor)") ends a name: some stores use nothing else to
# separate authors.
_NOTE = re.compile(r"\([^)]*\)")
_ROLE = re.compile(
    r"\b(?:editors?|eds?|edited by|translator|translated by|foreword by|"
    r"introduction by|illustrator|compiler|author|contributor)\b\.?",
    re.IGNORECASE,
)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "dr", "prof", "mr", "mrs", "ms"})
_AUTHOR_SEPARATORS = re.compile(r";|/|\||&|\band\b|\bwith\b", re.IGNORECASE)


def _fold(text: str) -> str:
    """Lower case, accents and punctuation dropped: "O'Leary" and "OLEARY" are one surname, and
    so are "Ben-Ari" and "BenAri"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z ]+", "", text.lower()).strip()


def _surname(name: str, *, last_first: bool) -> str | None:
    words = [w for w in _fold(name).split() if w not in _SUFFIXES]
    words = [w for w in words if len(w) > 1 or not last_first]
    if not words:
        return None
    if last_first:
        return words[0]
    # "First M. Last": initials (single letters) never make a surname.
    long_words = [w for w in words if len(w) > 1]
    return (long_words or words)[-1]


def normalise_authors(text: str) -> frozenset[str]:
    """Author string -> set of normalised surnames; empty when the store gave no authors.

    Handles "Last, First; Last, First", "First Last, First Last", "Last, First, And Last, First",
    "/" "|" "&" separators, HTML entities and role notes. Only surnames are kept, because stores
    abbreviate, expand and misspell given names far more than surnames.
    """
    cleaned = html.unescape(html.unescape(text)).replace("andapos;", "'")
    cleaned = _ROLE.sub(" ", _NOTE.sub(";", cleaned))
    if _fold(cleaned) in MISSING_AUTHOR_MARKERS or not _fold(cleaned):
        return frozenset()
    surnames: set[str] = set()
    for chunk in _AUTHOR_SEPARATORS.split(cleaned):
        parts = [p.strip() for p in chunk.split(",") if _fold(p)]
        if not parts:
            continue
        if len(parts) == 1:
            surname = _surname(parts[0], last_first=False)
            if surname:
                surnames.add(surname)
            continue
        # "Last, First[, Last, First...]" when the first part is one word; otherwise a list of
        # "First Last" names separated by commas.
        if len(_fold(parts[0]).split()) == 1:
            for index in range(0, len(parts), 2):
                surname = _surname(parts[index], last_first=True)
                if surname:
                    surnames.add(surname)
        else:
            for part in parts:
                surname = _surname(part, last_first=False)
                if surname:
                    surnames.add(surname)
    surnames -= MISSING_AUTHOR_MARKERS
    return frozenset(surnames)


def author_key(authors: frozenset[str]) -> str:
    return ";".join(sorted(authors))


@dataclass(frozen=True)
class BookData:
    """Per (store, ISBN) the normalised author set; gold author sets by ISBN."""

    claims: list[tuple[str, str, frozenset[str]]]  # (source, isbn, authors)
    truth: dict[str, frozenset[str]]
    empty_claims: int


def load_book_claims(path: Path | str) -> tuple[list[tuple[str, str, frozenset[str]]], int]:
    """Read book.txt (source TAB isbn TAB title TAB authors); drop claims with no authors.

    A store listing the same book twice with the same authors says it once.
    """
    claims: list[tuple[str, str, frozenset[str]]] = []
    seen: set[tuple[str, str, frozenset[str]]] = set()
    empty = 0
    with Path(path).open(encoding="latin-1") as handle:
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 4:
                continue
            source, isbn, authors = fields[0].strip(), fields[1].strip(), fields[3]
            names = normalise_authors(authors)
            if not names:
                empty += 1
                continue
            claim = (source, isbn, names)
            if claim not in seen:
                seen.add(claim)
                claims.append(claim)
    return claims, empty


def load_book_truth(path: Path | str) -> dict[str, frozenset[str]]:
    """Read book_golden.txt: ISBN TAB authors separated by ';', blank lines between."""
    truth: dict[str, frozenset[str]] = {}
    with Path(path).open(encoding="latin-1") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if not line.strip() or "\t" not in line:
                continue
            isbn, authors = line.split("\t", 1)
            surnames = set()
            for name in authors.split(";"):
                if _fold(name):
                    surname = _surname(name.split(",")[0], last_first=True)
                    if surname:
                        surnames.add(surname)
            truth[isbn.strip()] = frozenset(surnames)
    return truth


def book_table(claims: Sequence[tuple[str, str, frozenset[str]]]) -> ClaimTable:
    """Book claims as categorical events: one per ISBN, the author-set key as the answer."""
    events: dict[str, int] = {}
    sources: dict[str, int] = {}
    categories: dict[str, int] = {}
    event_codes = [events.setdefault(isbn, len(events)) for _, isbn, _ in claims]
    source_codes = [sources.setdefault(source, len(sources)) for source, _, _ in claims]
    codes = np.asarray(
        [categories.setdefault(author_key(a), len(categories)) for _, _, a in claims],
        dtype=np.float64,
    )
    n = len(claims)
    return ClaimTable(
        event=np.asarray(event_codes, dtype=np.int64),
        source=np.asarray(source_codes, dtype=np.int64),
        low=codes,
        high=codes.copy(),
        copy_group=np.full(n, -1, dtype=np.int64),
        party=np.zeros(n, dtype=bool),
        events=tuple(events),
        sources=tuple(sources),
        copy_groups=(),
        categorical_events=np.ones(len(events), dtype=bool),
        categories=tuple(categories),
    )


def majority_vote(claims: Iterable[tuple[str, str, frozenset[str]]]) -> dict[str, frozenset[str]]:
    """Most frequent author set per ISBN; ties to the lexicographically first key."""
    counts: dict[str, Counter[frozenset[str]]] = defaultdict(Counter)
    for _, isbn, authors in claims:
        counts[isbn][authors] += 1
    return {
        isbn: min(counter.items(), key=lambda item: (-item[1], author_key(item[0])))[0]
        for isbn, counter in counts.items()
    }


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def truthfinder(
    claims: Sequence[tuple[str, str, frozenset[str]]],
    *,
    initial_trust: float = 0.9,
    dampening: float = 0.3,
    implication_weight: float = 0.5,
    base_similarity: float = 0.5,
    max_iter: int = 20,
    tol: float = 1e-6,
) -> dict[str, frozenset[str]]:
    """TruthFinder (Yin, Han and Yu, KDD 2007) with the paper's defaults.

    Trust score tau(w) = -ln(1 - t(w)); fact score sigma(f) = sum of its sources' tau; adjusted
    by implication from the other facts of the same object, imp(f' -> f) = sim(f', f) - base_sim
    with Jaccard similarity of the author sets; confidence s(f) = 1 / (1 + exp(-gamma sigma*(f)));
    t(w) = mean confidence of w's facts. Iterate until trust stops changing.
    """
    facts: dict[tuple[str, frozenset[str]], int] = {}
    fact_list: list[tuple[str, frozenset[str]]] = []
    claim_fact: list[int] = []
    source_index: dict[str, int] = {}
    claim_source: list[int] = []
    for source, isbn, authors in claims:
        key = (isbn, authors)
        if key not in facts:
            facts[key] = len(fact_list)
            fact_list.append(key)
        claim_fact.append(facts[key])
        claim_source.append(source_index.setdefault(source, len(source_index)))
    n_facts = len(fact_list)
    fact_of_claim = np.asarray(claim_fact, dtype=np.int64)
    source_of_claim = np.asarray(claim_source, dtype=np.int64)
    by_object: dict[str, list[int]] = defaultdict(list)
    for index, (isbn, _) in enumerate(fact_list):
        by_object[isbn].append(index)
    rows: list[int] = []
    cols: list[int] = []
    weights: list[float] = []
    for members in by_object.values():
        for i in members:
            for j in members:
                if i != j:
                    rows.append(i)
                    cols.append(j)
                    weights.append(_jaccard(fact_list[i][1], fact_list[j][1]) - base_similarity)
    imp_target = np.asarray(rows, dtype=np.int64)
    imp_from = np.asarray(cols, dtype=np.int64)
    imp_weight = np.asarray(weights, dtype=np.float64)
    n_sources = len(source_index)
    claims_per_source = np.bincount(source_of_claim, minlength=n_sources)
    trust: npt.NDArray[np.float64] = np.full(n_sources, initial_trust)
    confidence: npt.NDArray[np.float64] = np.zeros(n_facts)
    for _ in range(max_iter):
        tau = -np.log(np.clip(1.0 - trust, 1e-12, None))
        sigma = np.bincount(fact_of_claim, tau[source_of_claim], minlength=n_facts)
        adjusted = sigma + implication_weight * np.bincount(
            imp_target, imp_weight * sigma[imp_from], minlength=n_facts
        )
        confidence = 1.0 / (1.0 + np.exp(-dampening * adjusted))
        summed = np.bincount(source_of_claim, confidence[fact_of_claim], minlength=n_sources)
        new_trust = summed / np.maximum(claims_per_source, 1).astype(np.float64)
        change = float(np.max(np.abs(new_trust - trust), initial=0.0))
        trust = new_trust
        if change < tol:
            break
    best: dict[str, tuple[float, str, frozenset[str]]] = {}
    for index, (isbn, authors) in enumerate(fact_list):
        candidate = (-float(confidence[index]), author_key(authors), authors)
        if isbn not in best or candidate[:2] < best[isbn][:2]:
            best[isbn] = candidate
    return {isbn: entry[2] for isbn, entry in best.items()}


def book_accuracy(
    chosen: Mapping[str, frozenset[str]], truth: Mapping[str, frozenset[str]]
) -> tuple[float, int]:
    """Share of gold books (with claims) whose chosen author set equals the gold set."""
    keys = [isbn for isbn in truth if isbn in chosen]
    if not keys:
        return 0.0, 0
    return float(np.mean([chosen[isbn] == truth[isbn] for isbn in keys])), len(keys)


def evaluate_book(
    claims_path: Path | str,
    truth_path: Path | str,
    estimator: TruthDiscovery | None = None,
) -> dict[str, Any]:
    """Author-list accuracy of credscore, majority voting and TruthFinder on one normalisation."""
    started = time.perf_counter()
    _progress("loading and normalising book claims")
    claims, empty = load_book_claims(claims_path)
    truth = load_book_truth(truth_path)
    _progress(f"fitting on {len(claims)} claims")
    fit_started = time.perf_counter()
    table = book_table(claims)
    model = (estimator or TruthDiscovery()).fit(table)
    credscore_seconds = time.perf_counter() - fit_started
    by_key = {author_key(a): a for _, _, a in claims}
    ours = {
        isbn: by_key[table.categories[int(code)]]
        for isbn, code, present in zip(
            table.events, model.estimates_, model.has_claims_, strict=True
        )
        if present
    }
    accuracy, items = book_accuracy(ours, truth)  # type: ignore[arg-type]
    majority, _ = book_accuracy(majority_vote(claims), truth)
    _progress("running TruthFinder")
    tf_started = time.perf_counter()
    tf, _ = book_accuracy(truthfinder(claims), truth)
    tf_seconds = time.perf_counter() - tf_started
    return {
        "items": items,
        "accuracy": accuracy,
        "majority_accuracy": majority,
        "truthfinder_accuracy": tf,
        "claims": len(claims),
        "empty_claims": empty,
        "fit_seconds": credscore_seconds,
        "truthfinder_seconds": tf_seconds,
        "seconds": time.perf_counter() - started,
    }


# -- command line --------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of `credscore eval truth-discovery`."""
    parser.add_argument(
        "--claims",
        nargs="+",
        required=True,
        type=Path,
        metavar="FILE",
        help="claims CSV file(s) (ObjectID, PropertyID, PropertyValue, SourceID, TimeStamp); "
        "with --book, book.txt",
    )
    parser.add_argument(
        "--truth",
        required=True,
        type=Path,
        metavar="FILE",
        help="truth CSV (ObjectID, PropertyID, PropertyValue); with --book, book_golden.txt",
    )
    parser.add_argument(
        "--book",
        action="store_true",
        help="book-author mode: categorical author lists, compared with majority voting and "
        "TruthFinder",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Run the evaluation the arguments ask for; 0 on success, 2 on unreadable input."""
    try:
        if args.book:
            if len(args.claims) != 1:
                print("--book takes exactly one claims file (book.txt)", file=sys.stderr)
                return 2
            result = evaluate_book(args.claims[0], args.truth)
        else:
            result = evaluate_population(args.claims, args.truth)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    if args.book:
        print(f"gold books with claims  {result['items']}")
        print(f"{'method':<22}{'accuracy':>10}")
        print(f"{'credscore':<22}{result['accuracy']:>10.3f}")
        print(f"{'majority voting':<22}{result['majority_accuracy']:>10.3f}")
        print(f"{'TruthFinder':<22}{result['truthfinder_accuracy']:>10.3f}")
        print(f"claims {result['claims']} (dropped without authors: {result['empty_claims']})")
        print(f"seconds {result['seconds']:.2f}")
        return 0
    print(f"gold items with claims  {result['items']}")
    print(f"exact match             {result['exact']:.3f}")
    print(f"error over 1%           {result['err_gt_1pct']:.3f}")
    for prop, mae in result["mae"].items():
        print(f"MAE {prop:<19} {mae:,.1f}")
    print(f"claims {result['claims']} (skipped unreadable: {result['skipped_rows']})")
    print(f"seconds {result['seconds']:.2f}")
    return 0
