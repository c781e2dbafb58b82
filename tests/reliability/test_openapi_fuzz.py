"""Schemathesis against the service's own OpenAPI document, in-process (ASGI).

Every operation is fuzzed with schema-valid (positive) and schema-invalid (negative) requests,
with a valid admin key and, for about half the cases, path ids that exist in a seeded database.
The checks: never a 5xx; status code, content type, headers and body as documented; invalid
input is refused with a 4xx. Bounded: 15 examples per operation and mode on SQLite, 8 on
PostgreSQL (CREDSCORE_FUZZ_EXAMPLES overrides both, for a deeper local run), no deadline,
derandomized (the same cases on every run, so CI is reproducible), no example database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.result import Err, Ok  # noqa: E402
from schemathesis.python import asgi as schemathesis_asgi  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app  # noqa: E402
from tests.reliability.conftest import Seeded, make_settings, seed_database  # noqa: E402

# Examples per operation and generation mode; CREDSCORE_FUZZ_EXAMPLES=200 for a deeper run.
MAX_EXAMPLES = {
    "sqlite": int(os.environ.get("CREDSCORE_FUZZ_EXAMPLES", "15")),
    "postgresql": int(os.environ.get("CREDSCORE_FUZZ_EXAMPLES", "8")),
}


def _operation_labels() -> list[str]:
    """Every operation of the OpenAPI document, so a new route is fuzzed without listing it."""
    app = create_app(make_settings("sqlite://"))
    return [
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
    ]


OPERATIONS = _operation_labels()

# Not fuzzed, with the reason. Everything else in the document is.
NOT_FUZZED = {
    # Each accepted request launches a model-training subprocess: fuzzing would start dozens.
    "POST /v1/models": "launches a training subprocess per accepted request",
}

# Operations without any parameter or body: there is nothing to make invalid.
NO_INPUT = {"GET /healthz", "GET /readyz", "GET /metrics"}

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


@dataclass
class FuzzTarget:
    schema: Any
    seeded: Seeded
    backend: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
        path.write_bytes(template.read_bytes())
        database_url = f"sqlite:///{path}"
    else:
        database_url = _fresh_postgres(request)
    seeded = seed_database(database_url)
    # Keys stay verified in memory, so that POST /v1/score and /v1/claims cases whose bodies
    # validate are answered by the fast path (service/claims/fast_path.py) and fuzzed there.
    app = create_app(make_settings(database_url, auth_cache_seconds=60))
    # The ASGI loader starts the app's lifespan on schemathesis' own event-loop thread.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    try:
        yield FuzzTarget(schema=schema, seeded=seeded, backend=request.param)
    finally:
        schemathesis_asgi.shutdown_lifespans()
        if request.param == "postgresql":
            _drop_postgres(database_url)


def _fresh_postgres(request: pytest.FixtureRequest) -> str:
    import os
    import time

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from service.migrate import upgrade

    server = make_url(request.getfixturevalue("postgres_database"))
    name = f"credscore_fuzz_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def _drop_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def _known_path_parameters(operation: Any, seeded: Seeded) -> list[dict[str, Any]]:
    """Combinations of path values that exist in the seeded database."""
    known: dict[str, list[Any]] = {
        "outlet_ref": seeded.outlet_refs,
        "claim_id": seeded.claim_ids,
        "event_id": seeded.event_ids,
        "record_id": seeded.record_ids,
        "key_id": seeded.decoy_key_ids,
    }
    names = [parameter.name for parameter in operation.path_parameters]
    if not names or any(name not in known for name in names):
        return []
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(known[name] for name in names))
    ]


def _params(mode: GenerationMode) -> list[Any]:
    return [
        pytest.param(label, mode, id=f"{mode.value}-{label}")
        for label in OPERATIONS
        if label not in NOT_FUZZED and (mode is GenerationMode.POSITIVE or label not in NO_INPUT)
    ]


def test_schemathesis_loads_every_operation(fuzz_target: FuzzTarget) -> None:
    """The document is valid enough for schemathesis: no operation is silently left out."""
    results = list(fuzz_target.schema.get_all_operations())
    errors = [result.err() for result in results if isinstance(result, Err)]
    assert not errors
    labels = sorted(result.ok().label for result in results if isinstance(result, Ok))
    assert len(labels) > 20
    assert labels == sorted(OPERATIONS)


@pytest.mark.parametrize(
    ("label", "mode"),
    _params(GenerationMode.POSITIVE) + _params(GenerationMode.NEGATIVE),
)
def test_operation_conforms(fuzz_target: FuzzTarget, label: str, mode: GenerationMode) -> None:
    operation = fuzz_target.schema.find_operation_by_label(label)
    assert operation is not None, label
    seeded = fuzz_target.seeded
    strategy = operation.as_strategy(generation_mode=mode)
    known = _known_path_parameters(operation, seeded)
    if known:
        strategy = st.one_of(
            strategy,
            st.sampled_from(known).flatmap(
                lambda fixed: operation.as_strategy(generation_mode=mode, path_parameters=fixed)
            ),
        )

    @settings(
        max_examples=MAX_EXAMPLES[fuzz_target.backend],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if case.path_parameters and case.path_parameters.get("key_id") == seeded.admin_key_id:
            # Revoking the fuzzer's own key would turn every later case into a 401.
            case.path_parameters["key_id"] = seeded.decoy_key_ids[0]
        checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else POSITIVE_CHECKS
        case.call_and_validate(headers=seeded.headers, checks=checks)

    run()
