"""`credscore remote ...`: commands that act on a running service through the client.

    credscore remote claims submit FILE        (CSV or JSON lines; progress bar, per-row errors)
    credscore remote verdicts record CLAIM_ID RATING --source S   |   --file VERDICTS.csv
    credscore remote export claims|outlets|scores --format csv|jsonl [--output FILE]
    credscore remote import outlets|verdicts FILE [--dry-run]

--url and --api-key default to $CREDSCORE_URL and $CREDSCORE_API_KEY.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from pydantic import ValidationError

from credscore_client.client import DEFAULT_URL, Client
from credscore_client.errors import CredscoreError
from credscore_client.models import VerdictCreate

# CSV columns of a claim that are parts of its figure, or whole numbers.
FIGURE_COLUMNS = ("value", "low", "high", "unit")
ID_COLUMNS = ("outlet_id", "event_id", "copy_of_claim_id")


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_remote_commands(subparsers: Any) -> None:
    remote = subparsers.add_parser(
        "remote", help="act on a running service through the Python client"
    )
    remote.add_argument(
        "--url",
        default=os.environ.get("CREDSCORE_URL", DEFAULT_URL),
        help="the service's base URL (default: $CREDSCORE_URL or %(default)s)",
    )
    remote.add_argument(
        "--api-key",
        default=os.environ.get("CREDSCORE_API_KEY"),
        help="an API key (default: $CREDSCORE_API_KEY)",
    )
    remote.set_defaults(handler=run)
    targets = remote.add_subparsers(dest="remote_target", required=True)

    claims = targets.add_parser("claims", help="submit claims")
    claims_commands = claims.add_subparsers(dest="claims_command", required=True)
    submit = claims_commands.add_parser(
        "submit",
        help="submit every claim of a CSV (header: outlet_slug or outlet_id, text, "
        "published_at, event_id, topic, value, low, high, unit, copy_of_claim_id) or "
        "JSON-lines file (one claim object a line); '-' reads stdin",
    )
    submit.add_argument("file")
    submit.add_argument(
        "--format", choices=("csv", "jsonl"), help="default: from the file's extension"
    )
    submit.set_defaults(remote_command=cmd_submit_claims)

    verdicts = targets.add_parser("verdicts", help="record verdicts")
    verdicts_commands = verdicts.add_subparsers(dest="verdicts_command", required=True)
    record = verdicts_commands.add_parser(
        "record",
        help="record one verdict (CLAIM_ID RATING --source S), or every row of --file "
        "(CSV header: claim_id, rating, source, decided_at, note)",
    )
    record.add_argument("claim_id", nargs="?", type=int)
    record.add_argument(
        "rating",
        nargs="?",
        help="true, mostly-true, mixed, mostly-false, false or unverifiable",
    )
    record.add_argument("--source", help="who decided (default for the file's rows)")
    record.add_argument("--decided-at", help="ISO 8601 time, e.g. 2017-09-01T12:00:00Z")
    record.add_argument("--note")
    record.add_argument("--file", help="a CSV of verdicts")
    record.set_defaults(remote_command=cmd_record_verdicts)

    export = targets.add_parser(
        "export",
        help="write every claim, outlet or score: CSV streamed by the service "
        "(GET /v1/export/{what}.csv: every score, history included), or JSON lines paged "
        "through the lists (scores: each claim's current score)",
    )
    export.add_argument("what", choices=tuple(EXPORTS))
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--output", "-o", help="a file (default: stdout)")
    export.add_argument("--page-size", type=int, default=500, help="JSON lines: items a page")
    export.add_argument("--outlet", help="CSV: only this outlet's rows (id or slug)")
    export.add_argument(
        "--since", type=datetime.fromisoformat, help="CSV: only rows from this time (ISO 8601)"
    )
    export.set_defaults(remote_command=cmd_export)

    imports = targets.add_parser(
        "import",
        help="upload an outlet list (CSV/TSV) or verdicts (CSV, ClaimReview JSON-LD) to the "
        "service's import (all or nothing); prints the report as JSON",
    )
    imports.add_argument("what", choices=("outlets", "verdicts"))
    imports.add_argument("file", help="the file ('-': stdin); its extension gives its type")
    imports.add_argument(
        "--dry-run", action="store_true", help="report what would change, store nothing"
    )
    imports.add_argument(
        "--content-type", help="default: from the extension (.csv, .tsv, .json, .jsonld)"
    )
    imports.set_defaults(remote_command=cmd_import)


def run(args: argparse.Namespace, settings: object = None) -> int:
    """The `remote` commands' handler (the service's settings play no part: only the URL)."""
    handler: Callable[[argparse.Namespace, Client], int] = args.remote_command
    with Client(args.url, args.api_key) as client:
        try:
            return handler(args, client)
        except CredscoreError as exc:
            _err(f"error: {exc}")
            return 1
        except httpx.TransportError as exc:
            _err(f"error: cannot reach the service at {args.url}: {exc}")
            return 1
        except BrokenPipeError:
            # The reader stopped early (`... | head`): quietly, without a traceback at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1


# -- rows and their outcomes -----------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to the rows of a file: one error message per failed row (by line)."""

    done: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def report(self, noun: str) -> int:
        if self.errors:
            from rich.console import Console
            from rich.table import Table

            table = Table("line", "error", title=f"{len(self.errors)} {noun} refused")
            for line, message in self.errors:
                table.add_row(str(line), message)
            Console(stderr=True).print(table)
        _err(f"{noun}: {self.done} recorded, {len(self.errors)} refused")
        return 1 if self.errors else 0


