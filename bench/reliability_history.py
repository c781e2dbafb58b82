"""What a verdict's history entries cost: ``record_prior_shift`` over outlets with a history.

Builds a SQLite database by migration with ``--outlets`` outlets (``--kinds`` kinds), one
record item and one history entry each, then times the background job's step that gives every
other outlet whose reliability moved a ``kind_prior`` entry, after one more verdict-sized piece
of evidence on one outlet. Prints the median of ``--repeats`` runs and the entries written.

    .venv/bin/python bench/reliability_history.py [--outlets 1000] [--kinds 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.database.engine import create_engine, create_sessionmaker
from service.migrate import upgrade
from service.outlets.models import Outlet, OutletRecord
from service.scores.history import ReliabilityHistory
from service.scores.schemas import ReliabilityCause
from service.scores.service import ScoringService
from service.scores.track_records import TrackRecordStore, touch_evidence
from service.settings import Settings


async def run(outlets: int, kinds: int, repeats: int, directory: Path) -> None:
    url = f"sqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, jobs_enabled=False, log_level="WARNING")
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    scoring = ScoringService(settings, TrackRecordStore())
    start = datetime(2024, 1, 1, tzinfo=UTC)
    async with sessionmaker() as session:
        rows = [
            Outlet(slug=f"outlet-{i}", name=f"Outlet {i}", kind=f"kind-{i % kinds}")
            for i in range(outlets)
        ]
        session.add_all(rows)
        await session.flush()
        session.add_all(
            OutletRecord(
                outlet_id=outlet.id,
                source="bench",
                as_of=start + timedelta(days=i % 300),
                verified=5 + i % 7,
                refuted=i % 5,
                created_by="bench",
            )
            for i, outlet in enumerate(rows)
        )
        await touch_evidence(session)
        for outlet in rows:
            await ReliabilityHistory(session, scoring).record(
                outlet, trigger="bench", cause=ReliabilityCause.RECORD, evidence_at=None
            )
        await session.commit()
    timings = []
    written = []
    for repeat in range(repeats):
        async with sessionmaker() as session:
            # New evidence on outlet 0, strong enough to move its kind's prior.
            session.add(
                OutletRecord(
                    outlet_id=rows[0].id,
                    source=f"bench-{repeat}",
                    as_of=start + timedelta(days=400 + repeat),
                    verified=0,
                    refuted=40,
                    created_by="bench",
                )
            )
            await touch_evidence(session)
            await scoring.track_record(session, rows[0], datetime.now(UTC))  # snapshot catch-up
            began = time.perf_counter()
            count = await ReliabilityHistory(session, scoring).record_prior_shift(
                exclude_outlet_id=rows[0].id, trigger="bench"
            )
            timings.append(time.perf_counter() - began)
            written.append(count)
            await session.commit()
    await engine.dispose()
    print(
        f"record_prior_shift over {outlets} outlets with a history ({kinds} kinds): "
        f"median {statistics.median(timings) * 1000:.1f} ms over {repeats} runs; "
        f"entries written per run: {written}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=1000)
    parser.add_argument("--kinds", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(args.outlets, args.kinds, args.repeats, Path(directory)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
