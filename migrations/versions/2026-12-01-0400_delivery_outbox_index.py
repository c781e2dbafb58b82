"""An index on webhook_deliveries.outbox_id, for push retention.

Retention deletes outbox rows no delivery references; every such delete makes the database
check the foreign key from webhook_deliveries, which without this index reads the whole table
once per deleted row.

Revision ID: 0009_delivery_outbox_index
Revises: 0008_reliability_history_causes
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_delivery_outbox_index"
down_revision: str | None = "0008_reliability_history_causes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_outbox_id", ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_outbox_id")
