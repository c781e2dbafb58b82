from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.conftest import make_key


async def test_one_json_line_per_request_with_key_name_never_the_key(
    app: object, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = await make_key(app, "desk-tool", ["read"])
    with caplog.at_level(logging.INFO, logger="credscore.access"):
        response = await client.get(
            "/v1/outlets", headers={"Authorization": f"Bearer {key}", "X-Request-ID": "abc-123"}
        )
    assert response.headers["x-request-id"] == "abc-123"
    records = [record for record in caplog.records if record.name == "credscore.access"]
    assert len(records) == 1
    fields = records[0].fields  # type: ignore[attr-defined]
    assert fields["request_id"] == "abc-123"
    assert fields["route"] == "/v1/outlets"
    assert fields["status"] == 200
    assert fields["key_name"] == "desk-tool"
    assert fields["latency_ms"] >= 0
    from service.logging import JsonFormatter

    line = JsonFormatter().format(records[0])
    assert json.loads(line)["key_name"] == "desk-tool"
    assert key not in line
    assert key not in caplog.text


async def test_unsafe_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response.headers["x-request-id"] != "bad id\nwith newline"
    assert len(response.headers["x-request-id"]) == 32
