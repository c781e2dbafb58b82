from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from scoring.evaluation import liar
from scoring.evaluation.liar import (
    LIAR_LABELS,
    LeakageError,
    LiarRow,
    TrackRecords,
    build_contexts,
    check_no_count_leakage,
    load_liar,
)
from scoring.features import ClaimContext
from scoring.reliability import posterior

LIAR_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "liar"

TINY = (
    "1.json\tfalse\tSays taxes rose 40 percent.\ttaxes,economy\tjane-doe\tSenator\tTexas\t"
    "republican\t0\t1\t0\t0\t0\ta mailer\n"
    "2.json\thalf-true\tUnemployment is the lowest ever.\teconomy\tjane-doe\tSenator\tTexas\t"
    "republican\t0\t1\t1\t0\t0\ta speech\n"
    "3.json\ttrue\tWe built 3 schools.\teducation\tjohn-roe\t\t\tdemocrat\t0\t0\t0\t0\t0\t\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loader_reads_liar_format(tmp_path: Path) -> None:
    rows = load_liar(write(tmp_path, "tiny.tsv", TINY))
    assert len(rows) == 3
    first = rows[0]
    assert first.label == "false"
    assert first.subjects == ("taxes", "economy")
    assert first.speaker == "jane-doe"
    assert first.party == "republican"
    assert first.context == "a mailer"
    assert first.leaky_credit_counts == (0, 1, 0, 0, 0)
    assert rows[2].job == ""


def test_loader_refuses_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected 14 columns"):
        load_liar(write(tmp_path, "short.tsv", "1.json\tfalse\tonly three\n"))
    with pytest.raises(ValueError, match="unknown label"):
        load_liar(write(tmp_path, "label.tsv", TINY.replace("half-true", "sort-of")))


def test_track_records_leave_the_row_out(tmp_path: Path) -> None:
    rows = load_liar(write(tmp_path, "tiny.tsv", TINY))
    records = TrackRecords(rows)
    # jane-doe: one false, one half-true (held up). Without row 0 only the half-true remains.
    loo, topics = records.records(rows[0], leave_one_out=True)
    assert loo.evidence == pytest.approx(1.0)
    assert loo.mean > loo.prior_mean  # the remaining verdict held up
    assert "taxes" not in topics  # that subject's only verdict is the row's own
    assert set(topics) == {"economy"}
    full, _ = records.records(rows[0], leave_one_out=False)
    assert full.evidence == pytest.approx(2.0)
    alone, _ = records.records(rows[2], leave_one_out=True)
    assert alone.evidence == 0.0
    assert not alone.rated


def synthetic_rows(n_speakers: int = 60, per_speaker: int = 12, seed: int = 0) -> list[LiarRow]:
    """Rows whose credit-history counts include each row's own label, as LIAR's do."""
    rng = np.random.default_rng(seed)
    rows: list[LiarRow] = []
    for s in range(n_speakers):
        weights = rng.dirichlet(np.ones(len(LIAR_LABELS)) * 0.7)
        labels = rng.choice(LIAR_LABELS, size=rng.integers(2, per_speaker), p=weights)
        order = ("barely-true", "false", "half-true", "mostly-true", "pants-fire")
        counts = tuple(int(np.sum(labels == name)) for name in order)
        for i, label in enumerate(labels):
            rows.append(
                LiarRow(
                    statement_id=f"{s}-{i}",
                    label=str(label),
                    statement=f"Statement {i} of speaker {s}.",
                    subjects=("economy",),
                    speaker=f"speaker-{s}",
                    job="",
                    state="",
                    party=str(rng.choice(["republican", "democrat"])),
                    context="",
                    leaky_credit_counts=counts,  # type: ignore[arg-type]
                )
            )
    return rows


def test_honest_leave_one_out_records_pass_the_leakage_check() -> None:
    rows = synthetic_rows()
    contexts = build_contexts(rows, TrackRecords(rows), leave_one_out=True)
    check_no_count_leakage(contexts, rows)


def test_records_built_from_the_counts_are_caught() -> None:
    rows = synthetic_rows()
    honest = build_contexts(rows, TrackRecords(rows), leave_one_out=True)
    leaky: list[ClaimContext] = []
    for row, context in zip(rows, honest, strict=True):
        barely, false, half, mostly, pants = row.leaky_credit_counts
        record = posterior(float(half + mostly), float(barely + false + pants), 0.5)
        leaky.append(
            ClaimContext(
                text=context.text,
                outlet=context.outlet,
                outlet_kind=context.outlet_kind,
                topics=context.topics,
                outlet_record=record,
            )
        )
    with pytest.raises(LeakageError, match="credit-history"):
        check_no_count_leakage(leaky, rows)


def test_count_fields_cannot_become_metadata() -> None:
    rows = synthetic_rows(n_speakers=3)
    records = TrackRecords(rows)
    for field in ("leaky_credit_counts", "false_count"):
        with pytest.raises(LeakageError, match="credit-history counts"):
            build_contexts(rows, records, leave_one_out=True, metadata_fields=("state", field))
    with pytest.raises(ValueError, match="unknown metadata field"):
        build_contexts(rows, records, leave_one_out=True, metadata_fields=("statement_id",))


def test_run_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = synthetic_rows(n_speakers=40, per_speaker=30, seed=1)
    lines = [
        "\t".join(
            [
                row.statement_id,
                row.label,
                row.statement,
                ",".join(row.subjects),
                row.speaker,
                row.job,
                row.state,
                row.party,
                *(str(c) for c in row.leaky_credit_counts),
                row.context,
            ]
        )
        for row in rows
    ]
    train = write(tmp_path, "train.tsv", "\n".join(lines[::2]) + "\n")
    test = write(tmp_path, "test.tsv", "\n".join(lines[1::2]) + "\n")
    parser = argparse.ArgumentParser()
    liar.configure_parser(parser)
    assert liar.run(parser.parse_args(["--train", str(train), "--test", str(test)])) == 0
    out = capsys.readouterr().out
    for key in liar.METRIC_KEYS:
        assert key in out
    # The training file's cross-validated figures beside the test file's, per method.
    header = out.splitlines()[0].split()
    assert header == [
        "metric",
        *(
            word
            for method in ("model", "track_record_only", "majority")
            for word in (method, "CV", method, "test")
        ),
    ]
    assert "seconds:" in out
    assert (
        liar.run(parser.parse_args(["--train", str(train), "--test", str(test), "--cv-folds", "1"]))
        == 2
    )


@pytest.mark.skipif(
    not (LIAR_DIR / "train.tsv").exists() or not (LIAR_DIR / "valid.tsv").exists(),
    reason=f"LIAR data not found at {LIAR_DIR} (train.tsv and valid.tsv)",
)
def test_end_to_end_on_a_liar_subsample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A subsample keeps the test quick; the full figures come from `credscore eval liar`.
    train_lines = (LIAR_DIR / "train.tsv").read_text(encoding="utf-8").splitlines()[:3000]
    test_lines = (LIAR_DIR / "valid.tsv").read_text(encoding="utf-8").splitlines()[:600]
    train = write(tmp_path, "train.tsv", "\n".join(train_lines) + "\n")
    test = write(tmp_path, "test.tsv", "\n".join(test_lines) + "\n")
    parser = argparse.ArgumentParser()
    liar.configure_parser(parser)
    args = parser.parse_args(
        ["--train", str(train), "--test", str(test), "--json", "--cv-folds", "2"]
    )
    assert liar.run(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    results = json.loads(out[0])
    # The keys a scorer of the held-back test reads are kept; the training CV comes beside them.
    assert set(results) == {
        "model",
        "track_record_only",
        "majority",
        "seconds",
        "train_cv",
        "params",
    }
    assert results["train_cv"]["folds"] == 2
    for method in ("model", "track_record_only", "majority"):
        assert set(results[method]) == set(liar.METRIC_KEYS)
        assert set(results["train_cv"][method]) == set(liar.METRIC_KEYS)
    assert results["train_cv"]["model"]["roc_auc"] > results["train_cv"]["majority"]["roc_auc"]
    assert results["params"]["C"] == liar.LIAR_MODEL_PARAMS["C"]
    model, record, majority = results["model"], results["track_record_only"], results["majority"]
    assert majority["roc_auc"] == pytest.approx(0.5)
    assert model["six_way_accuracy"] > majority["six_way_accuracy"] + 0.03
    assert model["roc_auc"] > record["roc_auc"] > 0.55
    assert model["roc_auc"] > 0.62
    assert model["brier"] < majority["brier"]
    # Far above the published leak-free figures would mean the counts leaked in.
    assert model["six_way_accuracy"] < 0.36


def test_extra_columns_built_from_the_counts_are_caught() -> None:
    rows = synthetic_rows()
    contexts = build_contexts(rows, TrackRecords(rows), leave_one_out=True)
    false_counts = np.array([row.leaky_credit_counts[1] for row in rows], dtype=float)
    with pytest.raises(LeakageError, match="history speaker"):
        check_no_count_leakage(contexts, rows, extra={"history speaker": false_counts})
    # The model's own out-of-fold history columns pass.
    model = liar.ClaimModel(labels=LIAR_LABELS, holds_up=liar.LIAR_HOLDS_UP)
    names, history = model.training_history(contexts, [row.label for row in rows])
    check_no_count_leakage(contexts, rows, extra=dict(zip(names, history.T, strict=True)))
