from __future__ import annotations

import json

import numpy as np
import pytest
import sklearn

from scoring import artifacts
from scoring.artifacts import (
    ArtifactIntegrityError,
    ArtifactVersionError,
    dump_model,
    load_model,
    read_header,
)
from scoring.claim_model import ClaimModel
from scoring.evaluation.holdout import holdout_metrics
from tests.scoring.test_claim_model import make_claims


@pytest.fixture(scope="module")
def model() -> ClaimModel:
    contexts, labels, _ = make_claims(400, seed=11)
    return ClaimModel(cv=2).fit(contexts, labels)


def test_round_trip_scores_identically(model: ClaimModel) -> None:
    held_out, held_out_labels, _ = make_claims(100, seed=13)
    metrics = holdout_metrics(model, held_out, held_out_labels)
    data = dump_model(
        model, info={"data_from": "2020-01-01", "data_to": "2020-01-17"}, metrics=metrics
    )
    loaded = load_model(data)
    contexts = make_claims(50, seed=12)[0]
    np.testing.assert_array_equal(
        loaded.predict_holds_up(contexts), model.predict_holds_up(contexts)
    )
    assert [loaded.score_claim(c) for c in contexts] == [model.score_claim(c) for c in contexts]
    header, _ = read_header(data)
    assert header.sklearn == sklearn.__version__
    assert header.numpy == np.__version__
    assert header.info["data_from"] == "2020-01-01"
    assert header.metrics["roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert len(header.sha256) == 64


def test_tampered_payload_is_refused(model: ClaimModel) -> None:
    data = bytearray(dump_model(model))
    data[-100] ^= 0x01
    with pytest.raises(ArtifactIntegrityError, match="checksum mismatch"):
        load_model(bytes(data))


def test_edited_header_is_refused(model: ClaimModel) -> None:
    data = dump_model(model)
    first, header, payload = data.split(b"\n", 2)
    fields = json.loads(header)
    fields["metrics"]["roc_auc"] = 0.99
    forged = first + b"\n" + json.dumps(fields).encode() + b"\n" + payload
    with pytest.raises(ArtifactIntegrityError, match="checksum mismatch"):
        load_model(forged)


def test_not_an_artifact_is_refused() -> None:
    with pytest.raises(ArtifactIntegrityError, match="magic"):
        load_model(b"\x80\x04 a plain pickle")
    with pytest.raises(ArtifactIntegrityError, match="header"):
        load_model(artifacts.MAGIC + b"{not json\n payload")


@pytest.mark.parametrize(
    ("library", "saved", "name"),
    [("sklearn", "1.5.2", "scikit-learn"), ("numpy", "1.26.4", "numpy")],
)
def test_other_library_version_is_refused(
    model: ClaimModel, monkeypatch: pytest.MonkeyPatch, library: str, saved: str, name: str
) -> None:
    running = artifacts.runtime_versions()
    monkeypatch.setattr(artifacts, "runtime_versions", lambda: {**running, library: saved})
    data = dump_model(model)  # a valid artifact, written "by" the other version
    monkeypatch.undo()
    with pytest.raises(ArtifactVersionError) as raised:
        load_model(data)
    message = str(raised.value)
    assert f"{name} {saved}" in message
    assert f"{name} {running[library]}" in message


def test_same_minor_version_loads(model: ClaimModel, monkeypatch: pytest.MonkeyPatch) -> None:
    running = artifacts.runtime_versions()
    major, minor = sklearn.__version__.split(".")[:2]
    patched = {**running, "sklearn": f"{major}.{minor}.999"}
    monkeypatch.setattr(artifacts, "runtime_versions", lambda: patched)
    data = dump_model(model)
    monkeypatch.undo()
    assert isinstance(load_model(data), ClaimModel)


def test_other_model_code_version_is_refused(
    model: ClaimModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = dump_model(model)
    monkeypatch.setattr(artifacts, "MODEL_FORMAT_VERSION", 999)
    with pytest.raises(ArtifactVersionError, match="model code version"):
        load_model(data)


def test_unfitted_model_cannot_be_saved() -> None:
    with pytest.raises(ValueError, match="fitted"):
        dump_model(ClaimModel())
