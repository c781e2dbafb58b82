"""Model registry: trained claim models with artifacts and metrics; scores name their model.

Revision ID: 0003_model_registry
Revises: 0002_consensus_and_jobs
Create Date: 2026-11-25 00:44:04.540267
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.database.types

revision: str = "0003_model_registry"
down_revision: str | None = "0002_consensus_and_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("progress_message", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("n_train", sa.Integer(), nullable=True),
        sa.Column("data_from", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data_to", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("python_version", sa.String(length=40), nullable=True),
        sa.Column("sklearn_version", sa.String(length=40), nullable=True),
        sa.Column("numpy_version", sa.String(length=40), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("artifact", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", service.database.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_model_versions_version")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_status"), ["status"], unique=False)

    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_scores_model_version_id_model_versions"),
            "model_versions",
            ["model_version_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_scores_model_version_id_model_versions"), type_="foreignkey"
        )
        batch_op.drop_column("model_version_id")

    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_status"))

    op.drop_table("model_versions")
