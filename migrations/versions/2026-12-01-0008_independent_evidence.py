"""Independent evidence: consensus statuses explained, learned outlet dependence, Admiralty codes.

The consensus gains its competing figures (contested events), the dependent groups it
discounted, the learned tolerance, its supporting outlets and an explanation; scores gain their
Admiralty code; ``outlet_dependencies`` holds the learned copy partners of each outlet. Events
without any claim are marked ``no_reports`` (the status a consensus of no figures has).

Revision ID: 0005_independent_evidence
Revises: 0004_unique_active_key_names
Create Date: 2026-12-01 00:08:15.168175
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.database.types

revision: str = "0005_independent_evidence"
down_revision: str | None = "0004_unique_active_key_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outlet_dependencies",
        sa.Column("first_outlet_id", sa.Integer(), nullable=False),
        sa.Column("second_outlet_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("first_copies", sa.Float(), nullable=False),
        sa.Column("common_events", sa.Integer(), nullable=False),
        sa.Column("updated_at", service.database.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "first_outlet_id < second_outlet_id",
            name=op.f("ck_outlet_dependencies_ordered_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["first_outlet_id"],
            ["outlets.id"],
            name=op.f("fk_outlet_dependencies_first_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["second_outlet_id"],
            ["outlets.id"],
            name=op.f("fk_outlet_dependencies_second_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlet_dependencies")),
        sa.UniqueConstraint(
            "first_outlet_id",
            "second_outlet_id",
            name=op.f("uq_outlet_dependencies_first_outlet_id_second_outlet_id"),
        ),
    )
    with op.batch_alter_table("outlet_dependencies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outlet_dependencies_second_outlet_id", ["second_outlet_id"], unique=False
        )

    with op.batch_alter_table("event_consensus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("competing", _json(), nullable=True))
        batch_op.add_column(sa.Column("dependent_groups", _json(), nullable=True))
        batch_op.add_column(sa.Column("supporting", _json(), nullable=True))
        batch_op.add_column(sa.Column("tolerance", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("explanation", _json(), nullable=True))

    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admiralty", _json(), nullable=True))

    op.execute(
        "UPDATE events SET consensus_status = 'no_reports' "
        "WHERE consensus_status IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM claims WHERE claims.event_id = events.id)"
    )


def downgrade() -> None:
    op.execute("UPDATE events SET consensus_status = NULL WHERE consensus_status = 'no_reports'")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_column("admiralty")

    with op.batch_alter_table("event_consensus", schema=None) as batch_op:
        batch_op.drop_column("explanation")
        batch_op.drop_column("tolerance")
        batch_op.drop_column("supporting")
        batch_op.drop_column("dependent_groups")
        batch_op.drop_column("competing")

    with op.batch_alter_table("outlet_dependencies", schema=None) as batch_op:
        batch_op.drop_index("ix_outlet_dependencies_second_outlet_id")

    op.drop_table("outlet_dependencies")
