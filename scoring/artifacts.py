"""Persistence of fitted claim models: versioned, checksummed bytes that refuse to load wrongly.

Format::

    CREDSCORE-MODEL\\n
    <header: one line of JSON>\\n
    <payload: pickle of the fitted ClaimModel>

The header records the format version, the model code version, the Python, scikit-learn and
numpy versions that wrote it, the creation time, the model's metrics and a SHA-256 checksum over
the header (without the checksum) and the payload. Loading checks, in order, the magic line, the
format version, the checksum, the model code version and the scikit-learn and numpy major.minor
versions, and only then unpickles. Unpickling runs code: load only artifacts the service wrote
itself; the checks catch corruption, tampering and library upgrades, not a forged artifact.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import sklearn

from scoring.claim_model import MODEL_FORMAT_VERSION, ClaimModel

MAGIC: Final = b"CREDSCORE-MODEL\n"
FORMAT_VERSION: Final = 1


class ArtifactError(ValueError):
    """An artifact that cannot be loaded safely."""


class ArtifactIntegrityError(ArtifactError):
    """The artifact is not one this code wrote, or it changed since (checksum mismatch)."""


class ArtifactVersionError(ArtifactError):
    """The artifact was written by other library or code versions than the running ones."""


@dataclass(frozen=True, slots=True)
class ArtifactHeader:
    """What an artifact says about itself."""

    format_version: int
    model_version: int
    python: str
    sklearn: str
    numpy: str
    created_at: str
    sha256: str
    metrics: dict[str, Any]
    info: dict[str, Any]


def runtime_versions() -> dict[str, str]:
    """The versions an artifact written now would record."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _checksum(header_fields: dict[str, Any], payload: bytes) -> str:
    canonical = json.dumps(header_fields, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    digest.update(canonical)
    digest.update(b"\n")
    digest.update(payload)
    return digest.hexdigest()


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if np.isfinite(number) else None
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value if isinstance(value, (str, bool)) or value is None else str(value)


def dump_model(
    model: ClaimModel,
    *,
    info: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> bytes:
    """Serialise a fitted model; ``info`` (e.g. the data's date range) and ``metrics`` (its
    held-out figures, ``scoring.evaluation.holdout``) go into the header."""
    if not hasattr(model, "compiled_"):
        raise ValueError("only a fitted ClaimModel can be saved")
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    fields: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model_version": MODEL_FORMAT_VERSION,
        **runtime_versions(),
        "created_at": datetime.now(UTC).isoformat(),
        "metrics": _json_safe(metrics or {}),
        "info": _json_safe(info or {}),
    }
    fields["sha256"] = _checksum(fields, payload)
    return MAGIC + json.dumps(fields, sort_keys=True).encode() + b"\n" + payload


def read_header(data: bytes) -> tuple[ArtifactHeader, bytes]:
    """The header and payload of an artifact, after checking its magic line and checksum."""
    if not data.startswith(MAGIC):
        raise ArtifactIntegrityError("not a credscore model artifact (bad magic line)")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise ArtifactIntegrityError("truncated artifact: no header line")
    try:
        fields = json.loads(data[len(MAGIC) : end])
        if not isinstance(fields, dict):
            raise TypeError("header is not an object")
        stored = fields.pop("sha256")
        if fields["format_version"] != FORMAT_VERSION:
            raise ArtifactVersionError(
                f"artifact format version {fields['format_version']} is not the supported "
                f"version {FORMAT_VERSION}"
            )
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, ArtifactError):
            raise
        raise ArtifactIntegrityError(f"unreadable artifact header: {error}") from None
    payload = data[end + 1 :]
    actual = _checksum(fields, payload)
    if actual != stored:
        raise ArtifactIntegrityError(
            f"artifact checksum mismatch (header says {stored[:12]}..., content hashes to "
            f"{actual[:12]}...): it is corrupted or was modified"
        )
    header = ArtifactHeader(
        format_version=int(fields["format_version"]),
        model_version=int(fields["model_version"]),
        python=str(fields["python"]),
        sklearn=str(fields["sklearn"]),
        numpy=str(fields["numpy"]),
        created_at=str(fields["created_at"]),
        sha256=str(stored),
        metrics=dict(fields.get("metrics") or {}),
        info=dict(fields.get("info") or {}),
    )
    return header, payload


def check_compatible(header: ArtifactHeader) -> None:
    """Refuse an artifact from another model code version or scikit-learn / numpy major.minor."""
    if header.model_version != MODEL_FORMAT_VERSION:
        raise ArtifactVersionError(
            f"artifact holds model code version {header.model_version}, this code is version "
            f"{MODEL_FORMAT_VERSION}; retrain the model"
        )
    running = runtime_versions()
    for library in ("sklearn", "numpy"):
        saved = getattr(header, library)
        if _major_minor(saved) != _major_minor(running[library]):
            name = "scikit-learn" if library == "sklearn" else library
            raise ArtifactVersionError(
                f"artifact was saved with {name} {saved} but this process runs {name} "
                f"{running[library]}; refusing to load it across {name} versions: retrain the "
                "model with the running version"
            )


def load_model(data: bytes) -> ClaimModel:
    """Load an artifact written by ``dump_model`` after every check passes."""
    header, payload = read_header(data)
    check_compatible(header)
    model = pickle.loads(payload)  # noqa: S301 - checksummed, written by this service only
    if not isinstance(model, ClaimModel):
        raise ArtifactIntegrityError(f"artifact holds a {type(model).__name__}, not a ClaimModel")
    return model
