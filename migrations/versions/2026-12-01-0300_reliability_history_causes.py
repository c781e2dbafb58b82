"""Reliability history explains itself: what caused each outlet score, and the date of its evidence.

``cause`` is one of verdict (a verdict on this outlet), kind_prior (verdicts or records of other
outlets of its kind moved its prior), record (its record was edited) and time_decay (only time
passed); ``evidence_at`` is the date of the evidence that caused it, which the history chart
plots against (a record of 2015-17 imported today belongs in 2015-17). Claim scores keep
both null. Outlet scores stored before are given the cause their trigger names and, lacking
anything better, their ``as_of`` as evidence time.

Revision ID: 0008_reliability_history_causes
Revises: 0005_independent_evidence
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.database.types

revision: str = "0008_reliability_history_causes"
down_revision: str | None = "0007_import_export"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "evidence_at", service.database.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute(
        "UPDATE scores SET evidence_at = as_of, cause = CASE "
        "WHEN trigger LIKE 'record.%' THEN 'record' ELSE 'verdict' END "
        "WHERE subject = 'outlet'"
    )


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_column("evidence_at")
        batch_op.drop_column("cause")
