"""Synthetic worlds with known structure, to check the reconciler where the answer is known.

Real data sets say how well the reconciler does, not why. Here every world is generated from a
known truth, known source accuracies and a known copying structure, so the estimate's accuracy
and the precision and recall of the detected dependencies can both be measured:

* ``independent``: sources of mixed quality, each finding its figures itself. Independent
  mistakes are not all different: wrong figures come from a small pool of plausible ones per
  item (a near miss, an outdated figure), so independent sources do sometimes agree on a wrong
  figure, as they do in reality.
* ``accurate``: few, very accurate sources with high coverage. They agree almost always, because
  they are right: the trap a dependence detector must not fall into.
* ``bad-cluster``: a cluster of sources copying one bad source outnumbers the independent
  sources on most items it covers; majority voting follows the cluster.
* ``good-copiers``: sources copying one good source. Discounting them must not cost accuracy.
* ``mixed``: several copy families of both kinds, varying copy rates and coverage.
* ``sparse``: many sources, two to six per item, a few copiers (like Wikipedia editors).
* ``outnumbered``: a poor source's copy group outnumbers good independent sources; weighting by
  accuracy without seeing the copying does worse here than a plain vote.
* ``dense``: few sources covering most items, a third of them independent, the rest in three
  large copy groups around originals of poor, fair and good accuracy (like flight-status sites).
* ``noisy-numeric``: continuous figures that independent sources report with their own noise
  and rounding, so "the same figure" means close, not equal; scored by mean absolute error.

A copier covers mostly the items its original covers and, on each, repeats the original's
figure with its copy rate (mistakes included), else reports on its own. Two sources are truly
dependent when one copies the other or both copy a common original. Dependence can only be seen
where sources co-report, so recall counts the true pairs that share at least
``MIN_COMMON_ITEMS`` items.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring.reconcile import ClaimTable, TruthDiscovery

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# A true dependence shows only where the two sources report on common items.
MIN_COMMON_ITEMS = 5
# A detected dependence: posterior probability above this.
DETECTION_THRESHOLD = 0.5


@dataclass(frozen=True)
class SourceSpec:
    """How one synthetic source behaves."""

    accuracy: float
    coverage: float
    original: int = -1  # the source it copies, -1: independent
    copy_rate: float = 0.0
    noise: float = 0.0  # relative standard deviation of its own figures (noisy worlds)


@dataclass(frozen=True)
class World:
    """A generated world: the claims, the truth per item and the true dependent source pairs."""

    name: str
    table: ClaimTable
    truth: FloatArray
    dependent_pairs: frozenset[tuple[int, int]]
    numeric_noise: bool = False
    specs: tuple[SourceSpec, ...] = field(default=())


def _family(specs: Sequence[SourceSpec]) -> IntArray:
    """The root original of each source (itself when independent)."""
    root = np.arange(len(specs), dtype=np.int64)
    for index in range(len(specs)):
        seen = {index}
        current = index
        while specs[current].original >= 0:
            current = specs[current].original
            if current in seen:
                raise ValueError("copying must not form a cycle")
            seen.add(current)
        root[index] = current
    return root


def generate(
    name: str,
    specs: Sequence[SourceSpec],
    n_items: int,
    seed: int,
    *,
    false_pool: int = 4,
    numeric_noise: bool = False,
) -> World:
    """Claims of ``specs`` sources about ``n_items`` items (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_sources = len(specs)
    truth = np.round(rng.lognormal(8.0, 1.5, n_items)) + 10.0
    # Plausible wrong figures per item, the first more popular than the rest.
    offsets = rng.choice([-0.09, -0.06, -0.03, 0.03, 0.06, 0.09, 0.5, -0.5], (n_items, false_pool))
    pool = np.round(truth[:, None] * (1.0 + offsets))
    pool = np.where(pool == truth[:, None], truth[:, None] + 1.0, pool)
    popularity = 1.0 / np.arange(1, false_pool + 1)
    popularity /= popularity.sum()
    given: dict[tuple[int, int], float] = {}
    covered = [
        np.flatnonzero(rng.random(n_items) < spec.coverage).tolist() if spec.original < 0 else []
        for spec in specs
    ]
    # Copiers after their originals, so the original's figure exists when it is copied.
    depth = [0] * n_sources
    for index, spec in enumerate(specs):
        current, steps = spec, 0
        while current.original >= 0:
            steps += 1
            current = specs[current.original]
        depth[index] = steps
    for index in sorted(range(n_sources), key=lambda i: depth[i]):
        spec = specs[index]
        if spec.original >= 0:
            theirs = np.asarray(covered[spec.original], dtype=np.int64)
            keep = theirs[rng.random(theirs.shape[0]) < min(1.0, spec.coverage * 4.0)]
            extra = np.flatnonzero(rng.random(n_items) < spec.coverage * 0.2)
            covered[index] = sorted(set(keep.tolist()) | set(extra.tolist()))
        for item in covered[index]:
            original_value = given.get((spec.original, item)) if spec.original >= 0 else None
            if original_value is not None and rng.random() < spec.copy_rate:
                value = original_value
            elif numeric_noise:
                noise = rng.normal(0.0, spec.noise) if rng.random() < spec.accuracy else 0.3
                value = float(np.round(truth[item] * (1.0 + noise), 1))
            elif rng.random() < spec.accuracy:
                value = float(truth[item])
            else:
                value = float(pool[item, rng.choice(false_pool, p=popularity)])
            given[(index, item)] = value
    items = np.asarray([item for _, item in given], dtype=np.int64)
    sources = np.asarray([source for source, _ in given], dtype=np.int64)
    values = np.asarray(list(given.values()), dtype=np.float64)
    order = np.lexsort((sources, items))
    table = ClaimTable(
        event=items[order],
        source=sources[order],
        low=values[order],
        high=values[order].copy(),
        copy_group=np.full(values.shape[0], -1, dtype=np.int64),
        party=np.zeros(values.shape[0], dtype=bool),
        events=tuple((f"item{i}", "reading" if numeric_noise else "count") for i in range(n_items)),
        sources=tuple(f"s{i}" for i in range(n_sources)),
        copy_groups=(),
        categorical_events=np.zeros(n_items, dtype=bool),
    )
    root = _family(specs)
    copiers = [i for i, spec in enumerate(specs) if spec.original >= 0 and spec.copy_rate > 0]
    pairs = set()
    for a in range(n_sources):
        for b in range(a + 1, n_sources):
            related = root[a] == root[b] and (a in copiers or b in copiers)
            if related:
                pairs.add((a, b))
    return World(
        name=name,
        table=table,
        truth=truth,
        dependent_pairs=frozenset(pairs),
        numeric_noise=numeric_noise,
        specs=tuple(specs),
    )


def _independents(
    rng: np.random.Generator, n: int, a: float, b: float, coverage: tuple[float, float]
) -> list[SourceSpec]:
    return [
        SourceSpec(accuracy=float(rng.beta(a, b)), coverage=float(rng.uniform(*coverage)))
        for _ in range(n)
    ]


def _copiers(
    rng: np.random.Generator, original: int, n: int, rate: tuple[float, float], coverage: float
) -> list[SourceSpec]:
    return [
        SourceSpec(
            accuracy=float(rng.beta(4.0, 2.0)),
            coverage=coverage,
            original=original,
            copy_rate=float(rng.uniform(*rate)),
        )
        for _ in range(n)
    ]


def world_independent(seed: int) -> World:
    rng = np.random.default_rng(seed)
    return generate("independent", _independents(rng, 40, 4.0, 2.0, (0.05, 0.4)), 1_000, seed)


def world_accurate(seed: int) -> World:
    rng = np.random.default_rng(seed)
    specs = _independents(rng, 12, 30.0, 1.5, (0.5, 0.9))
    return generate("accurate", specs, 1_000, seed)


def _one_copied_source(name: str, seed: int, original_accuracy: float) -> World:
    """Twenty independent sources, and one busy source with eight copiers."""
    rng = np.random.default_rng(seed)
    specs = _independents(rng, 20, 4.0, 2.0, (0.1, 0.4))
    original = len(specs)
    specs.append(SourceSpec(accuracy=original_accuracy, coverage=0.8))
    specs += _copiers(rng, original, 8, (0.8, 1.0), 0.2)
    return generate(name, specs, 1_000, seed)


def world_bad_cluster(seed: int) -> World:
    return _one_copied_source("bad-cluster", seed, 0.3)


def world_good_copiers(seed: int) -> World:
    return _one_copied_source("good-copiers", seed, 0.92)


def world_mixed(seed: int) -> World:
    rng = np.random.default_rng(seed)
    specs = _independents(rng, 30, 4.0, 2.0, (0.05, 0.5))
    for accuracy, n_copiers, rate in ((0.35, 6, (0.5, 0.95)), (0.5, 4, (0.6, 1.0))):
        original = len(specs)
        specs.append(SourceSpec(accuracy=accuracy, coverage=float(rng.uniform(0.5, 0.9))))
        specs += _copiers(rng, original, n_copiers, rate, float(rng.uniform(0.1, 0.25)))
    original = len(specs)
    specs.append(SourceSpec(accuracy=0.9, coverage=0.7))
    specs += _copiers(rng, original, 5, (0.5, 1.0), 0.2)
    # A copier of a copier: dependence is transitive within a family.
    specs.append(SourceSpec(accuracy=0.6, coverage=0.15, original=original + 1, copy_rate=0.9))
    return generate("mixed", specs, 1_500, seed)


def world_sparse(seed: int) -> World:
    rng = np.random.default_rng(seed)
    specs = _independents(rng, 400, 4.0, 1.5, (0.003, 0.03))
    for _ in range(10):
        original = int(rng.integers(0, 400))
        specs += _copiers(rng, original, 1, (0.7, 1.0), 0.01)
    return generate("sparse", specs, 2_000, seed)


def world_outnumbered(seed: int) -> World:
    """A poor source's copy group outnumbers good independent sources on every item it covers.

    The regime where weighting sources by a learned accuracy, blind to copying, does worse than a
    plain vote: the copiers agree with each other, so they look accurate and win even the items
    where few of them report.
    """
    rng = np.random.default_rng(seed)
    specs = _independents(rng, 10, 8.0, 2.0, (0.5, 0.9))
    original = len(specs)
    specs.append(SourceSpec(accuracy=0.6, coverage=0.95))
    specs += _copiers(rng, original, 12, (0.9, 1.0), 0.12)
    return generate("outnumbered", specs, 1_000, seed)


def world_dense(seed: int) -> World:
    """Few sources covering most items, with large copy groups (like flight-status sites)."""
    rng = np.random.default_rng(seed)
    specs = _independents(rng, 14, 6.0, 2.0, (0.5, 1.0))
    for accuracy, n_copiers in ((0.55, 9), (0.7, 6), (0.9, 4)):
        original = len(specs)
        specs.append(SourceSpec(accuracy=accuracy, coverage=float(rng.uniform(0.8, 1.0))))
        specs += _copiers(rng, original, n_copiers, (0.85, 1.0), float(rng.uniform(0.15, 0.25)))
    return generate("dense", specs, 1_200, seed)


def world_noisy_numeric(seed: int) -> World:
    rng = np.random.default_rng(seed)
    specs = [
        SourceSpec(
            accuracy=float(rng.beta(8.0, 1.5)),
            coverage=float(rng.uniform(0.2, 0.6)),
            noise=float(rng.uniform(0.002, 0.02)),
        )
        for _ in range(25)
    ]
    bad = len(specs)
    specs.append(SourceSpec(accuracy=0.5, coverage=0.8, noise=0.05))
    specs += [
        SourceSpec(accuracy=0.7, coverage=0.2, original=bad, copy_rate=0.9, noise=0.01)
        for _ in range(6)
    ]
    return generate("noisy-numeric", specs, 1_000, seed, numeric_noise=True)


WORLDS: dict[str, Callable[[int], World]] = {
    "independent": world_independent,
    "accurate": world_accurate,
    "bad-cluster": world_bad_cluster,
    "good-copiers": world_good_copiers,
    "mixed": world_mixed,
    "sparse": world_sparse,
    "dense": world_dense,
    "outnumbered": world_outnumbered,
    "noisy-numeric": world_noisy_numeric,
}


def majority_estimates(table: ClaimTable) -> FloatArray:
    """The most frequent figure per event (ties to the lowest); NaN where an event has none."""
    point = (table.low + table.high) / 2.0
    order = np.lexsort((point, table.event))
    event = table.event[order]
    value = point[order]
    new = np.ones(event.shape[0], dtype=bool)
    new[1:] = (event[1:] != event[:-1]) | (value[1:] != value[:-1])
    candidate = np.cumsum(new) - 1
    counts = np.bincount(candidate)
    candidate_event = event[new]
    candidate_value = value[new]
    best = np.lexsort((candidate_value, -counts, candidate_event))
    first = np.ones(best.shape[0], dtype=bool)
    first[1:] = candidate_event[best[1:]] != candidate_event[best[:-1]]
    estimates = np.full(len(table.events), np.nan)
    estimates[candidate_event[best[first]]] = candidate_value[best[first]]
    return estimates


def _accuracy(world: World, estimates: FloatArray, present: npt.NDArray[np.bool_]) -> float:
    if world.numeric_noise:
        return float(np.mean(np.abs(estimates[present] - world.truth[present])))
    return float(np.mean(estimates[present] == world.truth[present]))


def score_world(world: World, estimator: TruthDiscovery | None = None) -> dict[str, Any]:
    """Fit on one world; estimate quality, majority voting's and the dependence P/R."""
    started = time.perf_counter()
    model = (estimator or TruthDiscovery()).fit(world.table)
    seconds = time.perf_counter() - started
    present = model.has_claims_
    common = _common_items(world.table)
    visible = {pair for pair in world.dependent_pairs if common.get(pair, 0) >= MIN_COMMON_ITEMS}
    code = {name: index for index, name in enumerate(world.table.sources)}
    detected_codes = set()
    for found in model.dependencies(DETECTION_THRESHOLD):
        a, b = code[found.first], code[found.second]
        detected_codes.add((min(a, b), max(a, b)))
    true_positive = len(detected_codes & world.dependent_pairs)
    metric = "mae" if world.numeric_noise else "exact"
    blind = TruthDiscovery(dependence_prior=0.0).fit(world.table)
    return {
        "world": world.name,
        "items": int(present.sum()),
        "sources": len(world.table.sources),
        "claims": world.table.n_claims,
        "metric": metric,
        "credscore": _accuracy(world, model.estimates_, present),
        "no_dependence": _accuracy(world, blind.estimates_, present),
        "majority": _accuracy(world, majority_estimates(world.table), present),
        "true_pairs": len(visible),
        "detected_pairs": len(detected_codes),
        "precision": true_positive / len(detected_codes) if detected_codes else 1.0,
        "recall": len(detected_codes & visible) / len(visible) if visible else 1.0,
        "seconds": seconds,
    }


def _common_items(table: ClaimTable) -> dict[tuple[int, int], int]:
    """Items each pair of sources both report on."""
    by_event: dict[int, list[int]] = {}
    for event, source in zip(table.event.tolist(), table.source.tolist(), strict=True):
        by_event.setdefault(event, []).append(source)
    common: dict[tuple[int, int], int] = {}
    for members in by_event.values():
        unique = sorted(set(members))
        for i, a in enumerate(unique):
            for b in unique[i + 1 :]:
                common[(a, b)] = common.get((a, b), 0) + 1
    return common


# -- command line --------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of `credscore eval synthetic`."""
    parser.add_argument(
        "--world",
        choices=sorted(WORLDS),
        action="append",
        help="world(s) to run (default: all)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per world (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Generate each world for each seed, fit, and print the mean figures per world."""
    names = args.world or list(WORLDS)
    rows = []
    for name in names:
        results = []
        for seed in range(args.seeds):
            print(f"{name}: seed {seed + 1}/{args.seeds}", file=sys.stderr, flush=True)
            results.append(score_world(WORLDS[name](seed)))
        row: dict[str, Any] = {"world": name, "metric": results[0]["metric"], "seeds": args.seeds}
        for key in (
            "items",
            "sources",
            "claims",
            "credscore",
            "no_dependence",
            "majority",
            "true_pairs",
            "detected_pairs",
            "precision",
            "recall",
            "seconds",
        ):
            row[key] = float(np.mean([result[key] for result in results]))
        rows.append(row)
    if args.json:
        print(json.dumps({"worlds": rows}, sort_keys=True))
        return 0
    header = (
        f"{'world':<15}{'metric':>7}{'credscore':>11}{'no dep.':>9}{'majority':>10}"
        f"{'dep pairs':>11}{'found':>7}{'precision':>11}{'recall':>8}{'seconds':>9}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['world']:<15}{row['metric']:>7}{row['credscore']:>11.3f}"
            f"{row['no_dependence']:>9.3f}{row['majority']:>10.3f}"
            f"{row['true_pairs']:>11.1f}{row['detected_pairs']:>7.1f}{row['precision']:>11.3f}"
            f"{row['recall']:>8.3f}{row['seconds']:>9.2f}"
        )
    print(
        f"means over {args.seeds} seed(s); exact: share of items right, mae: mean absolute "
        "error; no dep.: credscore with dependence detection off; dep pairs: truly dependent "
        f"pairs sharing >= {MIN_COMMON_ITEMS} items; found: pairs with P(dependent) > "
        f"{DETECTION_THRESHOLD}"
    )
    return 0
