"""The service's one settings class: every knob, read from CREDSCORE_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDSCORE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///./credscore.db",
        description="SQLAlchemy URL: sqlite:///PATH (default) or postgresql://USER@HOST/DB.",
    )
    database_pool_size: int = Field(default=20, ge=1, le=200)
    database_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    log_level: LogLevel = "INFO"
    access_log: bool = True
    # Serve plain POST /v1/score and /v1/claims without FastAPI's per-request machinery
    # (service/claims/fast_path.py); off sends every request through the routes.
    fast_path: bool = True

    max_body_bytes: int = Field(default=2_000_000, ge=1_024)
    max_batch_claims: int = Field(default=1_000, ge=1, le=10_000)
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=500, ge=1)
    max_claim_text_chars: int = Field(default=10_000, ge=1)
    # Published-at timestamps further ahead than this are refused as clock errors.
    max_future_skew_seconds: int = Field(default=300, ge=0)

    half_life_days: float = Field(default=730.0, gt=0)
    prior_strength: float = Field(default=4.0, gt=0)
    credible_level: float = Field(default=0.90, gt=0, lt=1)
    min_rated_evidence: float = Field(default=1.0, ge=0)

    # The background worker (re-scoring, reconciliation) runs in every API process.
    jobs_enabled: bool = True
    jobs_poll_seconds: float = Field(default=2.0, gt=0)

    # Push (service/push/): webhook deliveries run with the background worker (jobs_enabled).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    # The n-th retry waits about base * 2**(n-1) seconds (jittered), at most webhook_retry_max.
    webhook_retry_base_seconds: float = Field(default=5.0, ge=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, ge=0)
    # A subscription whose deliveries fail this many times in a row is disabled.
    webhook_disable_after_failures: int = Field(default=20, ge=1)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    # How often the outbox is read when nothing woke its readers (another replica's change on
    # SQLite, or a lost PostgreSQL notification).
    push_poll_seconds: float = Field(default=2.0, gt=0)
    # SSE: keep-alive comment interval, and how many undelivered events a slow stream may hold
    # before it is closed (the client resumes with Last-Event-ID).
    stream_ping_seconds: float = Field(default=15.0, gt=0)
    stream_queue_size: int = Field(default=1_000, ge=1)
    # The background worker deletes finished webhook deliveries and outbox rows older than this
    # (docs/push.md, "Retention"); a stream resuming from before them is told of the gap.
    push_retention_days: float = Field(default=30.0, gt=0)

    # Tests and demos only: hold a training run this long before it reads any data.
    training_delay_seconds: float = Field(default=0.0, ge=0, le=600)

    # Per-key rate limit (token bucket per replica); 0 turns it off.
    rate_limit_per_minute: int = Field(default=0, ge=0)
    rate_limit_burst: int = Field(default=20, ge=1)

    # How often each process re-reads the generation counters (see service/generations.py):
    # the longest another replica's change takes to reach this one.
    cache_refresh_seconds: float = Field(default=1.0, gt=0)

    # A verified API key is trusted this long without asking the database again; revocation
    # reaches other replicas within this window (the replica that revokes forgets at once).
    auth_cache_seconds: float = Field(default=5.0, ge=0)

    # `credscore seed-demo` keeps the demo admin key here (mode 0600), so that running it again
    # (every `make run`) prints the same key instead of revoking the one clients hold.
    demo_key_file: str = ".credscore-demo-key"

    # Imports and exports (docs/import-export.md).
    # A JSON object {"fact-checker's label": "true|mostly-true|mixed|mostly-false|false|
    # unverifiable"} that extends and overrides the built-in rating mapping.
    rating_mapping_file: str | None = None
    # The reviewing organisation named as the author of exported ClaimReviews.
    claimreview_author: str = Field(default="credscore", min_length=1, max_length=200)
    claimreview_author_url: str | None = None
    # Rows per batch of a streamed export (each batch is one short read).
    export_batch_rows: int = Field(default=1_000, ge=1, le=100_000)
    # Largest import body (CSV or JSON-LD); larger uploads get 413.
    max_import_bytes: int = Field(default=50_000_000, ge=1_024)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
