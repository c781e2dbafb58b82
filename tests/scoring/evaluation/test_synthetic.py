"""The synthetic worlds: known structure in, estimate accuracy and dependence P/R out."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from scoring.evaluation import synthetic


@pytest.mark.parametrize("name", sorted(synthetic.WORLDS))
def test_worlds_are_reproducible_and_well_formed(name: str) -> None:
    first = synthetic.WORLDS[name](1)
    again = synthetic.WORLDS[name](1)
    assert np.array_equal(first.table.low, again.table.low)
    assert first.dependent_pairs == again.dependent_pairs
    assert first.table.n_claims > 0
    assert len(first.truth) == len(first.table.events)
    copiers = [i for i, spec in enumerate(first.specs) if spec.original >= 0]
    # Every copier is dependent on its original, and nobody else is.
    for copier in copiers:
        original = first.specs[copier].original
        assert (min(copier, original), max(copier, original)) in first.dependent_pairs
    assert bool(copiers) == bool(first.dependent_pairs)


def test_copying_makes_majority_voting_follow_the_copies() -> None:
    world = synthetic.WORLDS["bad-cluster"](2)
    majority = synthetic.majority_estimates(world.table)
    assert float(np.mean(majority == world.truth)) < 0.6


def test_command_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(world=["independent", "bad-cluster"], seeds=1, json=True)
    assert synthetic.run(args) == 0
    printed = json.loads(capsys.readouterr().out)
    rows = {row["world"]: row for row in printed["worlds"]}
    assert set(rows) == {"independent", "bad-cluster"}
    for row in rows.values():
        assert {"credscore", "majority", "precision", "recall", "seconds"} <= set(row)
    assert rows["bad-cluster"]["credscore"] > rows["bad-cluster"]["majority"]


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(world=["noisy-numeric"], seeds=1, json=False)
    assert synthetic.run(args) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:6] == [
        "world",
        "metric",
        "credscore",
        "no",
        "dep.",
        "majority",
    ]
    assert "noisy-numeric" in out
    assert "mae" in out
