"""Consensus history per event, durable background jobs, syndicated copies and outlet owners.

Revision ID: 0002_consensus_and_jobs
Revises: 0001_initial
Create Date: 2026-11-25 00:33:43.328245
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.database.types

revision: str = "0002_consensus_and_jobs"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_status_kind_target", ["status", "kind", "target_id"], unique=False
        )

    op.create_table(
        "event_consensus",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("method_version", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("estimate_label", sa.String(length=300), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("independent_reports", sa.Integer(), nullable=False),
        sa.Column(
            "claims",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "sources",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_consensus_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_consensus")),
    )
    with op.batch_alter_table("event_consensus", schema=None) as batch_op:
        batch_op.create_index("ix_event_consensus_event_id_id", ["event_id", "id"], unique=False)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_of_claim_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "score_stale_since",
                service.database.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_claims_copy_of_claim_id_claims"), "claims", ["copy_of_claim_id"], ["id"]
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consensus_status", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "consensus_stale_since",
                service.database.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_events_consensus_status"), ["consensus_status"], unique=False
        )

    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("owner")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_consensus_status"))
        batch_op.drop_column("consensus_stale_since")
        batch_op.drop_column("consensus_status")

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_claims_copy_of_claim_id_claims"), type_="foreignkey"
        )
        batch_op.drop_column("score_stale_since")
        batch_op.drop_column("copy_of_claim_id")

    with op.batch_alter_table("event_consensus", schema=None) as batch_op:
        batch_op.drop_index("ix_event_consensus_event_id_id")

    op.drop_table("event_consensus")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_kind_target")

    op.drop_table("jobs")
