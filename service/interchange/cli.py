"""`credscore import ...` and `credscore export ...`: the same imports and exports as the API,
run on the database directly (audited as the ``cli`` actor), with progress on stderr."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.settings import Settings

EXPORT_CHOICES = ("outlets", "claims", "scores", "claimreviews")


def _console() -> Console:
    return Console(stderr=True)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_errors(console: Console, detail: str, errors: list[Any] | None) -> None:
    console.print(f"[red]{detail}[/red]", highlight=False)
    for error in errors or []:
        where = " ".join(str(part) for part in error.loc)
        console.print(f"  {where}: {error.message}", highlight=False, markup=False)


async def _run_import(
    settings: Settings,
    work: Callable[[Any, Any, Callable[[int], None]], Awaitable[Any]],
    *,
    description: str,
    total: int,
    rescore: bool,
) -> int:
    from service.database.engine import create_engine, create_sessionmaker
    from service.errors import InvalidInput
    from service.jobs.handlers import job_runner
    from service.scores.service import ScoringService
    from service.scores.track_records import TrackRecordStore

    console = _console()
    scoring = ScoringService(settings, TrackRecordStore())
    engine = create_engine(settings)
    try:
        sessionmaker = create_sessionmaker(engine)
        with _progress(console) as progress:
            task = progress.add_task(description, total=total)

            def advance(done: int) -> None:
                progress.update(task, completed=min(done, total))

            async with sessionmaker() as session:
                try:
                    report = await work(session, scoring, advance)
                except InvalidInput as exc:
                    await session.rollback()
                    progress.stop()
                    _print_errors(console, exc.detail, exc.errors)
                    return 1
                await session.commit()
            progress.update(task, completed=total)
        print(report.model_dump_json(indent=2), flush=True)
        if rescore and not report.dry_run:
            ran = await job_runner(sessionmaker, scoring).drain()
            console.print(f"ran {ran} background job(s) (re-scoring, event consensus)")
        return 0
    finally:
        await engine.dispose()


def _read(path: str) -> str:
    return (sys.stdin if path == "-" else Path(path).open(encoding="utf-8-sig")).read()


def cmd_import_outlets(args: argparse.Namespace, settings: Settings) -> int:
    from service.interchange.formats import read_table
    from service.interchange.service import ImportService

    table = read_table(_read(args.file))

    async def work(session: Any, scoring: Any, advance: Callable[[int], None]) -> Any:
        return await ImportService(session, scoring, settings).import_outlets(
            table, dry_run=args.dry_run, actor=None, request_id=None, progress=advance
        )

    return asyncio.run(
        _run_import(
            settings, work, description="outlets", total=len(table.rows), rescore=args.rescore
        )
    )


def cmd_import_verdicts(args: argparse.Namespace, settings: Settings) -> int:
    from service.interchange.formats import parse_verdicts
    from service.interchange.ratings import RatingMapping
    from service.interchange.service import ImportService

    try:
        mapping = RatingMapping.load(args.rating_mapping or settings.rating_mapping_file)
    except ValueError as exc:
        _console().print(f"[red]{exc}[/red]")
        return 2
    text = _read(args.file)
    media_type = "application/ld+json" if args.file.endswith((".json", ".jsonld")) else None
    items, errors = parse_verdicts(text, media_type, mapping)

    async def work(session: Any, scoring: Any, advance: Callable[[int], None]) -> Any:
        return await ImportService(session, scoring, settings).import_verdicts(
            items,
            dry_run=args.dry_run,
            actor=None,
            request_id=None,
            parse_errors=errors,
            progress=advance,
        )

    return asyncio.run(
        _run_import(settings, work, description="verdicts", total=len(items), rescore=args.rescore)
    )


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from service.database.engine import create_engine, create_sessionmaker
    from service.errors import CredscoreError
    from service.interchange.exports import claimreview_lines, csv_export
    from service.outlets.service import OutletService
    from service.scores.service import ScoringService
    from service.scores.track_records import TrackRecordStore

    since = datetime.fromisoformat(args.since) if args.since else None
    if since is not None and since.tzinfo is None:
        _console().print("[red]--since needs a UTC offset, e.g. 2024-01-01T00:00:00Z[/red]")
        return 2

    async def run(out: TextIO) -> int:
        engine = create_engine(settings)
        try:
            sessionmaker = create_sessionmaker(engine)
            outlet_id = None
            if args.outlet:
                async with sessionmaker() as session:
                    scoring = ScoringService(settings, TrackRecordStore())
                    try:
                        outlet_id = (await OutletService(session, scoring).get(args.outlet)).id
                    except CredscoreError as exc:
                        _console().print(f"[red]{exc.detail}[/red]")
                        return 1
            chunks: AsyncIterator[str]
            if args.kind == "claimreviews":
                chunks = _decoded(
                    claimreview_lines(
                        sessionmaker,
                        settings,
                        base_url=args.base_url.rstrip("/") + "/",
                        outlet_id=outlet_id,
                        since=since,
                        batch_rows=settings.export_batch_rows,
                    )
                )
            else:
                chunks = csv_export(
                    sessionmaker,
                    args.kind,
                    outlet_id=outlet_id,
                    since=since,
                    batch_rows=settings.export_batch_rows,
                )
            async for chunk in chunks:
                out.write(chunk)
            out.flush()
            return 0
        finally:
            await engine.dispose()

    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            return asyncio.run(run(out))
    return asyncio.run(run(sys.stdout))


async def _decoded(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    async for chunk in chunks:
        yield chunk.decode()


def add_interchange_commands(subparsers: Any) -> None:
    importer = subparsers.add_parser(
        "import", help="import outlets (CSV/TSV) or verdicts (CSV or ClaimReview JSON-LD)"
    )
    kinds = importer.add_subparsers(dest="import_kind", required=True)
    outlets = kinds.add_parser("outlets", help="create or update outlets from a CSV/TSV file")
    verdicts = kinds.add_parser(
        "verdicts", help="record verdicts from CSV or ClaimReview JSON-LD (.json/.jsonld)"
    )
    verdicts.add_argument(
        "--rating-mapping",
        help="JSON file {label: rating} extending the built-in rating mapping "
        "(default: CREDSCORE_RATING_MAPPING_FILE)",
    )
    for parser, handler in ((outlets, cmd_import_outlets), (verdicts, cmd_import_verdicts)):
        parser.add_argument("file", help="the file ('-': standard input)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; store nothing"
        )
        parser.add_argument(
            "--rescore",
            action="store_true",
            help="run the queued re-scoring here and now (else a running server's worker does)",
        )
        parser.set_defaults(handler=handler)

    exporter = subparsers.add_parser(
        "export", help="export outlets, claims or scores as CSV, or verdicts as ClaimReview lines"
    )
    exporter.add_argument("kind", choices=EXPORT_CHOICES)
    exporter.add_argument("--outlet", help="only this outlet (id or slug)")
    exporter.add_argument("--since", help="only rows from this moment on (ISO 8601 with offset)")
    exporter.add_argument("--output", "-o", help="write here instead of standard output")
    exporter.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000/",
        help="the service's public address, for the url of reviews that have none",
    )
    exporter.set_defaults(handler=cmd_export)
