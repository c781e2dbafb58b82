"""One consistent API: what a first-time user tripped over (issue 10).

Unknown query parameters are refused by name; one thing has one name; lists read newest first
and revalidate with ETags; timestamps a client leaves out default to the time of receipt.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.reliability.test_bad_input import assert_problem
from tests.service.factories import create_claim, create_outlet


def _get_operations(app: Any) -> list[str]:
    return [
        re.sub(r"\{[^}]+\}", "1", path)
        for path, item in app.openapi()["paths"].items()
        if "get" in item and path.startswith("/v1/")
    ]


async def test_unknown_query_parameters_are_422_naming_them(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_outlet(client, admin_headers)
    await create_claim(client, admin_headers)
    for path in _get_operations(app):
        response = await client.get(
            path, params={"outlt": "sohr", "sort": "x"}, headers=admin_headers
        )
        problem = assert_problem(response, 422)
        assert [error["loc"] for error in problem["errors"]] == [
            ["query", "outlt"],
            ["query", "sort"],
        ], path
        assert "outlt" in problem["detail"] and "sort" in problem["detail"]
    # Known parameters still work, and a POST's query string is checked as well.
    assert (await client.get("/v1/claims?limit=5", headers=admin_headers)).status_code == 200
    posted = await client.post("/v1/events?dry_run=1", json={"title": "E"}, headers=admin_headers)
    assert assert_problem(posted, 422)["errors"][0]["loc"] == ["query", "dry_run"]
