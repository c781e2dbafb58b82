"""Import and export: web addresses of outlets, claims and verdicts.

Imports match outlets by the host of their address and claims by theirs; a verdict keeps the
address of its published review, so that a ClaimReview exported from the service names it.

Revision ID: 0007_import_export
Revises: 0005_independent_evidence
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_import_export"
down_revision: str | None = "0006_push_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f("ix_outlets_url"), ["url"], unique=False)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=2000), nullable=True))
        batch_op.create_index(batch_op.f("ix_claims_url"), ["url"], unique=False)

    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_column("url")

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_url"))
        batch_op.drop_column("url")

    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outlets_url"))
        batch_op.drop_column("url")
