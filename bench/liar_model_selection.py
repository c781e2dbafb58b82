"""How LIAR_MODEL_PARAMS were chosen: k-fold cross-validation inside LIAR's train.tsv only.

Each candidate is ``LIAR_MODEL_PARAMS`` with a few parameters changed, scored by
``scoring.evaluation.liar.cross_validate`` (every fold scored as a test file would be, track
records rebuilt from the fold's training part). valid.tsv is never read: it is the test, scored
once with ``credscore eval liar``. Prints one line per candidate as it finishes, then a table.

    .venv/bin/python bench/liar_model_selection.py [--folds 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from scoring.evaluation import liar

LIAR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "liar"

# One pass of coordinate search around the configuration: the two models' regularisation
# (C for the six-way model, binary_C for P(holds up)) move together, since they are chosen
# from the same runs by different figures; then the weights of text, indicator tokens and
# label history, one at a time; then a second pass from the best of the first (--set).
CANDIDATES: dict[str, dict[str, Any]] = {
    "base": {},
    "weaker-reg": {"C": 0.4, "binary_C": 0.8},
    "stronger-reg": {"C": 0.1, "binary_C": 0.2},
    "strongest-reg": {"C": 0.05, "binary_C": 0.1},
    "text-1.0": {"text_weight": 1.0},
    "text-2.0": {"text_weight": 2.0},
    "tokens-0.25": {"token_weight": 0.25},
    "tokens-1.0": {"token_weight": 1.0},
    "history-5": {"history_strength": 5.0},
    "history-20": {"history_strength": 20.0},
    "history-40": {"history_strength": 40.0},
    "chars-2-4": {"char_ngram_range": (2, 4), "min_df": 3},
    "unconstrained": {"sign_constraints": False},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=liar.CV_FOLDS)
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES))
    parser.add_argument("--set", default="{}", help="JSON overrides applied to every candidate")
    args = parser.parse_args()
    train = liar.load_liar(LIAR_DIR / "train.tsv")
    common = json.loads(args.set)
    rows = []
    for name in args.only or list(CANDIDATES):
        params = {**common, **CANDIDATES[name]}
        started = time.perf_counter()
        result = liar.cross_validate(train, folds=args.folds, model_params=params)
        model = result["model"]
        rows.append((name, params, model))
        print(
            json.dumps({"candidate": name, "params": params, "cv": model})
            + f"  # {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    print(f"\n{args.folds}-fold CV on train.tsv, base: {liar.LIAR_MODEL_PARAMS} {common}")
    keys = liar.METRIC_KEYS
    print(f"{'candidate':<14}" + "".join(f"{key:>18}" for key in keys))
    for name, _, model in rows:
        print(f"{name:<14}" + "".join(f"{model[key]:>18.4f}" for key in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
