"""credscore's reconciler beside the PyPI package truthdiscovery 1.0.4, on population and book.

truthdiscovery is GPL-3.0, so it is never imported here: its algorithms run in the throw-away
virtual environment made by ../shared/tools/truthdiscovery-peer, as a subprocess that reads the
claims as JSON and writes back the chosen value per item. Both sides get the same claims (for book
the same normalised author sets) and are scored by the same code. Prints accuracy and time for
each and the ratios against credscore.

Usage: .venv/bin/python bench/truth_discovery_peer.py [--data DIR] [--peer-python PY]
       [--claims FILE... --truth FILE] [--synthetic SEEDS]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scoring.evaluation.synthetic import WORLDS
from scoring.evaluation.truth_discovery import (
    author_key,
    book_accuracy,
    book_table,
    load_book_claims,
    load_book_truth,
    load_population_claims,
    load_population_truth,
    score_numeric,
)
from scoring.reconcile import ClaimTable, TruthDiscovery

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "truth-discovery"
PEER_TOOL = ROOT.parent / "shared" / "tools" / "truthdiscovery-peer"
PEER_ALGORITHMS = (
    "MajorityVoting",
    "Sums",
    "UnboundedSums",
    "AverageLog",
    "TruthFinder",
    "Investment",
    "PooledInvestment",
    "CRH",
)
# CRH builds a dense claims x claims matrix (13 s and 1.9 GB at 7,386 claims): skipped above this.
CRH_MAX_CLAIMS = 8_000

# Runs inside the peer's venv only. Reads {"triples": [[source, item, value], ...]} and prints
# {algorithm: {"seconds": s, "chosen": {item: value}}}; ties go to the smallest value.
PEER_SCRIPT = r"""
import json, sys, time
from truthdiscovery.input.dataset import Dataset
import truthdiscovery.algorithm as algorithms

payload = json.load(open(sys.argv[1]))
small = len(payload["triples"]) <= payload["crh_max"]
names = [n for n in payload["algorithms"] if n != "CRH" or small]
started = time.perf_counter()
data = Dataset([tuple(t) for t in payload["triples"]], allow_multiple=True)
load_seconds = time.perf_counter() - started
out = {"load_seconds": load_seconds}
for name in names:
    started = time.perf_counter()
    result = getattr(algorithms, name)().run(data)
    seconds = time.perf_counter() - started
    chosen = {}
    for var, beliefs in result.belief.items():
        top = max(beliefs.values())
        chosen[var] = min(v for v, b in beliefs.items() if b == top)
    out[name] = {"seconds": seconds, "iterations": getattr(result, "iterations", None),
                 "chosen": chosen}
