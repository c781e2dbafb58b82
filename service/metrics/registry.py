"""The service's Prometheus metrics, one set per process.

With several workers (``credscore serve --workers N``) each process writes its samples to files
in PROMETHEUS_MULTIPROC_DIR (the supervisor sets it up, service/serving.py) and a scrape of any
worker adds them all up (service/metrics/router.py). prometheus_client reads that variable when
it is first imported, so it must be set before the worker imports this module.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "credscore_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "credscore_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SCORES_COMPUTED = Counter(
    "credscore_scores_computed_total",
    "Claim scores computed (stored, previewed or re-scored), by method and model version.",
    ["method", "model_version"],
)
WEBHOOK_ATTEMPTS = Counter(
    "credscore_webhook_delivery_attempts_total",
    "Webhook delivery attempts, by result (success, failure).",
    ["result"],
)
WEBHOOK_FAILED = Counter(
    "credscore_webhook_deliveries_failed_total",
    "Webhook deliveries given up after their last attempt.",
)
WEBHOOK_DISABLED = Counter(
    "credscore_webhook_subscriptions_disabled_total",
    "Webhook subscriptions disabled after consecutive failures.",
)
PUSH_PRUNED = Counter(
    "credscore_push_pruned_rows_total",
    "Rows deleted by push retention, by table (push_outbox, webhook_deliveries).",
    ["table"],
)
STREAM_SUBSCRIBERS = Gauge(
    "credscore_stream_subscribers",
    "Open GET /v1/stream connections (summed over live worker processes).",
    multiprocess_mode="livesum",
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)
