"""Verdicts at scale: import a fact-checker's archive and time until every score is fresh.

Builds a database of --claims claims (default 100,000) from --outlets outlets, a tenth of the
claims carrying a figure about one of --events events, each claim with a stored score; then
imports --verdicts verdicts (default 10,000, on distinct random claims, matched by their web
address) through the import path (`ImportService.import_verdicts`, as `POST /v1/verdicts/import`
and `credscore import verdicts` run it), commits, and runs the background worker until no job
is pending and no claim or consensus is stale. Prints the import time, the time until fresh
(from the start of the import), the jobs that ran, and checks a sample of the affected open
claims: their stored score equals a fresh computation with everything known now.

    .venv/bin/python bench/bulk_verdicts.py                       # SQLite in a temporary file
    .venv/bin/python bench/bulk_verdicts.py --postgres postgresql://postgres@127.0.0.1/bench_bulk
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.claims.models import Claim
from service.database.engine import create_engine, create_sessionmaker
from service.database.types import utcnow
from service.events.models import Event
from service.interchange.formats import parse_verdicts
from service.interchange.ratings import RatingMapping
from service.interchange.service import ImportService
from service.jobs.handlers import job_runner
from service.jobs.models import Job
from service.migrate import upgrade
from service.outlets.models import Outlet
from service.scores.documents import score_values
from service.scores.models import Score
from service.scores.repository import ScoreRepository
from service.scores.service import ScoringService
from service.scores.track_records import TrackRecordStore
from service.settings import Settings

KINDS = ("wire", "newspaper", "broadcaster", "online", "state_media", "ngo_monitor")
RATINGS = ("True", "Mostly true", "Half true", "Mostly false", "False", "Pants on Fire")
ROWS_PER_INSERT = 5_000


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine as create_sync_engine
    from sqlalchemy.engine import make_url

    target = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_sync_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


async def build(settings: Settings, scoring: ScoringService, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    now = utcnow()
    async with sessionmaker() as session:
        await session.execute(
            insert(Outlet),
            [
                {
                    "slug": f"outlet-{n}",
                    "name": f"Outlet {n}",
                    "kind": KINDS[n % len(KINDS)],
                    "url": f"https://outlet-{n}.example/",
                    "affiliations": [],
                    "conflict_parties": [],
                    "transparency": {},
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(args.outlets)
            ],
        )
        await session.execute(
            insert(Event),
            [
                {
                    "title": f"Event {n}",
                    "unit": "people",
                    "quantity_kind": "killed",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(args.events)
            ],
        )
        outlet_ids = list((await session.execute(select(Outlet.id))).scalars())
        event_ids = list((await session.execute(select(Event.id))).scalars())
        await session.commit()
    outlets = {outlet.id: outlet for outlet in await _outlets(sessionmaker)}
    start = now - timedelta(days=720)
    made = 0
    while made < args.claims:
        size = min(ROWS_PER_INSERT, args.claims - made)
        rows = []
        for offset in range(size):
            number = made + offset
            outlet_id = rng.choice(outlet_ids)
            with_figure = rng.random() < 0.1
            rows.append(
                {
                    "outlet_id": outlet_id,
                    "event_id": rng.choice(event_ids) if with_figure else None,
                    "text": f"Claim {number}: something happened, officials said.",
                    "url": f"https://outlet-{outlet_id}.example/a/{number}",
                    "published_at": start + timedelta(minutes=rng.randrange(0, 600 * 24 * 60)),
                    "figure_value": float(rng.randrange(5, 80)) if with_figure else None,
                    "figure_unit": "people" if with_figure else None,
                    "created_at": now,
                }
            )
        async with sessionmaker() as session:
            ids = list(
                (
                    await session.execute(
                        insert(Claim).returning(Claim.id, sort_by_parameter_order=True), rows
                    )
                ).scalars()
            )
            drafts = list(
                (await session.execute(select(Claim).where(Claim.id.in_(ids)).order_by(Claim.id)))
                .scalars()
                .all()
            )
            computed = await scoring.score_claims(session, drafts, outlets)
            await ScoreRepository(session).insert(
                [
                    score_values(
                        result,
                        subject="claim",
                        outlet_id=claim.outlet_id,
                        claim_id=claim.id,
                        trigger="claim.created",
                    )
                    for claim, result in zip(drafts, computed, strict=True)
                ]
            )
            await session.commit()
        made += size
        _log(f"  {made:,} claims stored and scored")
    await engine.dispose()


async def _outlets(sessionmaker: Any) -> list[Outlet]:
    async with sessionmaker() as session:
        found = list((await session.execute(select(Outlet))).scalars())
        session.expunge_all()
        return found


async def verdict_csv(settings: Settings, args: argparse.Namespace) -> str:
    """A CSV of verdicts on distinct random claims, 30 days after each was published."""
    rng = random.Random(args.seed + 1)
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session:
        rows = (await session.execute(select(Claim.url, Claim.published_at))).all()
    await engine.dispose()
    chosen = rng.sample(rows, args.verdicts)
    lines = ["claim_url,rating,source,decided_at"]
    latest = datetime.now(UTC) - timedelta(minutes=1)
    for url, published_at in chosen:
        decided = min(published_at + timedelta(days=30), latest)
        lines.append(f"{url},{rng.choice(RATINGS)},bench desk,{decided.isoformat()}")
    return "\n".join(lines) + "\n"


async def stale_counts(session: Any) -> tuple[int, int, int]:
    jobs = await session.scalar(
        select(func.count()).select_from(Job).where(Job.status.in_(("pending", "running")))
    )
    claims = await session.scalar(
        select(func.count()).select_from(Claim).where(Claim.score_stale_since.is_not(None))
    )
    events = await session.scalar(
        select(func.count()).select_from(Event).where(Event.consensus_stale_since.is_not(None))
    )
    return int(jobs or 0), int(claims or 0), int(events or 0)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    body = await verdict_csv(settings, args)

    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    scoring = ScoringService(settings, TrackRecordStore())
    # As the service does once started (service/app.py): what lives as long as the process is
    # frozen, so that full collections during the work do not walk it again and again.
    gc.collect()
    gc.freeze()
    import_started = time.perf_counter()
    cpu_started = time.process_time()
    import_moment = utcnow()
    items, errors = parse_verdicts(body, "text/csv", RatingMapping.load(None))
    async with sessionmaker() as session:
        report = await ImportService(session, scoring, settings).import_verdicts(
            items, dry_run=False, actor=None, request_id=None, parse_errors=errors
        )
        await session.commit()
    imported = time.perf_counter() - import_started
    _log(f"imported: {report.model_dump()}")
    async with sessionmaker() as session:
        jobs_queued = (await stale_counts(session))[0]
    runners = [job_runner(sessionmaker, scoring) for _ in range(args.workers)]
    ran = sum(await asyncio.gather(*(runner.drain() for runner in runners)))
    async with sessionmaker() as session:
        pending, stale_claims, stale_events = await stale_counts(session)
    fresh = time.perf_counter() - import_started
    cpu = time.process_time() - cpu_started
    ok = await check_sample(sessionmaker, scoring, import_moment, args)
    await engine.dispose()
    print(
        f"verdicts imported: {report.verdicts_created:,} into {args.claims:,} claims "
        f"({settings.database_url.split(':', 1)[0]}, {args.workers} worker(s))"
    )
    print(f"import (parse, match, insert, queue): {imported:.1f} s")
    print(
        f"jobs queued: {jobs_queued:,} (outlet re-scores, one per outlet); jobs run in all: "
        f"{ran:,} (event reconciliations included)"
    )
    print(f"every affected score and consensus fresh after: {fresh:.1f} s (target < 60 s)")
    print(f"CPU time of this process meanwhile: {cpu:.1f} s (load average: {_load()})")
    print(
        f"left: {pending} pending jobs, {stale_claims} stale claims, {stale_events} stale "
        f"events; sample of re-scored claims equal to a fresh computation: {ok}"
    )
    return 0 if ok and not (pending or stale_claims or stale_events) else 1


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


async def check_sample(
    sessionmaker: Any, scoring: ScoringService, since: datetime, args: argparse.Namespace
) -> bool:
    """Affected open claims carry a score computed after the import that a fresh computation
    (everything known now) repeats."""
    from service.verdicts.models import Verdict

    async with sessionmaker() as session:
        affected = select(Claim.outlet_id).join(Verdict, Verdict.claim_id == Claim.id).distinct()
        has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
        claims = list(
            (
                await session.execute(
                    select(Claim)
                    .where(Claim.outlet_id.in_(affected), ~has_verdict)
                    .order_by(func.random())
                    .limit(args.sample)
                )
            ).scalars()
        )
        outlets = {
            outlet.id: outlet for outlet in (await session.execute(select(Outlet))).scalars()
        }
        latest = await ScoreRepository(session).latest_for_claims([claim.id for claim in claims])
        computed = await scoring.score_claims(session, claims, outlets, as_of=utcnow())
    for claim, result in zip(claims, computed, strict=True):
        stored: Score = latest[claim.id]
        if stored.computed_at < since or abs(stored.probability - result.probability) > 1e-4:
            _log(f"claim {claim.id}: stored {stored.probability} computed {result.probability}")
            return False
    return bool(claims)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--verdicts", type=int, default=10_000)
    parser.add_argument("--outlets", type=int, default=1_066)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=1, help="job runners draining at once")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--postgres", help="a PostgreSQL URL (the database is dropped first)")
    parser.add_argument(
        "--reuse",
        metavar="FILE",
        help="SQLite only: copy the built database from FILE if it exists, else build it and "
        "save a copy there (the build takes minutes; the import and re-scores are what is timed)",
    )
    args = parser.parse_args()
    if args.reuse and args.postgres:
        parser.error("--reuse works with SQLite only")
    with tempfile.TemporaryDirectory() as directory:
        url = args.postgres or f"sqlite:///{directory}/bench.db"
        if args.postgres:
            _reset_postgres(url)
        reused = bool(args.reuse) and Path(args.reuse).exists()
        if reused:
            shutil.copyfile(args.reuse, f"{directory}/bench.db")
            _log(f"database copied from {args.reuse} (built earlier with the same options)")
        upgrade(url)
        settings = Settings(database_url=url, log_level="WARNING", jobs_enabled=False)
        if not reused:
            started = time.perf_counter()
            asyncio.run(build(settings, ScoringService(settings, TrackRecordStore()), args))
            _log(f"built {args.claims:,} claims in {time.perf_counter() - started:.1f} s")
            if args.reuse:
                shutil.copyfile(f"{directory}/bench.db", args.reuse)
        return asyncio.run(run(settings, args))


if __name__ == "__main__":
    sys.exit(main())
