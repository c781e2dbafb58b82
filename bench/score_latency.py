"""Claim scoring latency and throughput, in-process, through the compiled fast path.

Trains the claim model on LIAR train (../shared/data/liar) or, when absent, on synthetic claims,
then prints the median and p99 latency of single-claim scoring over 10,000 calls and the
throughput of batch P(holds up) through the scikit-learn path in batches of 1,000.

    .venv/bin/python bench/score_latency.py [--calls 10000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from scoring.claim_model import ClaimModel
from scoring.evaluation import liar
from scoring.features import ClaimContext
from scoring.reliability import posterior

LIAR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "liar"


def liar_contexts() -> tuple[ClaimModel, list[ClaimContext]]:
    train = liar.load_liar(LIAR_DIR / "train.tsv")
    valid = liar.load_liar(LIAR_DIR / "valid.tsv")
    records = liar.TrackRecords(train)
    train_contexts = liar.build_contexts(train, records, leave_one_out=True)
    model = ClaimModel(
        labels=liar.LIAR_LABELS, holds_up=liar.LIAR_HOLDS_UP, **liar.LIAR_MODEL_PARAMS
    )
    model.fit(train_contexts, [row.label for row in train])
    return model, liar.build_contexts(valid, records, leave_one_out=False)


def synthetic_contexts() -> tuple[ClaimModel, list[ClaimContext]]:
    rng = np.random.default_rng(0)
    words = ["troops", "reportedly", "killed", "civilians", "said", "never", "village", "strike"]
    contexts, labels = [], []
    for i in range(4000):
        record = posterior(float(rng.integers(0, 40)), float(rng.integers(0, 40)), 0.5)
        party = bool(rng.random() < 0.3)
        logit = 5 * (record.mean - 0.5) - 1.5 * party + rng.normal()
        labels.append("true" if logit > 0.5 else "mixed" if logit > -0.5 else "false")
        text = " ".join(rng.choice(words, 6)) + f" {rng.integers(1, 99)} people in Raqqa"
        contexts.append(
            ClaimContext(
                text=text, outlet=f"o{i % 50}", party_to_conflict=party, outlet_record=record
            )
        )
    model = ClaimModel().fit(contexts, labels)
    return model, contexts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    started = time.perf_counter()
    if (LIAR_DIR / "train.tsv").exists():
        source = "LIAR train.tsv (scored: valid.tsv)"
        model, contexts = liar_contexts()
    else:
        source = "synthetic (LIAR not found)"
        model, contexts = synthetic_contexts()
    print(f"model trained on {source} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    compiled = model.compiled_

    for context in contexts[:200]:  # warm-up
        compiled.score_one(context, explain=0)
    for explain in (0, 3):
        timings = []
        for i in range(args.calls):
            context = contexts[i % len(contexts)]
            began = time.perf_counter_ns()
            compiled.score_one(context, explain=explain)
            timings.append(time.perf_counter_ns() - began)
        timings.sort()
        median = statistics.median(timings) / 1000
        p99 = timings[int(0.99 * len(timings)) - 1] / 1000
        print(
            f"single claim (explain={explain}): median {median:.0f} us, p99 {p99:.0f} us "
            f"over {args.calls} calls"
        )

    batches = [
        [contexts[(b * args.batch + i) % len(contexts)] for i in range(args.batch)]
        for b in range(10)
    ]
    model.predict_holds_up(batches[0])
    start = time.perf_counter()
    for batch in batches:
        model.predict_holds_up(batch)
    elapsed = time.perf_counter() - start
    print(
        f"batch P(holds up), scikit-learn path: {len(batches) * args.batch / elapsed:,.0f} "
        f"claims/s ({len(batches)} batches of {args.batch})"
    )
    start = time.perf_counter()
    for context in contexts[:100]:
        model.predict_holds_up([context])
    print(
        f"scikit-learn path, single claim: {(time.perf_counter() - start) / 100 * 1e3:.1f} ms "
        "(for reference)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
