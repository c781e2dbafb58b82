"""Single-claim scoring latency of this checkout against another commit, in one process.

On a shared machine the figures of ``score_latency.py`` move with the load from run to run by
more than most changes cost. This script copies ``scoring/`` of ``BASE`` (``git archive``) into
a temporary package ``scoring_base``, fits both versions' LIAR models, and times their
``score_one`` calls interleaved, so both see the same load.

    .venv/bin/python bench/score_latency_ab.py BASE_COMMIT [--calls 20000]
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LIAR_DIR = ROOT.parent / "shared" / "data" / "liar"


def base_package(commit: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", commit, "scoring"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "scoring").rename(into / "scoring_base")
    for path in (into / "scoring_base").rglob("*.py"):
        text = re.sub(r"\b(from|import) scoring\b", r"\1 scoring_base", path.read_text())
        path.write_text(text)


def fitted(package: str) -> tuple[Any, list[Any]]:
    liar = __import__(f"{package}.evaluation.liar", fromlist=["liar"])
    claim_model = __import__(f"{package}.claim_model", fromlist=["claim_model"])
    train = liar.load_liar(LIAR_DIR / "train.tsv")
    valid = liar.load_liar(LIAR_DIR / "valid.tsv")
    records = liar.TrackRecords(train)
    model = claim_model.ClaimModel(
        labels=liar.LIAR_LABELS, holds_up=liar.LIAR_HOLDS_UP, **liar.LIAR_MODEL_PARAMS
    )
    model.fit(liar.build_contexts(train, records, leave_one_out=True), [r.label for r in train])
    return model.compiled_, liar.build_contexts(valid, records, leave_one_out=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        base_package(args.base, Path(directory))
        sys.path.insert(0, directory)
        base, base_contexts = fitted("scoring_base")
        ours, our_contexts = fitted("scoring")
        for explain in (0, 3):
            timings: tuple[list[int], list[int]] = ([], [])
            for i in range(args.calls):
                k = i % len(base_contexts)
                for compiled, contexts, sink in (
                    (base, base_contexts, timings[0]),
                    (ours, our_contexts, timings[1]),
                ):
                    began = time.perf_counter_ns()
                    compiled.score_one(contexts[k], explain=explain)
                    sink.append(time.perf_counter_ns() - began)
            print(
                f"single claim (explain={explain}): {args.base[:10]} median "
                f"{statistics.median(timings[0]) / 1000:.0f} us, this checkout median "
                f"{statistics.median(timings[1]) / 1000:.0f} us ({args.calls} calls each, "
                "interleaved)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
