"""`credscore remote ...` against a live server, as a user runs it (URL and key from env)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest

from credscore_client import Client
from tests.client.conftest import LiveService


@pytest.fixture
def outlet(live_service: LiveService) -> str:
    slug = f"cli-{uuid.uuid4().hex[:10]}"
    with Client(live_service.url, live_service.admin_key) as client:
        client.outlets_create({"slug": slug, "name": "CLI outlet", "kind": "wire"})
    return slug


def test_submit_a_csv_reports_each_refused_row_and_resubmits_nothing_twice(
    live_service: LiveService, outlet: str, tmp_path: Path
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "outlet_slug,text,published_at,value,unit\n"
        f"{outlet},37 civilians killed,2017-08-21T22:00:00Z,37,people\n"
        "no-such-outlet,42 killed,,,\n"
        f"{outlet},the bridge is down,,,\n"
        f"{outlet},a figure,,lots,people\n"
    )
    first = live_service.credscore("remote", "claims", "submit", str(claims))
    assert first.returncode == 1, first.stderr
    ids = [int(line) for line in first.stdout.split()]
    assert len(ids) == 2
    assert "claims: 2 recorded, 2 refused" in first.stderr
    assert "no-such-outlet" in first.stderr
    assert "value: not a number: 'lots'" in first.stderr
    again = live_service.credscore("remote", "claims", "submit", str(claims))
    assert [int(line) for line in again.stdout.split()] == ids
    with Client(live_service.url, live_service.admin_key) as client:
        stored = list(client.claims_list(outlet=outlet))
    assert [c.id for c in stored] == ids
    assert stored[0].figure is not None
    assert stored[0].figure.value == 37


def test_submit_json_lines_from_stdin(live_service: LiveService, outlet: str) -> None:
    lines = "\n".join(
        [
            json.dumps({"outlet_slug": outlet, "text": "one", "figure": {"value": 1}}),
            "{not json",
            json.dumps({"outlet_slug": outlet, "text": "two", "colour": "red"}),
            json.dumps({"outlet_slug": outlet, "text": "three"}),
        ]
    )
    result = live_service.credscore(
        "remote", "claims", "submit", "-", "--format", "jsonl", stdin=lines
    )
    assert result.returncode == 1
    assert len(result.stdout.split()) == 2
    assert "claims: 2 recorded, 2 refused" in result.stderr
    assert "not JSON" in result.stderr
    assert "colour" in result.stderr


def test_record_verdicts_one_and_from_a_file(
    live_service: LiveService, outlet: str, tmp_path: Path
) -> None:
    with Client(live_service.url, live_service.admin_key) as client:
        claims = [client.claims_create({"outlet_slug": outlet, "text": f"c{n}"}) for n in range(3)]
    one = live_service.credscore(
        "remote", "verdicts", "record", str(claims[0].id), "false", "--source", "desk"
    )
    assert one.returncode == 0, one.stderr
    assert f"recorded false on claim {claims[0].id}" in one.stderr
    verdicts = tmp_path / "verdicts.csv"
    verdicts.write_text(
        "claim_id,rating,note\n"
        f"{claims[1].id},true,checked\n"
        f"{claims[2].id},sort-of,\n"
        f"{claims[2].id},mostly-true,\n"
    )
    many = live_service.credscore(
        "remote", "verdicts", "record", "--file", str(verdicts), "--source", "archive"
    )
    assert many.returncode == 1
    assert "verdicts: 2 recorded, 1 refused" in many.stderr
    with Client(live_service.url, live_service.admin_key) as client:
        ratings = {c.id: [v.rating for v in client.verdicts_list(c.id)] for c in claims}
        sources = {v.source for c in claims for v in client.verdicts_list(c.id)}
    assert ratings == {
        claims[0].id: ["false"],
        claims[1].id: ["true"],
        claims[2].id: ["mostly-true"],
    }
    assert sources == {"desk", "archive"}


def test_export_csv_is_the_services_streamed_export_and_jsonl_pages_through_lists(
    live_service: LiveService, outlet: str, tmp_path: Path
) -> None:
    with Client(live_service.url, live_service.admin_key) as client:
        ids = [
            client.claims_create({"outlet_slug": outlet, "text": f"export\n{n}"}).id
            for n in range(3)
        ]
        every_claim = {c.id for c in client.claims_list()}
        every_outlet = {o.slug for o in client.outlets_list(include_archived=True)}

    as_csv = live_service.credscore("remote", "export", "claims")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout, newline="")))
    assert {int(row["id"]) for row in rows} == every_claim
    # Texts that span lines are one record each, and counted so.
    assert f"exported {len(every_claim)} claims" in as_csv.stderr

    target = tmp_path / "scores.csv"
    one_outlet = live_service.credscore(
        "remote",
        "export",
        "scores",
        "--outlet",
        outlet,
        "--since",
        "2000-01-01T00:00:00Z",
        "-o",
        str(target),
    )
    assert one_outlet.returncode == 0, one_outlet.stderr
    with target.open(newline="") as exported:
        scores = list(csv.DictReader(exported))
    assert {int(row["claim_id"]) for row in scores if row["subject"] == "claim"} == set(ids)
    assert {row["outlet_slug"] for row in scores} == {outlet}
    assert all(0 <= float(row["probability"]) <= 1 for row in scores)

    jsonl_target = tmp_path / "outlets.jsonl"
    as_jsonl = live_service.credscore(
        "remote",
        "export",
        "outlets",
        "--format",
        "jsonl",
        "-o",
        str(jsonl_target),
        "--page-size",
        "1",
    )
    assert as_jsonl.returncode == 0, as_jsonl.stderr
    outlets = [json.loads(line) for line in jsonl_target.read_text().splitlines()]
    assert {o["slug"] for o in outlets} == every_outlet
    assert "methodology" in outlets[0]["transparency"]

    current = live_service.credscore("remote", "export", "scores", "--format", "jsonl")
    documents = [json.loads(line) for line in current.stdout.splitlines()]
    assert {d["claim_id"] for d in documents} == every_claim

    refused = live_service.credscore("remote", "export", "claims", "--outlet", "no-such-outlet")
    assert refused.returncode == 1
    assert "error: 404" in refused.stderr


def test_import_outlets_dry_run_then_for_real_and_verdicts_from_stdin(
    live_service: LiveService, outlet: str, tmp_path: Path
) -> None:
    slug = f"cli-import-{uuid.uuid4().hex[:8]}"
    table = tmp_path / "outlets.tsv"
    table.write_text(f"slug\tname\tkind\turl\n{slug}\tImported\twire\thttps://{slug}.example\n")
    dry = live_service.credscore("remote", "import", "outlets", str(table), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["dry_run"], report["created"], report["ignored_columns"]) == (True, 1, [])
    done = live_service.credscore("remote", "import", "outlets", str(table))
    assert json.loads(done.stdout)["created"] == 1
    with Client(live_service.url, live_service.admin_key) as client:
        assert client.outlets_get(slug).url == f"https://{slug}.example"
        claim = client.claims_create(
            {"outlet_slug": slug, "text": "imported", "published_at": "2024-01-01T00:00:00Z"}
        )

    verdicts = f"claim_id,rating,source,decided_at\n{claim.id},Pants on Fire,desk,2024-02-01\n"
    recorded = live_service.credscore(
        "remote", "import", "verdicts", "-", "--content-type", "text/csv", stdin=verdicts
    )
    assert recorded.returncode == 0, recorded.stderr
    assert json.loads(recorded.stdout)["verdicts_created"] == 1

    refused = live_service.credscore(
        "remote",
        "import",
        "verdicts",
        "-",
        "--content-type",
        "text/csv",
        stdin=f"claim_id,rating,source,decided_at\n{claim.id},Sort of,desk,2024-03-01\n",
    )
    assert refused.returncode == 1
    assert "error: 422" in refused.stderr
    assert "row 2 rating: unknown rating 'Sort of'" in refused.stderr
    assert refused.stdout == ""


def test_an_unreachable_service_is_one_clear_error(live_service: LiveService) -> None:
    result = live_service.credscore("remote", "--url", "http://127.0.0.1:9", "export", "claims")
    assert result.returncode == 1
    assert "error: cannot reach the service at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_key_is_one_clear_error(live_service: LiveService) -> None:
    result = live_service.credscore(
        "remote", "--api-key", "wrong", "export", "claims", "--format", "jsonl"
    )
    assert result.returncode == 1
    assert "error: 401" in result.stderr
