"""The client's models mirror the service's OpenAPI document, and need neither FastAPI nor
SQLAlchemy nor the service itself to import."""

from __future__ import annotations

import subprocess
import sys
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel

from credscore_client import models
from service.app import create_app
from service.settings import Settings

SCHEMAS: dict[str, Any] = create_app(Settings(environment="test")).openapi()["components"][
    "schemas"
]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_has_a_client_model_with_the_same_fields(name: str) -> None:
    schema = SCHEMAS[name]
    counterpart = getattr(models, name, None)
    assert counterpart is not None, f"credscore_client.models has no {name}"
    if "enum" in schema:
        assert issubclass(counterpart, StrEnum)
        assert [member.value for member in counterpart] == schema["enum"]
        return
    assert issubclass(counterpart, BaseModel)
    fields = counterpart.model_fields
    assert set(fields) == set(schema.get("properties", {}))
    if issubclass(counterpart, models.Model):
        # Inputs may leave anything out (the server has the last word); reads must be complete.
        required = {field for field, info in fields.items() if info.is_required()}
        assert required == set(schema.get("required", []))


def test_the_client_imports_without_the_server_dependencies() -> None:
    probe = (
        "import sys, credscore_client, credscore_client.cli; "
        "loaded = {name.split('.')[0] for name in sys.modules}; "
        "print(sorted(loaded & {'fastapi', 'starlette', 'sqlalchemy', 'service', 'scoring', "
        "'sklearn', 'numpy'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
