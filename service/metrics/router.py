"""GET /metrics: Prometheus text format, for the people who run the service.

Not behind an API key (Prometheus scrapes without one): operators keep it off the public
listener (docs/push.md shows how).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Metric,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.database.types import utcnow
from service.dependencies import ContextDep
from service.jobs.models import Job
from service.push.models import WebhookDelivery

router = APIRouter(tags=["metrics"])

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class QueueCollector(Collector):
    """Figures read from the database at scrape time (the same for every worker)."""

    def __init__(self, jobs_pending: int, oldest_job_seconds: float, deliveries_due: int) -> None:
        self.values = (jobs_pending, oldest_job_seconds, deliveries_due)

    def collect(self) -> Iterator[Metric]:
        jobs_pending, oldest_job_seconds, deliveries_due = self.values
        yield GaugeMetricFamily(
            "credscore_jobs_pending", "Background jobs queued and not yet run.", jobs_pending
        )
        yield GaugeMetricFamily(
            "credscore_jobs_oldest_pending_age_seconds",
            "Age of the oldest queued background job (0 with none queued).",
            oldest_job_seconds,
        )
        yield GaugeMetricFamily(
            "credscore_webhook_deliveries_pending",
            "Webhook deliveries not yet sent or waiting for a retry.",
            deliveries_due,
        )


async def queue_collector(sessionmaker: async_sessionmaker[AsyncSession]) -> QueueCollector:
    async with sessionmaker() as session:
        count, oldest = (
            await session.execute(
                select(func.count(Job.id), func.min(Job.created_at)).where(Job.status == "pending")
            )
        ).one()
        deliveries = await session.scalar(
            select(func.count(WebhookDelivery.id)).where(WebhookDelivery.status == "pending")
        )
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return QueueCollector(int(count), max(age, 0.0), int(deliveries or 0))


def process_registry() -> CollectorRegistry:
    """Every worker's samples (multiprocess mode) or this process's own."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def forget_process_metrics() -> None:
    """Multiprocess mode: drop this stopping process's live gauges (stream subscribers)."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
    summary="Prometheus metrics (no API key: serve it on an internal listener only)",
)
async def scrape(context: ContextDep) -> Response:
    scraped = CollectorRegistry()
    scraped.register(await queue_collector(context.sessionmaker))
    body = generate_latest(process_registry()) + generate_latest(scraped)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
