"""Initial schema: outlets, their historical records, events, claims, verdicts, scores, keys, audit.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25 00:16:02.575376
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.database.types

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("revoked_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "audit_log",
        sa.Column("at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=80), nullable=False),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_log_subject", ["subject_type", "subject_id", "id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("quantity_kind", sa.String(length=80), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("window_start", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_end", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("topic", sa.String(length=80), nullable=True),
        sa.Column("conflict", sa.String(length=80), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_conflict"), ["conflict"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_topic"), ["topic"], unique=False)

    op.create_table(
        "generations",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_generations")),
    )
    op.create_table(
        "outlets",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "affiliations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "conflict_parties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("on_the_ground", sa.Boolean(), nullable=True),
        sa.Column(
            "transparency",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("archived_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlets")),
        sa.UniqueConstraint("slug", name=op.f("uq_outlets_slug")),
    )
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outlets_kind"), ["kind"], unique=False)

    op.create_table(
        "claims",
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "published_at", service.database.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("topic", sa.String(length=80), nullable=True),
        sa.Column("figure_value", sa.Float(), nullable=True),
        sa.Column("figure_low", sa.Float(), nullable=True),
        sa.Column("figure_high", sa.Float(), nullable=True),
        sa.Column("figure_unit", sa.String(length=40), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("submitted_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_claims_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_claims_outlet_id_outlets")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_claims_submitted_by_key_id_api_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint(
            "submitted_by_key_id",
            "idempotency_key",
            name=op.f("uq_claims_submitted_by_key_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index("ix_claims_event_id_id", ["event_id", "id"], unique=False)
        batch_op.create_index("ix_claims_outlet_id_id", ["outlet_id", "id"], unique=False)
        batch_op.create_index("ix_claims_published_at", ["published_at"], unique=False)
        batch_op.create_index("ix_claims_topic_id", ["topic", "id"], unique=False)

    op.create_table(
        "outlet_records",
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("external_rating", sa.String(length=40), nullable=True),
        sa.Column("verified", sa.Integer(), nullable=False),
        sa.Column("refuted", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("retractions", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("as_of", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "verified >= 0 AND refuted >= 0 AND corrections >= 0 AND retractions >= 0",
            name=op.f("ck_outlet_records_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_outlet_records_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlet_records")),
    )
    with op.batch_alter_table("outlet_records", schema=None) as batch_op:
        batch_op.create_index("ix_outlet_records_outlet_id_id", ["outlet_id", "id"], unique=False)

    op.create_table(
        "scores",
        sa.Column("subject", sa.String(length=10), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=10), nullable=False),
        sa.Column("rated", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("method_version", sa.String(length=80), nullable=False),
        sa.Column("as_of", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("computed_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column(
            "inputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_scores_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_scores_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index("ix_scores_claim_id_id", ["claim_id", "id"], unique=False)
        batch_op.create_index(
            "ix_scores_outlet_id_subject_id", ["outlet_id", "subject", "id"], unique=False
        )

    op.create_table(
        "verdicts",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("decided_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_verdicts_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdicts")),
    )
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.create_index("ix_verdicts_claim_id_id", ["claim_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_index("ix_verdicts_claim_id_id")

    op.drop_table("verdicts")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_outlet_id_subject_id")
        batch_op.drop_index("ix_scores_claim_id_id")

    op.drop_table("scores")
    with op.batch_alter_table("outlet_records", schema=None) as batch_op:
        batch_op.drop_index("ix_outlet_records_outlet_id_id")

    op.drop_table("outlet_records")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_topic_id")
        batch_op.drop_index("ix_claims_published_at")
        batch_op.drop_index("ix_claims_outlet_id_id")
        batch_op.drop_index("ix_claims_event_id_id")

    op.drop_table("claims")
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outlets_kind"))

    op.drop_table("outlets")
    op.drop_table("generations")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_topic"))
        batch_op.drop_index(batch_op.f("ix_events_conflict"))

    op.drop_table("events")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_subject")

    op.drop_table("audit_log")
    op.drop_table("api_keys")
