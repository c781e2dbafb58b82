"""The OpenAPI document serves client generators: readable ids, typed fields, no warnings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scoring.reconcile import Status
from scoring.reliability import EXTERNAL_RATING_MEAN
from service.app import create_app
from service.settings import Settings

# Documents whose members are open by design (each model run records its own metrics).
OPEN_FIELDS = {("ModelRead", "metrics")}
GENERIC_CONTENT_TYPES = {
    "text/csv": "application/octet-stream",
    "text/tab-separated-values": "application/octet-stream",
    "application/x-ndjson": "application/octet-stream",
    "application/ld+json": "application/octet-stream",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(environment="test")).openapi()


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in document["paths"].values() for op in item.values()]


def test_operation_ids_are_tag_then_action_and_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for op in operations(document)]
    assert len(ids) == len(set(ids))
    for op in operations(document):
        tag = op["tags"][0].replace(" ", "_")
        assert re.fullmatch(rf"{tag}_[a-z]+(_[a-z]+)*", op["operationId"]), op["operationId"]
    assert {"claims_create", "claims_list", "outlets_get", "api_keys_revoke"} <= set(ids)


def _untyped(schema: dict[str, Any]) -> bool:
    if "anyOf" in schema:
        return any(_untyped(part) for part in schema["anyOf"])
    if schema.get("type") == "array":
        return _untyped(schema["items"])
    if schema.get("type") == "object":
        extra = schema.get("additionalProperties", True)
        return extra is True or (isinstance(extra, dict) and _untyped(extra))
    return not ({"type", "$ref", "enum", "const"} & schema.keys())


def test_every_response_field_is_typed(document: dict[str, Any]) -> None:
    untyped = {
        (name, field)
        for name, schema in document["components"]["schemas"].items()
        for field, member in schema.get("properties", {}).items()
        if _untyped(member)
    }
    assert untyped == OPEN_FIELDS


def test_closed_sets_of_values_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    def values(schema: str, field: str) -> set[str]:
        member = schemas[schema]["properties"][field]
        options = member.get("anyOf", [member])
        found: set[str] = set()
        for option in options:
            target = schemas[option["$ref"].rsplit("/", 1)[1]] if "$ref" in option else option
            found |= set(target.get("enum", []))
        return found

    assert values("ScoreRead", "grade") == {"A", "B", "C", "D", "E", "unrated"}
    assert values("OutletRead", "kind") >= {"wire", "state_media"}
    assert values("ModelRead", "status") >= {"queued", "ready", "stalled"}
    assert values("EventRead", "consensus_status") >= {"consensus", "contested", "pending"}
    assert values("ApiKeyRead", "scopes") == set()  # an array: its items are the enum
    assert schemas["ApiKeyRead"]["properties"]["scopes"]["items"]["$ref"].endswith("/Scope")
    assert values("VerdictRead", "rating") >= {"true", "mostly-false", "unverifiable"}
    assert values("OutletRecordRead", "external_rating") == set(EXTERNAL_RATING_MEAN)
    assert values("ConsensusRead", "status") == {s.value for s in Status} | {"pending"}
    assert set(schemas["ConsensusInterval"]["required"]) == {"low", "high"}


def test_openapi_python_client_generates_without_warnings(
    document: dict[str, Any], tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    config = tmp_path / "config.yaml"
    # The generator's post hooks format its output with ruff, which is beside the point here.
    # Uploads and exports are files (CSV, TSV, JSON lines) or JSON-LD: the generator knows them
    # by the generic types the README tells client generators to map them to.
    config.write_text(
        "post_hooks: []\n"
        "content_type_overrides:\n"
        + "".join(f"  {name}: {generic}\n" for name, generic in GENERIC_CONTENT_TYPES.items())
    )
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(tmp_path / "generated"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"warning|error", output, re.IGNORECASE), output
    generated = {path.name for path in (tmp_path / "generated").rglob("*.py")}
    assert {"claims_create.py", "outlets_list.py", "consensus_interval.py"} <= generated