json.dump(out, sys.stdout)
"""


def peer_python(explicit: str | None) -> str:
    if explicit:
        return explicit
    made = subprocess.run([str(PEER_TOOL)], check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1]


def run_peer(python: str, triples: list[list[Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        payload = Path(scratch) / "claims.json"
        payload.write_text(
            json.dumps(
                {"triples": triples, "algorithms": PEER_ALGORITHMS, "crh_max": CRH_MAX_CLAIMS}
            )
        )
        script = Path(scratch) / "peer.py"
        script.write_text(PEER_SCRIPT)
        started = time.perf_counter()
        done = subprocess.run(
            [python, str(script), str(payload)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if done.returncode != 0:
            raise RuntimeError(f"truthdiscovery failed:\n{done.stderr[-2000:]}")
        wall = time.perf_counter() - started
    result: dict[str, Any] = json.loads(done.stdout)
    result["wall_seconds"] = wall
    return result


def compare_numeric(
    label: str, table: ClaimTable, truth: dict[Any, float], python: str, load_seconds: float = 0.0
) -> None:
    """Fit credscore and every peer algorithm on one numeric claim table; print the scores."""
    started = time.perf_counter()
    model = TruthDiscovery().fit(table)
    ours_seconds = time.perf_counter() - started + load_seconds
    ours = {
        key: float(v)
        for key, v, present in zip(table.events, model.estimates_, model.has_claims_, strict=True)
        if present
    }
    ours_score = score_numeric(ours, truth)
    keys = {_item_key(key): key for key in table.events}
    triples = [
        [table.sources[int(s)], _item_key(table.events[int(e)]), float(v)]
        for s, e, v in zip(table.source, table.event, table.points(), strict=True)
    ]
    print(f"{label}: {table.n_claims:,} claims; running truthdiscovery ...", file=sys.stderr)
    peer = run_peer(python, triples)
    rows = [
        (
            "credscore TruthDiscovery",
            ours_score["exact"],
            ours_score["err_gt_1pct"],
            _mean_mae(ours_score),
            ours_seconds,
        )
    ]
    for name in PEER_ALGORITHMS:
        if name not in peer:
            print(f"(truthdiscovery {name} skipped: {table.n_claims:,} claims)", file=sys.stderr)
            continue
        chosen = {keys[k]: float(v) for k, v in peer[name]["chosen"].items()}
        score = score_numeric(chosen, truth)
        rows.append(
            (
                f"truthdiscovery {name}",
                score["exact"],
                score["err_gt_1pct"],
                _mean_mae(score),
                peer[name]["seconds"],
            )
        )
    print(f"\n{label} ({ours_score['items']} gold items with claims)")
    print(f"{'method':<34}{'exact':>7}{'err>1%':>8}{'mae':>12}{'seconds':>9}{'exact/ours':>12}")
    for name, exact, err, mae, seconds in rows:
        ratio = exact / rows[0][1] if rows[0][1] else float("nan")
        print(f"{name:<34}{exact:>7.3f}{err:>8.3f}{mae:>12.3f}{seconds:>9.2f}{ratio:>12.3f}")
    print(
        f"(credscore time includes loading; peer dataset build "
        f"{peer['load_seconds']:.2f} s, subprocess wall {peer['wall_seconds']:.1f} s)"
    )


def _item_key(key: Any) -> str:
    return "\x1f".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _mean_mae(score: dict[str, Any]) -> float:
    maes = list(score["mae"].values())
    return float(sum(maes) / len(maes)) if maes else float("nan")


def population(claims: list[Path], truth_path: Path, python: str, label: str) -> None:
    started = time.perf_counter()
    table, _ = load_population_claims(claims)
    load_seconds = time.perf_counter() - started
    truth = load_population_truth(truth_path)
    compare_numeric(label, table, truth, python, load_seconds)  # type: ignore[arg-type]


def synthetic_worlds(python: str, seeds: int) -> None:
    """Every synthetic world of scoring.evaluation.synthetic, credscore beside the peers."""
    for name, make in WORLDS.items():
        for seed in range(seeds):
            world = make(seed)
            truth = {key: float(world.truth[i]) for i, key in enumerate(world.table.events)}
            compare_numeric(f"synthetic {name} (seed {seed})", world.table, truth, python)


def book(data: Path, python: str) -> None:
    claims, _ = load_book_claims(data / "book" / "book.txt")
    truth = load_book_truth(data / "book" / "book_golden.txt")
    started = time.perf_counter()
    table = book_table(claims)
    model = TruthDiscovery().fit(table)
    ours_seconds = time.perf_counter() - started
    by_key = {author_key(a): a for _, _, a in claims}
    ours = {
        isbn: by_key[table.categories[int(code)]]
        for isbn, code, present in zip(
            table.events, model.estimates_, model.has_claims_, strict=True
        )
        if present
    }
    ours_accuracy, items = book_accuracy(ours, truth)  # type: ignore[arg-type]
    triples = [[source, isbn, author_key(authors)] for source, isbn, authors in claims]
    print(f"book: {len(claims):,} claims; running truthdiscovery ...", file=sys.stderr)
    peer = run_peer(python, triples)
    rows = [("credscore TruthDiscovery", ours_accuracy, ours_seconds)]
    for name in PEER_ALGORITHMS:
        if name not in peer:
            print(f"(truthdiscovery {name} skipped: {len(claims):,} claims)", file=sys.stderr)
            continue
        chosen = {isbn: by_key[key] for isbn, key in peer[name]["chosen"].items()}
        accuracy, _ = book_accuracy(chosen, truth)
        rows.append((f"truthdiscovery {name}", accuracy, peer[name]["seconds"]))
    print(f"\nbook ({items} gold books; author sets normalised by credscore for every method)")
    print(f"{'method':<34}{'accuracy':>9}{'seconds':>9}{'acc/ours':>10}{'time/ours':>11}")
    for name, accuracy, seconds in rows:
        print(
            f"{name:<34}{accuracy:>9.3f}{seconds:>9.2f}{accuracy / rows[0][1]:>10.3f}"
            f"{seconds / rows[0][2]:>11.1f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--peer-python", help="python of the truthdiscovery venv")
    parser.add_argument(
        "--claims",
        nargs="+",
        type=Path,
        help="claims CSV(s) in the population format, instead of the bundled data sets",
    )
    parser.add_argument("--truth", type=Path, help="truth CSV for --claims")
    parser.add_argument(
        "--synthetic", type=int, metavar="SEEDS", help="also run the synthetic worlds"
    )
    args = parser.parse_args()
    python = peer_python(args.peer_python)
    if args.claims:
        if args.truth is None:
            parser.error("--claims needs --truth")
        population(args.claims, args.truth, python, "claims " + args.claims[0].name)
    else:
        data = args.data
        population(
            [data / "population" / "population_claims.csv"],
            data / "population" / "population_truth.csv",
            python,
            "population",
        )
        book(data, python)
    if args.synthetic:
        synthetic_worlds(python, args.synthetic)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