def _describe(exc: Exception) -> str:
    if isinstance(exc, CredscoreError):
        fields = "; ".join(
            f"{'.'.join(str(part) for part in error.get('loc', [])[1:])}: {error.get('message')}"
            for error in exc.errors
        )
        return f"{exc.status} {exc.detail}" + (f" ({fields})" if fields else "")
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
    return str(exc)


def _open_text(name: str, stack: ExitStack) -> IO[str]:
    if name == "-":
        return sys.stdin
    return stack.enter_context(Path(name).open(newline="", encoding="utf-8"))


def _csv_rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(handle)
    for row in reader:
        # Empty cells are absent fields, not empty strings.
        yield reader.line_num, {k: v for k, v in row.items() if k and v not in ("", None)}


def _jsonl_rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, start=1):
        if line.strip():
            try:
                document = json.loads(line)
            except ValueError as exc:
                document = {"_error": f"not JSON: {exc}"}
            yield number, document if isinstance(document, dict) else {"_error": "not an object"}


def claim_from_csv(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as a claim document: figure columns nested, id columns as numbers."""
    claim = {k: v for k, v in row.items() if k not in FIGURE_COLUMNS}
    for name in ID_COLUMNS:
        if name in claim:
            claim[name] = int(claim[name]) if str(claim[name]).isdigit() else claim[name]
    figure: dict[str, Any] = {
        name: (row[name] if name == "unit" else _number(name, row[name]))
        for name in FIGURE_COLUMNS
        if name in row
    }
    if figure:
        claim["figure"] = figure
    return claim


def _number(column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{column}: not a number: {text!r}") from None


def _file_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    return "jsonl" if args.file.endswith((".jsonl", ".ndjson", ".json")) else "csv"


def each_row(
    rows: list[tuple[int, dict[str, Any]]],
    noun: str,
    send: Callable[[int, dict[str, Any]], int],
) -> int:
    """Send each row with a progress bar (stderr), print each stored id (stdout), then the
    refused rows by line and a summary; 1 if any row was refused. A key the service does not
    accept (401, 403) stops the run: no other row could fare better."""
    from rich.console import Console
    from rich.progress import track

    outcome = Outcome()
    progress = track(
        rows, description=f"{noun}: {len(rows)}", console=Console(stderr=True), transient=True
    )
    for line, row in progress:
        try:
            stored_id = send(line, row)
        except (CredscoreError, ValidationError, ValueError) as exc:
            if isinstance(exc, CredscoreError) and exc.status in (401, 403):
                raise
            outcome.errors.append((line, _describe(exc)))
            continue
        outcome.done += 1
        print(stored_id, flush=True)
    return outcome.report(noun)


# -- commands ----------------------------------------------------------------------------------


def cmd_submit_claims(args: argparse.Namespace, client: Client) -> int:
    jsonl = _file_format(args) == "jsonl"
    with ExitStack() as stack:
        handle = _open_text(args.file, stack)
        rows = list(_jsonl_rows(handle) if jsonl else _csv_rows(handle))
    origin = "stdin" if args.file == "-" else str(Path(args.file).resolve())

    def submit(line: int, row: dict[str, Any]) -> int:
        if "_error" in row:
            raise ValueError(row["_error"])
        # The same row of the same file always sends the same key: submitting a file again
        # (after an interruption) stores none of its claims twice.
        key = hashlib.sha256(f"{origin}:{line}:{json.dumps(row, sort_keys=True)}".encode())
        claim = row if jsonl else claim_from_csv(row)
        return client.claims_create(claim, idempotency_key=key.hexdigest()).id

    return each_row(rows, "claims", submit)


def cmd_record_verdicts(args: argparse.Namespace, client: Client) -> int:
    if args.file is None:
        if args.claim_id is None or args.rating is None or args.source is None:
            _err("give CLAIM_ID RATING --source SOURCE, or --file FILE")
            return 2
        verdict = VerdictCreate.model_validate(
            {"rating": args.rating, "source": args.source}
            | ({"decided_at": args.decided_at} if args.decided_at else {})
            | ({"note": args.note} if args.note else {})
        )
        recorded = client.verdicts_record(args.claim_id, verdict)
        _err(
            f"recorded {recorded.rating} on claim {recorded.claim_id}; outlet reliability now "
            f"{recorded.outlet_reliability.probability:.3f} ({recorded.outlet_reliability.grade})"
        )
        print(recorded.id, flush=True)
        return 0
    with ExitStack() as stack:
        rows = list(_csv_rows(_open_text(args.file, stack)))

    def record(line: int, row: dict[str, Any]) -> int:
        claim_id = int(row.pop("claim_id", ""))
        if args.source and "source" not in row:
            row["source"] = args.source
        return client.verdicts_record(claim_id, row).id

    return each_row(rows, "verdicts", record)


@dataclass(frozen=True)
class Export:
    """What a JSON-lines export pages through, and each item's document (None: skipped)."""

    items: Callable[[Client, int], Iterator[Any]]
    document: Callable[[Any], dict[str, Any] | None]


EXPORTS: dict[str, Export] = {
    "claims": Export(
        lambda client, size: client.claims_list(limit=size),
        lambda claim: claim.model_dump(mode="json"),
    ),
    "outlets": Export(
        lambda client, size: client.outlets_list(limit=size, include_archived=True),
        lambda outlet: outlet.model_dump(mode="json"),
    ),
    "scores": Export(
        lambda client, size: client.claims_list(limit=size),
        lambda claim: (
            {"claim_id": claim.id} | claim.score.model_dump(mode="json") if claim.score else None
        ),
    ),
}


def cmd_export(args: argparse.Namespace, client: Client) -> int:
    if args.format == "jsonl" and (args.outlet or args.since):
        _err("--outlet and --since filter the CSV export only")
        return 2
    with ExitStack() as stack:
        out: IO[str] = (
            stack.enter_context(Path(args.output).open("w", newline="", encoding="utf-8"))
            if args.output
            else sys.stdout
        )
        if args.format == "csv":
            lines = client.export_csv(args.what, outlet=args.outlet, since=args.since)
            # Counted as CSV records, not lines: a quoted text may span lines.
            count = sum(1 for _ in csv.reader(_written(lines, out))) - 1
        else:
            count = 0
            # One page in memory at a time: documents are written as the pages arrive.
            for item in EXPORTS[args.what].items(client, args.page_size):
                document = EXPORTS[args.what].document(item)
                if document is not None:
                    out.write(json.dumps(document, ensure_ascii=False) + "\n")
                    count += 1
        out.flush()
    _err(f"exported {max(count, 0)} {args.what}")
    return 0


def _written(lines: Iterable[str], out: IO[str]) -> Iterator[str]:
    for line in lines:
        out.write(line)
        yield line


def cmd_import(args: argparse.Namespace, client: Client) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file)
    upload = client.outlets_import if args.what == "outlets" else client.verdicts_import
    try:
        report = upload(data, dry_run=args.dry_run, content_type=args.content_type)
    except CredscoreError as exc:
        if not exc.errors:
            raise
        _err(f"error: {exc.status} {exc.detail}")
        for error in exc.errors:
            where = " ".join(str(part) for part in error.get("loc", []))
            _err(f"  {where}: {error.get('message')}")
        return 1
    print(report.model_dump_json(indent=2), flush=True)
    return 0
